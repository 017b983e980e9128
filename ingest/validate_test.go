package ingest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/ingest"
)

const (
	okTime = `"time":"2026-11-21T10:00:00Z"`
	okAcct = `"account":"3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90"`
	okJob  = `"job":"0b9e7c1a-1111-4a2b-8c3d-000000000001"`
	okBase = okTime + `,` + okAcct + `,"event":"e"`
)

// Every message a person can get back for a bad audit line. Each input is
// preceded by a good line and a blank line, so the line number is 3.
func TestAuditErrors(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	tests := []struct {
		name, line string
		field      string
		msg        string
	}{
		{"time missing", `{` + okAcct + `,"event":"e"}`, "time", "is required: when the event occurred, as RFC 3339 such as 2026-11-21T15:04:05Z"},
		{"time null", `{"time":null,` + okAcct + `,"event":"e"}`, "time", "is required: when the event occurred, as RFC 3339 such as 2026-11-21T15:04:05Z"},
		{"time not RFC 3339", `{"time":"2026-11-21 10:00:00",` + okAcct + `,"event":"e"}`, "time", `must be an RFC 3339 time such as 2026-11-21T15:04:05Z, not "2026-11-21 10:00:00"`},
		{"time a number", `{"time":1763719200,` + okAcct + `,"event":"e"}`, "time", "must be a string, not a number"},
		{"account missing", `{` + okTime + `,"event":"e"}`, "account", "is required: the UUID of the account the event belongs to"},
		{"account not a UUID", `{` + okTime + `,"account":"acme","event":"e"}`, "account", `must be a UUID such as 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90, not "acme"`},
		{"account braced", `{` + okTime + `,"account":"{3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90}","event":"e"}`, "account", `must be a UUID such as 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90, not "{3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90}"`},
		{"event missing", `{` + okTime + `,` + okAcct + `}`, "event", "is required: the event recorded in the audit log"},
		{"event empty", `{` + okTime + `,` + okAcct + `,"event":""}`, "event", "is required: the event recorded in the audit log"},
		{"connector not a UUID", `{` + okBase + `,"connector":"x"}`, "connector", `must be a UUID such as 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90, not "x"`},
		{"ip not an IP", `{` + okBase + `,"ip":"1.2.3"}`, "ip", `must be an IPv4 or IPv6 address such as 203.0.113.7 or 2001:db8::1, not "1.2.3"`},
		{"ip with a zone", `{` + okBase + `,"ip":"fe80::1%eth0"}`, "ip", `must be a plain IPv4 or IPv6 address without a zone (the part after %), not "fe80::1%eth0": send the address alone, such as fe80::1`},
		{"ip with a forged record in its zone", `{` + okBase + `,"ip":"fe80::1%x <10>1 - evil app - - - CEF:0|Microsoft|Windows|1|4625|x|10|"}`, "ip", `must be a plain IPv4 or IPv6 address without a zone (the part after %), not "fe80::1%x <10>1 - evil app - - - CEF:0|Microsoft|Windows|1|4625|"…: send the address alone, such as fe80::1`},
		{"metadata a string", `{` + okBase + `,"metadata":"{}"}`, "metadata", `must be a JSON object such as {"key":"value"}, not a string`},
		{"metadata an array", `{` + okBase + `,"metadata":[1]}`, "metadata", `must be a JSON object such as {"key":"value"}, not an array`},
		{"id too long", `{` + okBase + `,"id":"` + strings.Repeat("é", 129) + `"}`, "id", "must be at most 128 characters, not 129"},
		{"id not printable", `{` + okBase + `,"id":"a\tb"}`, "id", "must be printable: character 2 is U+0009; use letters, digits and punctuation"},
		{"unknown field", `{` + okBase + `,"severity":3}`, "severity", "is not a field of an audit record: use id, time, account, connector, acl, method, user, ip, metadata, event"},
		{"field names are case-sensitive", `{` + okBase + `,"Time":"x"}`, "Time", "is not a field of an audit record: use id, time, account, connector, acl, method, user, ip, metadata, event"},
		{"wrong type", `{` + okBase + `,"user":5}`, "user", "must be a string, not a number"},
		{"wrong type object", `{` + okBase + `,"acl":{"a":1}}`, "acl", "must be a string, not an object"},
		{"field twice", `{` + okBase + `,"event":"f"}`, "event", "appears twice in the record: give each field once"},
		{"trailing comma", `{` + okBase + `,}`, "", "malformed JSON at column 93: expected a quoted field name"},
		{"unterminated object", `{` + okBase, "", "malformed JSON at column 92: expected ',' or '}' after a value"},
		{"text after the object", `{` + okBase + `} x`, "", "malformed JSON at column 94: unexpected text after the end of the object"},
		{"bad literal", `{` + okBase + `,"user":tru}`, "", "malformed JSON at column 100: invalid literal: expected true"},
		{"bad escape", `{` + okBase + `,"user":"\x"}`, "", `malformed JSON at column 101: invalid escape \x in a string`},
		{"raw control character", "{" + okBase + ",\"user\":\"a\tb\"}", "", `malformed JSON at column 102: control character in a string: escape it, e.g. \n`},
		{"bad metadata", `{` + okBase + `,"metadata":{"a":01}}`, "", "malformed JSON at column 110: expected ',' or '}'"},
		{"an array", `[1,2]`, "", `must be a JSON object: one record per line, like {"time":"2026-11-21T15:04:05Z",...}`},
		{"not JSON", `time=2026-11-21`, "", `must be a JSON object: one record per line, like {"time":"2026-11-21T15:04:05Z",...}`},
		{"not UTF-8", "{\"event\":\"\xff\"}", "", "is not valid UTF-8: save the file as UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := `{` + okBase + `}` + "\n\n" + tt.line + "\n" + `{` + okBase + `}`
			_, err := ingest.Audit(t.Context(), db, strings.NewReader(in), ingest.Options{})
			checkFieldError(t, err, tt.field, tt.msg)
		})
	}
}

func TestJobErrors(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	const ok = okJob + `,` + okAcct + `,"status":"scheduled"`
	tests := []struct {
		name, line string
		field      string
		msg        string
	}{
		{"job missing", `{` + okAcct + `,"status":"scheduled"}`, "job", "is required: the job's UUID"},
		{"job not a UUID", `{"job":"42",` + okAcct + `,"status":"scheduled"}`, "job", `must be a UUID such as 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90, not "42"`},
		{"account missing", `{` + okJob + `,"status":"scheduled"}`, "account", "is required: the UUID of the account the job belongs to"},
		{"status missing", `{` + okJob + `,` + okAcct + `}`, "status", "is required: one of scheduled, in progress, successful, cancelled, incomplete, unsuccessful"},
		{"status unknown", `{` + okJob + `,` + okAcct + `,"status":"done"}`, "status", `must be one of scheduled, in progress, successful, cancelled, incomplete, unsuccessful, not "done"`},
		{"status case", `{` + okJob + `,` + okAcct + `,"status":"Scheduled"}`, "status", `must be one of scheduled, in progress, successful, cancelled, incomplete, unsuccessful, not "Scheduled"`},
		{"progress above 1", `{` + ok + `,"progress":1.5}`, "progress", "must be a number from 0 to 1 (0 not started, 1 complete), not 1.5"},
		{"progress negative", `{` + ok + `,"progress":-0.1}`, "progress", "must be a number from 0 to 1 (0 not started, 1 complete), not -0.1"},
		{"progress a string", `{` + ok + `,"progress":"50%"}`, "progress", "must be a number from 0 to 1, not a string"},
		{"time not RFC 3339", `{` + ok + `,"end_time":"soon"}`, "end_time", `must be an RFC 3339 time such as 2026-11-21T15:04:05Z, not "soon"`},
		{"time a number", `{` + ok + `,"scheduled":0}`, "scheduled", "must be a string, not a number"},
		{"connector not a UUID", `{` + ok + `,"connector":"c"}`, "connector", `must be a UUID such as 3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90, not "c"`},
		{"unknown field", `{` + ok + `,"owner":"x"}`, "owner", "is not a field of a job record: use job, account, connector, scheduled, planned_start, start_time, paused, end_time, description, progress, status, type, user"},
		{"field twice", `{` + ok + `,"status":"successful"}`, "status", "appears twice in the record: give each field once"},
		{"bad number", `{` + ok + `,"progress":.5}`, "", "malformed JSON at column 128: invalid number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := `{` + ok + `}` + "\n\n" + tt.line + "\n"
			_, err := ingest.Jobs(t.Context(), db, strings.NewReader(in), ingest.Options{})
			checkFieldError(t, err, tt.field, tt.msg)
		})
	}
}

func checkFieldError(t *testing.T, err error, field, msg string) {
	t.Helper()
	var fe *siemsync.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a *FieldError", err)
	}
	if fe.Line != 3 || fe.Field != field || fe.Msg != msg {
		t.Errorf("got  line %d field %q: %s\nwant line 3 field %q: %s", fe.Line, fe.Field, fe.Msg, field, msg)
	}
	prefix := "line 3: "
	if field != "" {
		prefix += "field " + field + ": "
	}
	if err.Error() != prefix+msg {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestLineTooLong(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	in := "{" + okBase + "}\n{" + okBase + `,"user":"` + strings.Repeat("x", ingest.MaxLineBytes) + "\"}\n"
	_, err := ingest.Audit(t.Context(), db, strings.NewReader(in), ingest.Options{})
	if err == nil || err.Error() != "line 2: is longer than 1 MiB: split the record or shorten its metadata" {
		t.Errorf("err = %v", err)
	}
}
