package syslog

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/siemsync/siemsync"
)

// Fixed parts of every message. They are documented in the README (section "Syslog CEF").
const (
	AppName = "siemsync" // RFC 5424 APP-NAME
	// DefaultFacility is "log audit" (13): PRI = 13*8 + severity.
	DefaultFacility = 13
	// DefaultMaxMessageBytes caps one SYSLOG-MSG (RFC 5425 receivers
	// SHOULD accept 8192 octets; rsyslog's default maxMessageSize is 8k).
	DefaultMaxMessageBytes = 8192
	// MinMaxMessageBytes is the smallest cap accepted: every RFC 5425
	// receiver MUST accept 2048 octets.
	MinMaxMessageBytes = 2048
)

// Signature ids (CEF Device Event Class ID), one per record type and job
// status.
const (
	SigAudit           = "100"
	SigJobScheduled    = "200"
	SigJobInProgress   = "201"
	SigJobSuccessful   = "202"
	SigJobCancelled    = "203"
	SigJobIncomplete   = "204"
	SigJobUnsuccessful = "205"
	SigJobOther        = "299" // a status siemsync does not know (not produced by validated input)
	SigHeartbeat       = "300"
	SigTest            = "900"
)

var jobSig = map[string]string{
	siemsync.JobScheduled:    SigJobScheduled,
	siemsync.JobInProgress:   SigJobInProgress,
	siemsync.JobSuccessful:   SigJobSuccessful,
	siemsync.JobCancelled:    SigJobCancelled,
	siemsync.JobIncomplete:   SigJobIncomplete,
	siemsync.JobUnsuccessful: SigJobUnsuccessful,
}

// SeverityAudit is the key of audit records in Options.Severity; the other
// keys are the job statuses.
const SeverityAudit = siemsync.SeverityAudit

// DefaultSeverity is the CEF severity (0–10) of each record type, shared
// with the min_severity filter of both kinds (siemsync.DefaultSeverity).
// Options.Severity overrides single entries in the CEF header.
var DefaultSeverity = siemsync.DefaultSeverity

const severityTest = 1

// Limits, in characters, of the values of a record (after cleaning, before
// escaping), taken from ArcSight's field lengths (msg as Trend Vision One).
const (
	LimitMsg     = 1000 // msg
	LimitCustom  = 4000 // csN
	LimitName    = 512  // header Name
	LimitVendor  = 63   // header Device Vendor and Device Product
	LimitVersion = 31   // header Device Version
	LimitOther   = 1023 // every other extension value
	LimitIP      = 45   // src, c6a2: the longest IPv6 text without a zone

	// limitNamePrefixBytes bounds the fixed part of the Name ("Job " and
	// a status), which does not give way when the message is too long.
	limitNamePrefixBytes = 64
)

// PRISeverity maps a CEF severity (0–10) to the RFC 5424 severity of the
// PRI: 9–10 critical (2), 7–8 error (3), 4–6 warning (4), 2–3 notice (5),
// 0–1 informational (6).
func PRISeverity(cef int) int {
	switch {
	case cef >= 9:
		return 2
	case cef >= 7:
		return 3
	case cef >= 4:
		return 4
	case cef >= 2:
		return 5
	}
	return 6
}

// extField is one extension value; label, when set, is written as
// <labelKey>=<label> after it (csN/cnN pairs). Fields with an empty value
// are left out with their label.
type extField struct {
	key, val        string
	labelKey, label string
	limit           int // characters
	shrink          int // order in which values give way when the message is too long; 0 never
}

// record is one CEF record and its syslog header, before rendering.
type record struct {
	msgID    string
	ts       time.Time
	host     string
	sig      string
	name     string // fixed prefix of the Name
	nameVar  string // user-controlled rest of the Name
	severity int
	ext      []extField
}

// encoder renders records; it holds the options that do not depend on a
// connection, so Check can use it without a Sink.
type encoder struct {
	vendor, product, version string // cleaned, truncated
	facility                 int
	maxBytes                 int
	hostname                 string
	severity                 map[string]int
	lf                       bool
	sources                  struct{ audit, jobs bool } // data sources sent (all when the integration lists none)
}

func newEncoder(in *siemsync.Integration, o *Options) (*encoder, error) {
	e := &encoder{
		vendor:   truncate(o.Vendor, true, LimitVendor, -1),
		product:  truncate(o.Product, true, LimitVendor, -1),
		version:  truncate(o.Version, true, LimitVersion, -1),
		facility: o.Facility,
		maxBytes: o.MaxMessageBytes,
		hostname: o.Hostname,
		lf:       in.Framing == "lf",
		severity: map[string]int{},
	}
	e.sources.audit = len(in.Sources) == 0 || in.HasSource(siemsync.SourceAudit)
	e.sources.jobs = len(in.Sources) == 0 || in.HasSource(siemsync.SourceJobs)
	for k, v := range DefaultSeverity {
		e.severity[k] = v
	}
	for k, v := range o.Severity {
		if _, ok := DefaultSeverity[k]; !ok {
			return nil, fmt.Errorf("severity: unknown record type %q: use audit or a job status (%v)", k, siemsync.JobStatuses)
		}
		if v < 0 || v > 10 {
			return nil, fmt.Errorf("severity of %s: %d is not a CEF severity from 0 to 10", k, v)
		}
		e.severity[k] = v
	}
	if e.facility < 0 || e.facility > 23 {
		return nil, fmt.Errorf("facility %d is not a syslog facility from 0 to 23", e.facility)
	}
	if e.maxBytes < MinMaxMessageBytes {
		return nil, fmt.Errorf("max message bytes %d is below %d, the size every RFC 5425 receiver must accept", e.maxBytes, MinMaxMessageBytes)
	}
	return e, nil
}

// severityOf returns the CEF severity the encoder gives ev.
func (e *encoder) severityOf(ev *siemsync.Event) int {
	if ev.Audit != nil {
		return e.severity[SeverityAudit]
	}
	if s, ok := e.severity[ev.Job.Status]; ok {
		return s
	}
	return siemsync.SeverityJobOther
}

// appendEvent appends the frame of ev, or nothing when it is of a data
// source the integration does not send. The filters (min_severity and the
// others) are applied before, by the sync cycle.
func (e *encoder) appendEvent(dst []byte, ev *siemsync.Event) []byte {
	var r record
	switch {
	case ev.Heartbeat != nil:
		r = e.heartbeatRecord(ev)
	case ev.Audit != nil:
		if !e.sources.audit {
			return dst
		}
		r = e.auditRecord(ev)
	case ev.Job != nil:
		if !e.sources.jobs {
			return dst
		}
		r = e.jobRecord(ev)
	default:
		return dst
	}
	return e.appendFrame(dst, &r)
}

func (e *encoder) host(ev *siemsync.Event) string {
	if ev.Host != "" {
		return ev.Host
	}
	return e.hostname
}

func (e *encoder) auditRecord(ev *siemsync.Event) record {
	a := ev.Audit
	r := record{
		msgID: "audit", ts: a.Time, host: e.host(ev),
		sig: SigAudit, name: "Audit: ", nameVar: a.Event, severity: e.severity[SeverityAudit],
	}
	if a.Event == "" {
		r.name = "Audit"
	}
	var src, src6, badIP string
	if a.IP != "" {
		// An address with a zone (refused by ingest, but perhaps stored
		// before) is free text: it goes, cut, where bad addresses go.
		if ip, err := netip.ParseAddr(a.IP); err != nil || ip.Zone() != "" {
			badIP = a.IP
		} else if ip.Is4() || ip.Is4In6() {
			src = ip.Unmap().String()
		} else {
			src6 = ip.String()
		}
	}
	meta := string(a.Metadata)
	if meta == "null" {
		meta = ""
	}
	r.ext = []extField{
		{key: "rt", val: epochMillis(a.Time)},
		{key: "externalId", val: a.ID, limit: LimitOther, shrink: 11},
		{key: "suser", val: a.User, limit: LimitOther, shrink: 6},
		{key: "src", val: src, limit: LimitIP},
		{key: "c6a2", val: src6, labelKey: "c6a2Label", label: "Source IPv6 Address", limit: LimitIP},
		{key: "requestMethod", val: a.Method, limit: LimitOther, shrink: 4},
		{key: "msg", val: a.Event, limit: LimitMsg, shrink: 2},
		{key: "cs1", val: a.Account, labelKey: "cs1Label", label: "account", limit: LimitCustom, shrink: 8},
		{key: "cs2", val: a.Connector, labelKey: "cs2Label", label: "connector", limit: LimitCustom, shrink: 9},
		{key: "cs3", val: a.ACL, labelKey: "cs3Label", label: "acl", limit: LimitCustom, shrink: 3},
		{key: "cs5", val: meta, labelKey: "cs5Label", label: "metadata", limit: LimitCustom, shrink: 1},
		{key: "cs6", val: badIP, labelKey: "cs6Label", label: "ip", limit: LimitOther, shrink: 7},
	}
	return r
}

func (e *encoder) jobRecord(ev *siemsync.Event) record {
	j := ev.Job
	sig, ok := jobSig[j.Status]
	if !ok {
		sig = SigJobOther
	}
	r := record{
		msgID: "job", ts: ev.UploadTime, host: e.host(ev),
		sig: sig, name: "Job " + j.Status, nameVar: j.Description, severity: e.severityOf(ev),
	}
	if j.Description != "" {
		r.name += ": "
	}
	var progress string
	if j.Progress != nil && !math.IsNaN(*j.Progress) {
		progress = strconv.Itoa(progressPercent(*j.Progress))
	}
	r.ext = []extField{
		{key: "rt", val: epochMillis(ev.UploadTime)},
		{key: "externalId", val: ev.ID(), limit: LimitOther},
		{key: "suser", val: j.User, limit: LimitOther, shrink: 6},
		{key: "outcome", val: jobOutcome(j.Status)},
		{key: "cat", val: j.Type, limit: LimitOther, shrink: 3},
		{key: "msg", val: j.Description, limit: LimitMsg, shrink: 1},
		{key: "start", val: epochMillis(j.StartTime)},
		{key: "end", val: epochMillis(j.EndTime)},
		{key: "deviceCustomDate1", val: epochMillis(j.Scheduled), labelKey: "deviceCustomDate1Label", label: "scheduled"},
		{key: "deviceCustomDate2", val: epochMillis(j.PlannedStart), labelKey: "deviceCustomDate2Label", label: "planned start"},
		{key: "flexDate1", val: epochMillis(j.Paused), labelKey: "flexDate1Label", label: "paused"},
		{key: "cn1", val: progress, labelKey: "cn1Label", label: "progress percent"},
		{key: "cs1", val: j.Account, labelKey: "cs1Label", label: "account", limit: LimitCustom, shrink: 8},
		{key: "cs2", val: j.Connector, labelKey: "cs2Label", label: "connector", limit: LimitCustom, shrink: 9},
		{key: "cs4", val: j.Job, labelKey: "cs4Label", label: "job", limit: LimitCustom, shrink: 10},
		{key: "cs6", val: j.Status, labelKey: "cs6Label", label: "status", limit: LimitCustom, shrink: 7},
	}
	return r
}

// progressPercent is the whole percent of a progress in [0,1], rounded
// down: 100 only when the job is complete. The 1e-9 absorbs binary
// fractions (0.29*100 is 28.999…), and the cap at 99 keeps that nudge from
// making 0.99999999999 complete.
func progressPercent(p float64) int {
	switch {
	case p >= 1:
		return 100
	case p <= 0:
		return 0
	}
	return min(int(math.Floor(p*100+1e-9)), 99)
}

// testRecord is the one message Test connection sends.
func (e *encoder) testRecord(in *siemsync.Integration, id string, now time.Time) record {
	return record{
		msgID: "test", ts: now, host: e.hostname,
		sig: SigTest, name: "siemsync test message", severity: severityTest,
		ext: []extField{
			{key: "rt", val: epochMillis(now)},
			{key: "externalId", val: id, limit: LimitOther},
			{key: "msg", val: "Test message from siemsync for integration " + in.Name + ": the connection works.", limit: LimitMsg, shrink: 1},
			{key: "cs1", val: in.Account, labelKey: "cs1Label", label: "account", limit: LimitCustom, shrink: 2},
			{key: "cs6", val: in.ID, labelKey: "cs6Label", label: "integration", limit: LimitCustom, shrink: 3},
		},
	}
}

func jobOutcome(status string) string {
	switch status {
	case siemsync.JobSuccessful:
		return "success"
	case siemsync.JobUnsuccessful:
		return "failure"
	case siemsync.JobIncomplete:
		return "partial"
	case siemsync.JobCancelled:
		return "cancelled"
	}
	return "" // scheduled, in progress: no outcome yet
}

func epochMillis(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// appendFrame renders r as one frame: values are cleaned and cut to their
// limits, then, while the SYSLOG-MSG is longer than the cap, the values
// with the lowest shrink order give way (metadata first, then msg, ...).
func (e *encoder) appendFrame(dst []byte, r *record) []byte {
	// Clean and cut every value to its character limit.
	nameLimit := LimitName - len([]rune(r.name))
	r.nameVar = truncate(r.nameVar, true, max(nameLimit, 0), -1)
	r.name = truncate(r.name, true, LimitName, limitNamePrefixBytes)
	for i := range r.ext {
		f := &r.ext[i]
		if f.limit > 0 {
			f.val = truncate(f.val, false, f.limit, -1)
		}
	}
	start := len(dst)
	msg := e.render(dst, r)
	if over := len(msg) - start - e.maxBytes; over > 0 {
		e.shrink(r, over)
		msg = e.render(dst, r)
	}
	if e.lf {
		return append(msg, '\n')
	}
	// Octet counting: "LEN SP MSG". Move the rendered message right by the
	// prefix length and write the prefix in front of it.
	n := len(msg) - start
	var pb [24]byte
	prefix := append(strconv.AppendInt(pb[:0], int64(n), 10), ' ')
	msg = append(msg, prefix...) // grow
	copy(msg[start+len(prefix):], msg[start:start+n])
	copy(msg[start:], prefix)
	return msg
}

// nameShrinkOrder is where the user-controlled part of the Name stands in
// the shrink order: after metadata, msg (which repeats it), acl and method.
const nameShrinkOrder = 5

// lastShrinkOrder is the shrink order of values without one: they give
// way only when everything else has.
const lastShrinkOrder = 1000

// shrinkFloor is how many escaped bytes of each value the first shrink
// pass keeps.
const shrinkFloor = 128

// shrink removes over escaped bytes from the values, in shrink order.
func (e *encoder) shrink(r *record, over int) {
	type cand struct {
		order int
		field *extField
	}
	var cands []cand
	for i := range r.ext {
		switch f := &r.ext[i]; {
		case f.shrink > 0:
			cands = append(cands, cand{f.shrink, f})
		case f.limit > 0:
			// Every value with a limit gives way in the end, so that no
			// value, whatever it holds, can keep the message over the cap.
			cands = append(cands, cand{lastShrinkOrder, f})
		}
	}
	cands = append(cands, cand{nameShrinkOrder, nil})
	// Sort by order (few entries: insertion sort).
	for i := 1; i < len(cands); i++ {
		for j := i; j > 0 && cands[j].order < cands[j-1].order; j-- {
			cands[j], cands[j-1] = cands[j-1], cands[j]
		}
	}
	// First pass: cut values down to their first shrinkFloor bytes, so
	// the beginning of every value survives when it can; second pass:
	// remove values entirely, in the same order.
	for _, floor := range []int{shrinkFloor, 0} {
		for _, c := range cands {
			if over <= 0 {
				return
			}
			if c.field == nil {
				l := escLen(r.nameVar, true)
				keep := max(l-over, min(floor, l))
				r.nameVar = truncate(r.nameVar, true, math.MaxInt, keep)
				over -= l - escLen(r.nameVar, true)
				continue
			}
			f := c.field
			if f.val == "" {
				continue
			}
			l := escLen(f.val, false)
			keep := max(l-over, min(floor, l))
			if keep <= 0 {
				// The whole pair goes: " key=value" and " labelKey=label".
				over -= 1 + len(f.key) + 1 + l
				if f.labelKey != "" {
					over -= 1 + len(f.labelKey) + 1 + escLen(f.label, false)
				}
				f.val = ""
				continue
			}
			f.val = truncate(f.val, false, math.MaxInt, keep)
			over -= l - escLen(f.val, false)
		}
	}
}

// render appends the SYSLOG-MSG of r to dst.
func (e *encoder) render(dst []byte, r *record) []byte {
	sev := r.severity
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(e.facility*8+PRISeverity(sev)), 10)
	dst = append(dst, ">1 "...)
	dst = appendTimestamp(dst, r.ts)
	dst = append(dst, ' ')
	dst = appendHeaderField(dst, r.host, 255)
	dst = append(dst, ' ')
	dst = append(dst, AppName...)
	dst = append(dst, " - "...) // PROCID
	dst = appendHeaderField(dst, r.msgID, 32)
	dst = append(dst, " - "...) // STRUCTURED-DATA
	// MSG: the CEF record, MSG-ANY (no BOM).
	dst = append(dst, "CEF:0|"...)
	dst = EscapeHeader(dst, e.vendor)
	dst = append(dst, '|')
	dst = EscapeHeader(dst, e.product)
	dst = append(dst, '|')
	dst = EscapeHeader(dst, e.version)
	dst = append(dst, '|')
	dst = append(dst, r.sig...)
	dst = append(dst, '|')
	dst = EscapeHeader(dst, r.name)
	dst = EscapeHeader(dst, r.nameVar)
	dst = append(dst, '|')
	dst = strconv.AppendInt(dst, int64(sev), 10)
	dst = append(dst, '|')
	first := true
	for i := range r.ext {
		f := &r.ext[i]
		if f.val == "" {
			continue
		}
		if !first {
			dst = append(dst, ' ')
		}
		first = false
		dst = append(dst, f.key...)
		dst = append(dst, '=')
		dst = EscapeExtension(dst, f.val)
		if f.labelKey != "" {
			dst = append(dst, ' ')
			dst = append(dst, f.labelKey...)
			dst = append(dst, '=')
			dst = EscapeExtension(dst, f.label)
		}
	}
	return dst
}

// appendTimestamp writes an RFC 5424 TIMESTAMP: UTC, millisecond
// precision, or NILVALUE for a zero time or a year RFC 3339 cannot hold.
func appendTimestamp(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, '-')
	}
	t = t.UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		return append(dst, '-')
	}
	return t.AppendFormat(dst, "2006-01-02T15:04:05.000Z")
}

// appendHeaderField writes an RFC 5424 header field (HOSTNAME, MSGID):
// 1..max printable US-ASCII characters (33–126), else NILVALUE "-".
func appendHeaderField(dst []byte, s string, maxLen int) []byte {
	if !ValidHeaderField(s, maxLen) {
		return append(dst, '-')
	}
	return append(dst, s...)
}

// ValidHeaderField reports whether s can be written as an RFC 5424 header
// field of at most maxLen characters (PRINTUSASCII, no space).
func ValidHeaderField(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}
