package syslog

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
)

// TestProgressPercent: cn1 is the progress rounded down, and 100 only for a
// complete job, however close to 1 the progress is.
func TestProgressPercent(t *testing.T) {
	s := testSink(t, testIntegration("octet"), Options{})
	for _, tt := range []struct {
		p    float64
		want string
	}{
		{0, "0"}, {0.29, "29"}, {0.5, "50"}, {0.999, "99"}, {0.99999999999, "99"},
		{0.999999999999999, "99"}, {1, "100"}, {0.0099, "0"}, {0.57, "57"},
	} {
		m := parseOne(t, s.Append(nil, job(siemsync.JobInProgress, tt.p)), false)
		if got := m.CEF.Ext["cn1"]; got != tt.want {
			t.Errorf("progress %v: cn1=%s, want %s", tt.p, got, tt.want)
		}
	}
}

func TestHeartbeatRecord(t *testing.T) {
	s := testSink(t, testIntegration("octet"), Options{})
	h := &siemsync.Heartbeat{
		ID: "hb-1", Integration: "0c9f3a1e-2b4d-4e6f-8a0b-1c2d3e4f5a6b", Account: tAccount,
		WindowStart: tOccurred, WindowEnd: tUpload, SentAudit: 12, SentJobs: 3, SetAside: 1, Filtered: 7,
		AuditSeq: 420, JobsSeq: 17, Worker: "w1:42", Version: "1.2.3",
	}
	m := parseOne(t, s.Append(nil, &siemsync.Event{Heartbeat: h, Host: "eu-1.example.net"}), false)
	if m.CEF.SignatureID != "300" || m.CEF.Name != "siemsync heartbeat" || m.MsgID != "heartbeat" || m.Hostname != "eu-1.example.net" {
		t.Fatalf("header: sig %s name %q msgid %s host %s", m.CEF.SignatureID, m.CEF.Name, m.MsgID, m.Hostname)
	}
	for k, v := range map[string]string{
		"externalId": "hb-1", "cn1": "12", "cn2": "3", "cn3": "7", "cs1": tAccount, "cs4": "w1:42",
		"start": strconv.FormatInt(tOccurred.UnixMilli(), 10), "end": strconv.FormatInt(tUpload.UnixMilli(), 10),
	} {
		if got := m.CEF.Ext[k]; got != v {
			t.Errorf("ext %s = %q, want %q", k, got, v)
		}
	}
	var back siemsync.Heartbeat
	if err := json.Unmarshal([]byte(m.CEF.Ext["cs5"]), &back); err != nil || back.SetAside != 1 || back.JobsSeq != 17 || !back.WindowEnd.Equal(tUpload) {
		t.Errorf("cs5 does not hold the heartbeat: %v %+v", err, back)
	}
}

// TestCEFHeaderFields: the deployment's vendor, product and version go in
// the header, escaped so that a pipe or a backslash cannot add a field.
func TestCEFHeaderFields(t *testing.T) {
	s := testSink(t, testIntegration("octet"), Options{Vendor: `Acme|Corp`, Product: `Back\up`, Version: "2.4|x"})
	m := parseOne(t, s.Append(nil, job(siemsync.JobSuccessful, 1)), false)
	if m.CEF.Vendor != "Acme|Corp" || m.CEF.Product != `Back\up` || m.CEF.DeviceVer != "2.4|x" || m.CEF.SignatureID != "202" {
		t.Errorf("header = %q|%q|%q sig %q", m.CEF.Vendor, m.CEF.Product, m.CEF.DeviceVer, m.CEF.SignatureID)
	}
}

// TestTestMessageHost: the Test connection message carries the host it is
// given (the account's), as every event does.
func TestTestMessageHost(t *testing.T) {
	in := testIntegration("octet")
	enc, err := newEncoder(in, &Options{Hostname: "eu-1.example.net", Vendor: "v", Product: "p", Version: "1", Facility: 13, MaxMessageBytes: 8192})
	if err != nil {
		t.Fatal(err)
	}
	r := enc.testRecord(in, "id-1", time.Now())
	m := parseOne(t, enc.appendFrame(nil, &r), false)
	if m.Hostname != "eu-1.example.net" {
		t.Errorf("test message host %q", m.Hostname)
	}
}
