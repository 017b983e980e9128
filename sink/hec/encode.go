package hec

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/siemsync/siemsync"
)

// The encoder is hand-written rather than encoding/json because it runs
// once per event on every cycle: it appends into the caller's buffer, writes
// no intermediate values and allocates nothing for audit events.

// Truncation of oversized events. Splunk cuts an event at TRUNCATE (10,000
// bytes by default for _json), silently and in the middle of the JSON, so an
// event that would be cut is shortened here, visibly, instead.
const (
	// DefaultMaxEventBytes leaves headroom under Splunk's 10,000 bytes.
	DefaultMaxEventBytes = 9000
	previewBytes         = 1000 // of the replaced metadata, escaped
	fieldCapBytes        = 500  // per string field, when replacing metadata was not enough
)

// Append appends the HEC envelope of ev and a newline to dst.
func (s *Sink) Append(dst []byte, ev *siemsync.Event) []byte {
	start := len(dst)
	dst = s.appendEnvelope(dst, ev, false, false)
	if s.maxEvent <= 0 || len(dst)-start-1 <= s.maxEvent {
		return dst
	}
	// Too large for Splunk. Replace the metadata (the usual culprit); if
	// that is not enough, or there is none, cap every string field
	// instead; and if even that is not enough, do both.
	hasMeta := ev.Audit != nil && len(ev.Audit.Metadata) > 0
	if hasMeta {
		dst = s.appendEnvelope(dst[:start], ev, true, false)
		if len(dst)-start-1 <= s.maxEvent {
			return dst
		}
	}
	dst = s.appendEnvelope(dst[:start], ev, false, true)
	if !hasMeta || len(dst)-start-1 <= s.maxEvent {
		return dst
	}
	return s.appendEnvelope(dst[:start], ev, true, true)
}

// appendEnvelope writes one line: the HEC envelope with the event object
// in it, or on the raw endpoint the event object alone (its metadata goes
// in the query string, see rawQuery). replaceMeta swaps the metadata for a
// truncation marker and capStrings caps every string field.
func (s *Sink) appendEnvelope(b []byte, ev *siemsync.Event, replaceMeta, capStrings bool) []byte {
	limit := 0
	if capStrings {
		limit = fieldCapBytes
	}
	host := ev.Host
	if host == "" {
		host = s.host
	}
	if !s.raw {
		b = append(b, `{"time":`...)
		switch {
		case ev.Audit != nil:
			b = appendEpoch(b, ev.Audit.Time)
		case ev.Heartbeat != nil:
			b = appendEpoch(b, ev.Heartbeat.WindowEnd)
		default:
			b = appendEpoch(b, ev.UploadTime)
		}
		b = append(b, `,"host":`...)
		b = appendString(b, host, 0)
		switch {
		case ev.Audit != nil:
			b = append(b, s.auditMeta...)
		case ev.Heartbeat != nil:
			b = append(b, s.heartbeatMeta...)
		default:
			b = append(b, s.jobMeta...)
		}
	}
	switch {
	case ev.Audit != nil && s.ocsf:
		b = s.appendOCSFAudit(b, ev, host, replaceMeta, limit)
	case ev.Audit != nil:
		b = appendAudit(b, ev, host, replaceMeta, limit)
	case ev.Heartbeat != nil:
		b = appendHeartbeat(b, ev.Heartbeat, host)
	case s.ocsf:
		b = s.appendOCSFJob(b, ev, host, limit)
	default:
		b = appendJob(b, ev, host, limit)
	}
	if !s.raw {
		b = append(b, '}')
	}
	return append(b, '\n')
}

// appendHeartbeat writes the event object of a heartbeat (SPEC §8.3).
func appendHeartbeat(b []byte, h *siemsync.Heartbeat, host string) []byte {
	b = append(b, `{"kind":"heartbeat","id":`...)
	b = appendString(b, h.ID, 0)
	b = append(b, `,"time":`...)
	b = appendOptTime(b, h.WindowEnd)
	b = append(b, `,"host":`...)
	b = appendOptString(b, host, 0)
	b = append(b, `,"account":`...)
	b = appendOptString(b, h.Account, 0)
	b = append(b, `,"integration":`...)
	b = appendOptString(b, h.Integration, 0)
	b = append(b, `,"window":{"start":`...)
	b = appendOptTime(b, h.WindowStart)
	b = append(b, `,"end":`...)
	b = appendOptTime(b, h.WindowEnd)
	b = append(b, `},"sent":{"audit":`...)
	b = strconv.AppendInt(b, h.SentAudit, 10)
	b = append(b, `,"jobs":`...)
	b = strconv.AppendInt(b, h.SentJobs, 10)
	b = append(b, `},"set_aside":`...)
	b = strconv.AppendInt(b, h.SetAside, 10)
	b = append(b, `,"filtered":`...)
	b = strconv.AppendInt(b, h.Filtered, 10)
	b = append(b, `,"checkpoints":{"audit":`...)
	b = strconv.AppendInt(b, h.AuditSeq, 10)
	b = append(b, `,"jobs":`...)
	b = strconv.AppendInt(b, h.JobsSeq, 10)
	b = append(b, `},"worker":`...)
	b = appendOptString(b, h.Worker, 0)
	b = append(b, `,"version":`...)
	b = appendOptString(b, h.Version, 0)
	return append(b, '}')
}

func appendAudit(b []byte, ev *siemsync.Event, host string, replaceMeta bool, limit int) []byte {
	a := ev.Audit
	b = append(b, `{"kind":"audit","id":`...)
	b = appendOptString(b, a.ID, limit)
	b = append(b, `,"time":`...)
	b = appendOptTime(b, a.Time)
	b = append(b, `,"upload_time":`...)
	b = appendOptTime(b, ev.UploadTime)
	b = append(b, `,"host":`...)
	b = appendOptString(b, host, limit)
	b = append(b, `,"account":`...)
	b = appendOptString(b, a.Account, limit)
	b = append(b, `,"connector":`...)
	b = appendOptString(b, a.Connector, limit)
	b = append(b, `,"acl":`...)
	b = appendOptString(b, a.ACL, limit)
	b = append(b, `,"method":`...)
	b = appendOptString(b, a.Method, limit)
	b = append(b, `,"user":`...)
	b = appendOptString(b, a.User, limit)
	b = append(b, `,"ip":`...)
	b = appendOptString(b, a.IP, limit)
	b = append(b, `,"metadata":`...)
	switch {
	case len(a.Metadata) == 0:
		b = append(b, "null"...)
	case replaceMeta:
		b = appendTruncatedMeta(b, a.Metadata)
	default:
		// The store only holds what ingest accepted: a compact JSON object.
		// Checking it again here would double the encoder's cost per event;
		// a corrupt value would be refused by Splunk (code 6) and the cycle
		// would set that one event aside, not lose it.
		b = append(b, a.Metadata...)
	}
	b = append(b, `,"event":`...)
	b = appendOptString(b, a.Event, limit)
	return append(b, '}')
}

func appendJob(b []byte, ev *siemsync.Event, host string, limit int) []byte {
	j := ev.Job
	b = append(b, `{"kind":"job","id":`...)
	b = appendOptString(b, ev.ID(), 0)
	b = append(b, `,"job":`...)
	b = appendOptString(b, j.Job, limit)
	b = append(b, `,"time":`...)
	b = appendOptTime(b, ev.UploadTime)
	b = append(b, `,"upload_time":`...)
	b = appendOptTime(b, ev.UploadTime)
	b = append(b, `,"host":`...)
	b = appendOptString(b, host, limit)
	b = append(b, `,"account":`...)
	b = appendOptString(b, j.Account, limit)
	b = append(b, `,"connector":`...)
	b = appendOptString(b, j.Connector, limit)
	b = append(b, `,"scheduled":`...)
	b = appendOptTime(b, j.Scheduled)
	b = append(b, `,"planned_start":`...)
	b = appendOptTime(b, j.PlannedStart)
	b = append(b, `,"start_time":`...)
	b = appendOptTime(b, j.StartTime)
	b = append(b, `,"description":`...)
	b = appendOptString(b, j.Description, limit)
	b = append(b, `,"progress":`...)
	if p := j.Progress; p != nil && !math.IsNaN(*p) && !math.IsInf(*p, 0) {
		// 'f' never uses exponent notation; -1 is the shortest exact form.
		b = strconv.AppendFloat(b, *p, 'f', -1, 64)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"paused":`...)
	b = appendOptTime(b, j.Paused)
	b = append(b, `,"end_time":`...)
	b = appendOptTime(b, j.EndTime)
	b = append(b, `,"status":`...)
	b = appendOptString(b, j.Status, limit)
	b = append(b, `,"type":`...)
	b = appendOptString(b, j.Type, limit)
	b = append(b, `,"user":`...)
	b = appendOptString(b, j.User, limit)
	return append(b, '}')
}

// appendEpoch writes t as epoch seconds with exactly three decimals, as a
// plain decimal: Splunk refuses exponent notation.
func appendEpoch(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	if ms < 0 {
		b = append(b, '-')
		if ms == math.MinInt64 {
			ms++ // unreachable for real times; keeps the negation defined
		}
		ms = -ms
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	f := ms % 1000
	return append(b, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}

func appendOptTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	return appendRFC3339Milli(b, t)
}

// appendRFC3339Milli writes t in UTC as "2006-01-02T15:04:05.000Z", quoted.
func appendRFC3339Milli(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		b = append(b, '"')
		b = t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		return append(b, '"')
	}
	hour, min, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(b, '"',
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
}

func appendOptString(b []byte, s string, limit int) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s, limit)
}

// safe marks the ASCII bytes that go into a JSON string as they are.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD, so
// the output is always valid JSON and valid UTF-8. With limit > 0 the
// quoted output holds at most about limit bytes of content, ending in "…".
func appendString(b []byte, s string, limit int) []byte {
	b = append(b, '"')
	start := len(b)
	i, run := 0, 0 // run: start of the bytes not yet copied
	for i < len(s) {
		if limit > 0 && len(b)-start+(i-run) >= limit {
			b = append(b, s[run:i]...)
			b = append(b, "…"...)
			return append(b, '"')
		}
		if limit == 0 && len(s)-i >= 8 {
			// Eight plain ASCII bytes at a time: the common case.
			x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if special8(x)|x&0x8080808080808080 == 0 {
				i += 8
				continue
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[run:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			run = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[run:i]...)
			b = append(b, `\ufffd`...)
			i++
			run = i
			continue
		}
		i += size
	}
	b = append(b, s[run:]...)
	return append(b, '"')
}

// appendBytesString is appendString for a byte slice. The conversion may
// allocate; it is only used on the rare truncation path.
func appendBytesString(b []byte, p []byte, limit int) []byte {
	return appendString(b, string(p), limit)
}

// special8 is non-zero when one of the eight bytes of x (any order) needs
// attention inside a JSON string: a control character, a quote or a
// backslash. It is exact for the any-byte question the callers ask.
func special8(x uint64) uint64 {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	ctl := (x - lsb*0x20) &^ x & msb
	q := x ^ (lsb * '"')
	q = (q - lsb) &^ q & msb
	bs := x ^ (lsb * '\\')
	bs = (bs - lsb) &^ bs & msb
	return ctl | q | bs
}
