package hec

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/siemsync/siemsync"
)

// The OCSF profile (integration profile "ocsf"): the HEC envelope is the
// same, its event is an OCSF event instead of siemsync's own fields.
//
//   - audit records are API Activity (class_uid 6003, category 6);
//   - job snapshots are Scheduled Job Activity (class_uid 1006, category 1);
//
// of OCSF OCSFVersion. metadata.uid is the event's stable id (the audit id,
// the job snapshot id), time is in epoch milliseconds, absent values are
// left out (OCSF has no nulls), and what OCSF has no attribute for goes
// under unmapped. The mapping is documented in docs/readme/16-beyond.md and
// checked against the OCSF schema in ocsf_test.go.
//
// Like the siemsync profile, the encoder appends into the caller's buffer
// and writes the constant parts of an event from precomputed bytes.

// OCSFVersion is the OCSF schema version the events declare.
const OCSFVersion = "1.8.0"

// unknownName stands in for a required OCSF value the record does not have.
const unknownName = "unknown"

// ocsfHead is what precedes "time" in an event: the classification of one
// class and activity (with the severity and status of audit records, which
// are the same for all of them).
func ocsfHead(classUID, categoryUID, activityID int, className, categoryName, activityName, tail string) []byte {
	b := []byte(`{"activity_id":`)
	b = strconv.AppendInt(b, int64(activityID), 10)
	b = append(b, `,"activity_name":"`+activityName+`","category_uid":`...)
	b = strconv.AppendInt(b, int64(categoryUID), 10)
	b = append(b, `,"category_name":"`+categoryName+`","class_uid":`...)
	b = strconv.AppendInt(b, int64(classUID), 10)
	b = append(b, `,"class_name":"`+className+`","type_uid":`...)
	b = strconv.AppendInt(b, int64(classUID*100+activityID), 10)
	b = append(b, `,"type_name":"`+className+`: `+activityName+`"`...)
	return append(b, tail...)
}

// API Activity activity ids.
const (
	apiUnknown = 0
	apiCreate  = 1
	apiRead    = 2
	apiUpdate  = 3
	apiDelete  = 4
	apiOther   = 99
)

var apiActivityNames = map[int]string{
	apiUnknown: "Unknown", apiCreate: "Create", apiRead: "Read", apiUpdate: "Update", apiDelete: "Delete", apiOther: "Other",
}

// auditHeads is ocsfHead of each API Activity activity, through "time":.
// An audit record says nothing of severity or outcome: Informational and
// status Unknown.
var auditHeads = func() map[int][]byte {
	m := map[int][]byte{}
	for id, name := range apiActivityNames {
		m[id] = ocsfHead(6003, 6, id, "API Activity", "Application Activity", name,
			`,"severity_id":1,"severity":"Informational","status_id":0,"status":"Unknown","time":`)
	}
	return m
}()

// httpMethods are the values of OCSF http_request.http_method, with the API
// Activity each one stands for.
var httpMethods = map[string]int{
	"GET": apiRead, "HEAD": apiRead, "POST": apiCreate, "PUT": apiUpdate, "PATCH": apiUpdate,
	"DELETE": apiDelete, "OPTIONS": apiOther, "CONNECT": apiOther, "TRACE": apiOther,
}

// httpMethod returns the OCSF http_method of an audit method ("" when it is
// not an HTTP method) and the API activity id.
func httpMethod(m string) (string, int) {
	if m == "" {
		return "", apiUnknown
	}
	if id, ok := httpMethods[m]; ok {
		return m, id
	}
	if len(m) <= 7 {
		u := strings.ToUpper(m)
		if id, ok := httpMethods[u]; ok {
			return u, id
		}
	}
	return "", apiOther
}

// Scheduled Job Activity: a scheduled job is Create, every later snapshot
// an Update (a snapshot reports the job's state; it is not an action).
const (
	jobCreate = 1
	jobUpdate = 2
)

// jobOutcome is how one job status reads in OCSF: severity, status and
// the job's run state.
type jobOutcome struct {
	head     []byte // ocsfHead through "time":
	runState string // `"run_state_id":N,"run_state":"…"`
}

func newJobOutcome(activity int, severityID int, severity string, statusID int, status, detail string, runState string) jobOutcome {
	name := map[int]string{jobCreate: "Create", jobUpdate: "Update"}[activity]
	tail := `,"severity_id":` + strconv.Itoa(severityID) + `,"severity":"` + severity + `","status_id":` + strconv.Itoa(statusID) + `,"status":"` + status + `"`
	if detail != "" {
		tail += `,"status_detail":"` + detail + `"`
	}
	return jobOutcome{
		head:     ocsfHead(1006, 1, activity, "Scheduled Job Activity", "System Activity", name, tail+`,"time":`),
		runState: runState,
	}
}

// Run states of the OCSF job object.
const (
	runQueued  = `"run_state_id":2,"run_state":"Queued"`
	runRunning = `"run_state_id":3,"run_state":"Running"`
	runStopped = `"run_state_id":4,"run_state":"Stopped"`
	runPaused  = `"run_state_id":99,"run_state":"Paused"`
	runUnknown = `"run_state_id":0,"run_state":"Unknown"`
)

// jobOutcomes maps each job status. Severities follow the CEF defaults
// (informational, then cancelled < incomplete < unsuccessful); status_id is
// Success or Failure where the job ended so, else Other with the status.
var jobOutcomes = map[string]jobOutcome{
	siemsync.JobScheduled:    newJobOutcome(jobCreate, 1, "Informational", 99, "scheduled", "", runQueued),
	siemsync.JobInProgress:   newJobOutcome(jobUpdate, 1, "Informational", 99, "in progress", "", runRunning),
	siemsync.JobSuccessful:   newJobOutcome(jobUpdate, 1, "Informational", 1, "Success", "", runStopped),
	siemsync.JobCancelled:    newJobOutcome(jobUpdate, 2, "Low", 99, "cancelled", "", runStopped),
	siemsync.JobIncomplete:   newJobOutcome(jobUpdate, 3, "Medium", 2, "Failure", "incomplete", runStopped),
	siemsync.JobUnsuccessful: newJobOutcome(jobUpdate, 4, "High", 2, "Failure", "unsuccessful", runStopped),
}

// jobOther is the outcome of a status siemsync does not know (not produced
// by validated input).
var jobOther = newJobOutcome(jobUpdate, 0, "Unknown", 0, "Unknown", "", runUnknown)

// ocsfProduct is the metadata's `"version":…,"product":{…}` of a sink.
func ocsfProduct(o Options) []byte {
	vendor, product, version := o.Vendor, o.Product, o.Version
	if vendor == "" {
		vendor = "siemsync"
	}
	if product == "" {
		product = "siemsync"
	}
	if version == "" && product == "siemsync" {
		version = siemsync.Version() // an operator's own product: its version is theirs to give
	}
	b := append([]byte(nil), `"version":"`+OCSFVersion+`","product":{"name":`...)
	b = appendString(b, product, 0)
	b = append(b, `,"vendor_name":`...)
	b = appendString(b, vendor, 0)
	if version != "" {
		b = append(b, `,"version":`...)
		b = appendString(b, version, 0)
	}
	return append(b, '}')
}

// appendMS writes t in epoch milliseconds.
func appendMS(b []byte, t time.Time) []byte { return strconv.AppendInt(b, t.UnixMilli(), 10) }

// appendKV writes `,"key":"value"` when v is not empty. key is written as
// is; it must not need escaping.
func appendKV(b []byte, key, v string, limit int) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendString(b, v, limit)
}

func appendKTime(b []byte, key string, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendMS(b, t)
}

// appendMetadata writes the OCSF metadata object.
func (s *Sink) appendMetadata(b []byte, uid, correlation, tenant, log string, upload time.Time, limit int) []byte {
	b = append(b, `,"metadata":{"uid":`...)
	b = appendString(b, uid, limit)
	b = appendKV(b, "correlation_uid", correlation, limit)
	b = append(b, ',')
	b = append(b, s.ocsfProduct...)
	b = appendKV(b, "tenant_uid", tenant, limit)
	b = append(b, `,"log_name":"`...)
	b = append(b, log...)
	b = append(b, '"')
	b = appendKTime(b, "processed_time", upload)
	return append(b, '}')
}

func appendUser(b []byte, name string, limit int) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, name, limit)
	return append(b, '}')
}

// appendOCSFAudit writes an audit record as an OCSF API Activity event.
// actor and src_endpoint are required: a record without a user is
// attributed to the product itself (actor.app_name), one without an IP
// gets src_endpoint.name "unknown".
func (s *Sink) appendOCSFAudit(b []byte, ev *siemsync.Event, host string, replaceMeta bool, limit int) []byte {
	a := ev.Audit
	method, activity := httpMethod(a.Method)
	b = append(b, auditHeads[activity]...)
	b = appendMS(b, a.Time)
	b = appendKV(b, "message", a.Event, limit)
	b = s.appendMetadata(b, a.ID, "", a.Account, siemsync.SourceAudit, ev.UploadTime, limit)
	b = append(b, `,"actor":{`...)
	if a.User != "" {
		b = append(b, `"user":`...)
		b = appendUser(b, a.User, limit)
	} else {
		b = append(b, `"app_name":`...)
		b = appendString(b, s.productName, limit)
	}
	b = append(b, `},"src_endpoint":{`...)
	if a.IP != "" {
		b = append(b, `"ip":`...)
		b = appendString(b, a.IP, 0)
	} else {
		b = append(b, `"name":"`+unknownName+`"`...)
	}
	b = append(b, `},"dst_endpoint":{"hostname":`...)
	b = appendString(b, host, limit)
	b = append(b, `},"api":{"operation":`...)
	op := a.Event
	if op == "" {
		op = unknownName
	}
	b = appendString(b, op, limit)
	b = append(b, '}')
	if method != "" {
		b = append(b, `,"http_request":{"http_method":"`...)
		b = append(b, method...)
		b = append(b, `"}`...)
	}
	b = append(b, `,"unmapped":{"kind":"audit"`...)
	b = appendKV(b, "connector", a.Connector, limit)
	b = appendKV(b, "acl", a.ACL, limit)
	if method == "" {
		b = appendKV(b, "method", a.Method, limit)
	}
	switch {
	case len(a.Metadata) == 0:
	case replaceMeta:
		b = append(b, `,"metadata":`...)
		b = appendTruncatedMeta(b, a.Metadata)
	default:
		// A compact JSON object, as ingest stored it (see appendAudit).
		b = append(b, `,"metadata":`...)
		b = append(b, a.Metadata...)
	}
	return append(b, "}}"...)
}

// appendOCSFJob writes a job snapshot as an OCSF Scheduled Job Activity
// event. device is required: the environment the account lives in.
func (s *Sink) appendOCSFJob(b []byte, ev *siemsync.Event, host string, limit int) []byte {
	j := ev.Job
	out, ok := jobOutcomes[j.Status]
	if !ok {
		out = jobOther
	}
	b = append(b, out.head...)
	b = appendMS(b, ev.UploadTime)
	b = appendKTime(b, "start_time", j.StartTime)
	b = appendKTime(b, "end_time", j.EndTime)
	b = s.appendMetadata(b, ev.ID(), j.Job, j.Account, siemsync.SourceJobs, ev.UploadTime, limit)
	b = append(b, `,"device":{"hostname":`...)
	b = appendString(b, host, limit)
	b = append(b, `,"type_id":0,"type":"Unknown"}`...)
	if j.User != "" {
		b = append(b, `,"actor":{"user":`...)
		b = appendUser(b, j.User, limit)
		b = append(b, '}')
	}
	name := j.Description
	if name == "" {
		name = j.Type
	}
	if name == "" {
		name = j.Job
	}
	b = append(b, `,"job":{"name":`...)
	b = appendString(b, name, limit)
	b = appendKV(b, "desc", j.Description, limit)
	b = appendKTime(b, "created_time", j.Scheduled)
	b = appendKTime(b, "next_run_time", j.PlannedStart)
	b = appendKTime(b, "last_run_time", j.StartTime)
	b = append(b, ',')
	if !j.Paused.IsZero() && j.Active() {
		b = append(b, runPaused...)
	} else {
		b = append(b, out.runState...)
	}
	if j.User != "" {
		b = append(b, `,"user":`...)
		b = appendUser(b, j.User, limit)
	}
	b = append(b, `},"unmapped":{"kind":"job","job":`...)
	b = appendString(b, j.Job, limit)
	b = appendKV(b, "connector", j.Connector, limit)
	b = appendKV(b, "type", j.Type, limit)
	if p := j.Progress; p != nil && !math.IsNaN(*p) && !math.IsInf(*p, 0) {
		b = append(b, `,"progress":`...)
		b = strconv.AppendFloat(b, *p, 'f', -1, 64)
	}
	if !j.Paused.IsZero() {
		b = append(b, `,"paused":`...)
		b = appendRFC3339Milli(b, j.Paused)
	}
	return append(b, "}}"...)
}

// appendTruncatedMeta is the marker that replaces metadata too large for
// Splunk, shared by both profiles.
func appendTruncatedMeta(b []byte, meta []byte) []byte {
	b = append(b, `{"_siemsync_truncated":true,"original_bytes":`...)
	b = strconv.AppendInt(b, int64(len(meta)), 10)
	b = append(b, `,"preview":`...)
	b = appendBytesString(b, meta, previewBytes)
	return append(b, '}')
}
