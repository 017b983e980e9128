package hec

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/internal/hecrecv"
	"github.com/siemsync/siemsync/internal/testpki"
	"github.com/siemsync/siemsync/sink"
)

func TestCheck(t *testing.T) {
	ca := testpki.NewCA(t, "Real CA")
	splunkCA := testpki.NewCA(t, "SplunkCommonCA")
	goodCert, _, _ := ca.Issue(t, testpki.Leaf{CN: "splunk", IPs: loopback, Client: false})
	otherHost, _, _ := ca.Issue(t, testpki.Leaf{CN: "other", Client: false})
	otherHost.Leaf = nil
	defaultCert, _, _ := splunkCA.Issue(t, testpki.Leaf{CN: "SplunkServerDefaultCert", Client: false})
	_, clientPEM, clientKey := ca.Issue(t, testpki.Leaf{CN: "siemsync", Client: true})
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(ca.Cert)

	type env struct {
		url  string
		recv *hecrecv.Receiver
	}
	plain := func(o hecrecv.Options, f hecrecv.Fault) func(t *testing.T) env {
		return func(t *testing.T) env {
			r, srv := receiver(t, o)
			r.SetFault(f)
			return env{srv.URL, r}
		}
	}
	overTLS := func(cfg *tls.Config) func(t *testing.T) env {
		return func(t *testing.T) env {
			r := hecrecv.New(hecrecv.Options{Tokens: []string{testToken}})
			return env{tlsReceiver(t, r, cfg).URL, r}
		}
	}
	closedPort := func(t *testing.T) env {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
		return env{url: "http://" + ln.Addr().String()}
	}

	all := []string{"url", "dns", "tcp", "health", "token"}
	allTLS := []string{"url", "dns", "tcp", "tls", "health", "token"}
	tests := []struct {
		name    string
		env     func(t *testing.T) env
		mod     func(*siemsync.Integration)
		private bool // leave AllowPrivate off
		send    bool
		steps   []string // names of the steps run; the last fails when msg is set
		msg     string
		sent    int
	}{
		{name: "good token", env: plain(hecrecv.Options{}, hecrecv.Fault{}), steps: all},
		{name: "good token with ack", env: plain(hecrecv.Options{Ack: true}, hecrecv.Fault{}), mod: func(in *siemsync.Integration) { in.Ack = true }, steps: all},
		{name: "send test event", env: plain(hecrecv.Options{}, hecrecv.Fault{}), send: true, steps: append(all, "send"), sent: 1},
		{name: "send test event with ack", env: plain(hecrecv.Options{Ack: true}, hecrecv.Fault{}), mod: func(in *siemsync.Integration) { in.Ack = true }, send: true, steps: append(all, "send"), sent: 1},
		{name: "bad token", env: plain(hecrecv.Options{Tokens: []string{"another"}}, hecrecv.Fault{}), steps: all,
			msg: "Splunk rejected the HEC token (code 4, Invalid token): check the token in the integration settings"},
		{name: "disabled token", env: plain(hecrecv.Options{DisabledTokens: []string{testToken}}, hecrecv.Fault{}), steps: all,
			msg: "the HEC token is disabled in Splunk (code 1, Token disabled)"},
		{name: "token requires ack", env: plain(hecrecv.Options{Ack: true}, hecrecv.Fault{}), steps: all,
			msg: "this HEC token requires indexer acknowledgement (code 10, Data channel is missing): turn on ack for the integration"},
		{name: "ack on, token without ack", env: plain(hecrecv.Options{}, hecrecv.Fault{}), mod: func(in *siemsync.Integration) { in.Ack = true }, steps: all,
			msg: "ack is on for this integration but disabled on the token (code 14"},
		{name: "HEC unhealthy", env: plain(hecrecv.Options{}, hecrecv.Fault{Down: true}), steps: []string{"url", "dns", "tcp", "health"},
			msg: "Splunk HEC is unhealthy: queues are full (code 18): Splunk does not accept data right now"},
		{name: "not a HEC endpoint", env: plain(hecrecv.Options{}, hecrecv.Fault{}), mod: func(in *siemsync.Integration) { in.URL += "/custom" },
			steps: []string{"url", "dns", "tcp", "health"}, msg: "no HEC health endpoint at http://127.0.0.1:"},
		{name: "bad URL", env: plain(hecrecv.Options{}, hecrecv.Fault{}), mod: func(in *siemsync.Integration) { in.URL = "splunk:8088" },
			steps: []string{"url"}, msg: "the HEC URL must be an http:// or https:// URL"},
		{name: "unknown host", env: plain(hecrecv.Options{}, hecrecv.Fault{}), mod: func(in *siemsync.Integration) { in.URL = "https://nonexistent.invalid:8088" },
			steps: []string{"url", "dns"}, msg: "nonexistent.invalid"},
		{name: "wrong port", env: closedPort, steps: []string{"url", "dns", "tcp"},
			msg: "refused: nothing listens on that port; check the port in the URL (HEC listens on 8088 by default)"},
		{name: "private destination", env: plain(hecrecv.Options{}, hecrecv.Fault{}), private: true, steps: []string{"url", "dns", "tcp"},
			msg: "the destination is a loopback address; siemsync refuses loopback, private, link-local and cloud-metadata destinations unless the operator allows them with --allow-private-destinations"},

		{name: "tls good", env: overTLS(&tls.Config{Certificates: []tls.Certificate{goodCert}}), mod: func(in *siemsync.Integration) { in.CAPEM = ca.PEM }, steps: allTLS},
		{name: "tls wrong CA", env: overTLS(&tls.Config{Certificates: []tls.Certificate{goodCert}}), mod: func(in *siemsync.Integration) { in.CAPEM = splunkCA.PEM },
			steps: []string{"url", "dns", "tcp", "tls"}, msg: `the certificate of 127.0.0.1 (issued by "Real CA") is signed by an authority siemsync does not trust: paste the CA certificate in ca_pem`},
		{name: "tls system roots", env: overTLS(&tls.Config{Certificates: []tls.Certificate{goodCert}}),
			steps: []string{"url", "dns", "tcp", "tls"}, msg: "is signed by an authority siemsync does not trust"},
		{name: "tls wrong host", env: overTLS(&tls.Config{Certificates: []tls.Certificate{otherHost}}), mod: func(in *siemsync.Integration) { in.CAPEM = ca.PEM },
			steps: []string{"url", "dns", "tcp", "tls"}, msg: "the certificate of 127.0.0.1 is for other (common name only, no subject alternative names), not 127.0.0.1"},
		{name: "tls splunk default cert, untrusted", env: overTLS(&tls.Config{Certificates: []tls.Certificate{defaultCert}}), mod: func(in *siemsync.Integration) { in.CAPEM = ca.PEM },
			steps: []string{"url", "dns", "tcp", "tls"}, msg: "presents Splunk's self-signed default certificate (SplunkServerDefaultCert)"},
		{name: "tls splunk default cert, CA trusted", env: overTLS(&tls.Config{Certificates: []tls.Certificate{defaultCert}}), mod: func(in *siemsync.Integration) { in.CAPEM = splunkCA.PEM },
			steps: []string{"url", "dns", "tcp", "tls"}, msg: "presents Splunk's self-signed default certificate (SplunkServerDefaultCert), which names no real host"},
		{name: "tls splunk default cert, server name set", env: overTLS(&tls.Config{Certificates: []tls.Certificate{defaultCert}}),
			mod: func(in *siemsync.Integration) { in.CAPEM = splunkCA.PEM; in.ServerName = "SplunkServerDefaultCert" }, steps: allTLS, msg: ""},
		{name: "tls skip verify", env: overTLS(&tls.Config{Certificates: []tls.Certificate{defaultCert}}), mod: func(in *siemsync.Integration) { in.InsecureSkipVerify = true }, steps: allTLS},
		{name: "client cert required, none sent, TLS 1.3", env: overTLS(&tls.Config{Certificates: []tls.Certificate{goodCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}),
			mod: func(in *siemsync.Integration) { in.CAPEM = ca.PEM }, steps: []string{"url", "dns", "tcp", "tls"}, msg: "127.0.0.1 requires a client certificate and refused the connection"},
		{name: "client cert required, none sent, TLS 1.2", env: overTLS(&tls.Config{Certificates: []tls.Certificate{goodCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs, MaxVersion: tls.VersionTLS12}),
			mod: func(in *siemsync.Integration) { in.CAPEM = ca.PEM }, steps: []string{"url", "dns", "tcp", "tls"}, msg: "probably requires a client certificate"},
		{name: "client cert required and sent", env: overTLS(&tls.Config{Certificates: []tls.Certificate{goodCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}),
			mod: func(in *siemsync.Integration) {
				in.CAPEM = ca.PEM
				in.ClientCertPEM = clientPEM
				in.ClientKeyPEM = clientKey
			}, send: true, steps: append(allTLS, "send"), sent: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.env(t)
			in := integration(e.url, tt.mod)
			steps := Check(t.Context(), in, Options{AllowPrivate: !tt.private, Hostname: "h"}, tt.send)
			var names []string
			for _, s := range steps {
				names = append(names, s.Name)
				if strings.Contains(s.Message, testToken) {
					t.Errorf("step %s leaks the token: %s", s.Name, s.Message)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.steps, ",") {
				t.Fatalf("steps %v, want %v\n%s", names, tt.steps, dump(steps))
			}
			for i, s := range steps {
				wantOK := tt.msg == "" || i < len(steps)-1
				if s.OK != wantOK {
					t.Fatalf("step %s ok=%v, want %v\n%s", s.Name, s.OK, wantOK, dump(steps))
				}
			}
			if last := steps[len(steps)-1]; tt.msg != "" && !strings.Contains(last.Message, tt.msg) {
				t.Fatalf("step %s: %q\nwant it to contain %q", last.Name, last.Message, tt.msg)
			}
			if e.recv != nil && e.recv.Count() != tt.sent {
				t.Fatalf("receiver indexed %d events, want %d", e.recv.Count(), tt.sent)
			}
			if tt.sent > 0 {
				var ev struct {
					Kind, ID string
				}
				json.Unmarshal(e.recv.Events()[0].Event, &ev)
				if ev.Kind != "test" || !strings.Contains(steps[len(steps)-1].Message, ev.ID) {
					t.Fatalf("test event %s; step %q", e.recv.Events()[0].Event, steps[len(steps)-1].Message)
				}
			}
		})
	}
}

func dump(steps []siemsync.Step) string {
	var b strings.Builder
	for _, s := range steps {
		b.WriteString("  " + s.Name + " ok=" + map[bool]string{true: "true", false: "false"}[s.OK] + ": " + s.Message + "\n")
	}
	return b.String()
}

// FuzzParseResponse feeds arbitrary answers to the parser and classifier:
// they must not panic, must pick a class, and must never echo the token.
func FuzzParseResponse(f *testing.F) {
	f.Add(200, []byte(`{"text":"Success","code":0}`), "")
	f.Add(400, []byte(`{"text":"Invalid data format","code":6,"invalid-event-number":3}`), "")
	f.Add(503, []byte(`{"text":"Server is busy","code":9}`), "12")
	f.Add(502, []byte("<html><body>Bad gateway "+testToken+"</body></html>"), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(403, []byte(`{"text":"`+testToken+`","code":"4"}`), "")
	f.Add(200, []byte(`OK`), "")
	f.Add(400, []byte(`{"code":1e400}`), "")
	f.Add(301, []byte{}, "-1")
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		status = 100 + abs(status)%500
		s := newTestSink(t, func(in *siemsync.Integration) { in.Token = testToken; in.Index = "i" }, Options{})
		a := parseResponse(status, body)
		a.retryAfter = parseRetryAfter(retryAfter, fixedNow)
		a.location = string(body)
		if a.retryAfter < 0 || a.retryAfter > maxRetryAfter {
			t.Fatalf("retryAfter %v", a.retryAfter)
		}
		e := s.classify(a, 10)
		if status/100 == 2 {
			if e != nil {
				t.Fatalf("2xx classified as %v", e)
			}
			return
		}
		if e == nil {
			t.Fatalf("HTTP %d classified as delivered", status)
		}
		if e.Class < sink.Retry || e.Class > sink.Config || e.Msg == "" {
			t.Fatalf("bad error %+v", e)
		}
		if e.Class == sink.BadEvent && (e.Index < -1 || e.Index >= 10) {
			t.Fatalf("index %d out of the batch", e.Index)
		}
		if strings.Contains(e.Error(), testToken) {
			t.Fatalf("message leaks the token: %s", e.Error())
		}
		if status != http.StatusRequestEntityTooLarge && e.Class == sink.TooLarge && a.code != 413 && a.code != -1 {
			t.Fatalf("TooLarge for HTTP %d code %d", status, a.code)
		}
	})
}

func abs(i int) int {
	if i < 0 {
		return -(i + 1)
	}
	return i
}

var fixedNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestCheckDNSSaysLittle: a host name that resolves inside the operator's
// network is refused at the DNS step without showing what it resolved to.
func TestCheckDNSSaysLittle(t *testing.T) {
	t.Parallel()
	in := integration("https://localhost:8088", nil)
	steps := Check(t.Context(), in, Options{Hostname: "h"}, false)
	last := steps[len(steps)-1]
	if last.Name != "dns" || last.OK {
		t.Fatalf("steps %+v: want the dns step to fail", steps)
	}
	for _, s := range steps {
		if strings.Contains(s.Message, "127.0.0.1") || strings.Contains(s.Message, "::1") {
			t.Errorf("step %s shows an internal address: %s", s.Name, s.Message)
		}
	}
	if !strings.Contains(last.Message, "localhost resolves only to addresses siemsync refuses") {
		t.Errorf("dns: %s", last.Message)
	}
}

// Splunk's usual answer skips the decoder; what it gives must be what the
// decoder gives for the same answer written otherwise.
func TestParseResponseSuccess(t *testing.T) {
	fast := parseResponse(200, []byte(" {\"text\":\"Success\",\"code\":0}\n"))
	slow := parseResponse(200, []byte(`{"code": 0, "text": "Success"}`))
	if !reflect.DeepEqual(fast, slow) {
		t.Errorf("fast path %+v, decoder %+v", fast, slow)
	}
	if !fast.json || fast.code != 0 || fast.text != "Success" || fast.ackID != -1 || fast.invalidEvent != -1 {
		t.Errorf("success = %+v", fast)
	}
}
