package syslog

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/siemsync/siemsync"
)

// FuzzAppend feeds arbitrary field values (CR, LF, NUL, pipes, equals
// signs, backslashes, invalid UTF-8, huge values) through Append and checks
// that every output is exactly one well-formed frame: the octet count is
// right (or the frame is one line), the RFC 5424 header holds its limits,
// the CEF header has exactly 7 unescaped pipes and the expected fields, and
// the extension parses back to the cleaned, truncated input values (a cut
// value ends with Marker).
func FuzzAppend(f *testing.F) {
	a := trickyAudit().Audit
	f.Add(false, false, a.Event, a.User, a.ACL, a.Method, a.IP, string(a.Metadata), a.ID, "", "", "eu-1", "siemsync", 0.5, 2048)
	f.Add(true, false, "", "bob", "", "", "", "", "", "Backup | x=y\\", siemsync.JobInProgress, "h", "V|x\\", 0.29, 8192)
	f.Add(false, true, "a\nb\rc\x00d", "=", "\\", "|", "::1", "{\"k\":\"\\n\"}", "id=1", "", "", "", "", 1.0, 0)
	f.Add(true, true, "", "", "", "", "", "", "", strings.Repeat("\\=|\n", 700), siemsync.JobUnsuccessful, strings.Repeat("x", 300), "", 0.0, 3000)
	f.Add(false, false, strings.Repeat("é", 1500), strings.Repeat("=", 1500), strings.Repeat("\\", 5000), "\xff\xfe", "not-an-ip", strings.Repeat("🔐", 2000), strings.Repeat("i", 200), "", "", "-", "", 0.0, 2048)
	f.Fuzz(func(t *testing.T, isJob, lf bool, event, user, acl, method, ip, meta, id, desc, status, host, vendor string, progress float64, maxBytes int) {
		if maxBytes < MinMaxMessageBytes || maxBytes > 1<<16 {
			maxBytes = DefaultMaxMessageBytes
		}
		framing := "octet"
		if lf {
			framing = "lf"
		}
		in := testIntegration(framing)
		s, err := New(in, Options{Hostname: "worker", Vendor: vendor, Version: "1.0", MaxMessageBytes: maxBytes})
		if err != nil {
			t.Fatal(err)
		}
		if len(id) > 128 {
			id = id[:128] // the store holds ids of 1–128 characters
		}
		var ev siemsync.Event
		ev.Host, ev.UploadTime = host, tUpload
		if isJob {
			j := *job(siemsync.JobInProgress, progress).Job
			j.Description, j.Status, j.User, j.Type = desc, status, user, acl
			if progress != progress || progress < 0 || progress > 1 {
				j.Progress = nil
			}
			ev.Job = &j
		} else {
			ev.Audit = &siemsync.Audit{ID: id, Time: tOccurred, Account: tAccount, Connector: tConnector,
				ACL: acl, Method: method, User: user, IP: ip, Metadata: json.RawMessage(meta), Event: event}
		}
		frame := s.Append([]byte("keep"), &ev)
		if !bytes.HasPrefix(frame, []byte("keep")) {
			t.Fatal("dst prefix lost")
		}
		frame = frame[4:]

		// Exactly one frame, nothing after it.
		msg, rest, err := NextFrame(frame, lf)
		if err != nil {
			t.Fatalf("NextFrame: %v in %q", err, frame)
		}
		if len(rest) != 0 {
			t.Fatalf("%d bytes after the frame: %q", len(rest), rest)
		}
		if len(msg) > maxBytes {
			t.Fatalf("SYSLOG-MSG is %d bytes, cap %d", len(msg), maxBytes)
		}
		for i, c := range msg {
			if c < 0x20 || c == 0x7f {
				t.Fatalf("control byte %#x at %d of the message", c, i)
			}
		}
		if !utf8.Valid(msg) {
			t.Fatal("message is not UTF-8")
		}

		m, err := ParseMessage(string(msg))
		if err != nil {
			t.Fatalf("ParseMessage: %v in %q", err, msg)
		}
		c := m.CEF
		if c == nil {
			t.Fatal("MSG is not CEF")
		}
		// The header: exactly 7 unescaped pipes (ParseCEF counts them),
		// and the fields the encoder was given.
		if want := truncate(vendor, true, LimitVendor, -1); (vendor != "" && c.Vendor != want) || (vendor == "" && c.Vendor != "siemsync") {
			t.Errorf("Vendor = %q, want %q", c.Vendor, want)
		}
		if c.Version != "0" || c.Product != "siemsync" || c.DeviceVer != "1.0" {
			t.Errorf("header %+v", c)
		}
		if wantHost := host; ValidHeaderField(host, 255) != (m.Hostname == wantHost) {
			t.Errorf("HOSTNAME %q for host %q", m.Hostname, host)
		}

		// The extension parses back to the cleaned input values, cut to
		// their limits; when the message hit the cap, a value may be a
		// shorter prefix or gone.
		capped := len(msg) > maxBytes-64
		want := map[string]string{}
		var namePrefix, nameVar string
		if isJob {
			namePrefix, nameVar = "Job "+status, desc
			if desc != "" {
				namePrefix += ": "
			}
			want["suser"], want["cat"], want["msg"], want["cs6"] = user, acl, desc, status
			want["externalId"] = ev.ID()
			if c.SignatureID != jobSig[status] && !(jobSig[status] == "" && c.SignatureID == SigJobOther) {
				t.Errorf("signature id %s for status %q", c.SignatureID, status)
			}
			if ev.Job.Progress != nil {
				if got := c.Ext["cn1"]; got == "" {
					t.Error("cn1 missing")
				} else if n, _ := strconv.Atoi(got); n < 0 || n > 100 {
					t.Errorf("cn1 = %s", got)
				}
			}
		} else {
			namePrefix, nameVar = "Audit: ", event
			if event == "" {
				namePrefix = "Audit"
			}
			want["externalId"], want["suser"], want["requestMethod"], want["msg"], want["cs3"] = id, user, method, event, acl
			if meta != "null" {
				want["cs5"] = meta
			}
			if ipa, err := netip.ParseAddr(ip); ip != "" && err == nil {
				if ipa.Is4() || ipa.Is4In6() {
					if c.Ext["src"] != ipa.Unmap().String() {
						t.Errorf("src = %q for ip %q", c.Ext["src"], ip)
					}
				} else if c.Ext["c6a2"] != ipa.String() {
					t.Errorf("c6a2 = %q for ip %q", c.Ext["c6a2"], ip)
				}
			} else {
				want["cs6"] = ip
			}
			if c.SignatureID != SigAudit {
				t.Errorf("signature id %s", c.SignatureID)
			}
		}
		limits := map[string]int{"msg": LimitMsg, "cs3": LimitCustom, "cs5": LimitCustom, "cs6": LimitCustom}
		for k, in := range want {
			limit, ok := limits[k]
			if !ok {
				limit = LimitOther
			}
			if k == "cs6" && !isJob {
				limit = LimitOther
			}
			exp := truncate(in, false, limit, -1)
			got, present := c.Ext[k]
			switch {
			case exp == "" && present:
				t.Errorf("%s = %q present for an empty input", k, got)
			case got == exp:
			case capped && isCutOf(Clean(in, false), got):
			default:
				t.Errorf("%s = %q, want %q (capped %v)", k, got, exp, capped)
			}
			if present && k != "cs6" && strings.HasPrefix(k, "cs") && c.Ext[k+"Label"] == "" {
				t.Errorf("%s without its label", k)
			}
		}
		wantPrefix := truncate(namePrefix, true, LimitName, limitNamePrefixBytes)
		wantName := wantPrefix + truncate(nameVar, true, LimitName-len([]rune(namePrefix)), -1)
		if c.Name != wantName && !(capped && isCutOf(wantPrefix+Clean(nameVar, true), c.Name) && strings.HasPrefix(c.Name, wantPrefix)) {
			t.Errorf("Name = %q, want %q", c.Name, wantName)
		}
	})
}
