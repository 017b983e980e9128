package siemsync

import (
	"strings"
	"testing"
)

const destToken = "8a1f3c2e-7b6d-4e5f-9a0b-c1d2e3f4a5b6"

func hecIntegration(url, token string) *Integration {
	return &Integration{Account: "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90", Name: "n", Kind: KindHEC,
		Sources: []string{SourceAudit}, URL: url, Token: token}
}

func TestHECDestinationForms(t *testing.T) {
	const ch = "0b6f4a0e-6b53-4c5e-9d0a-3f1f5c2a7e10"
	tests := []struct {
		name, url, token string
		wantURL, wantTok string
		wantCh, wantST   string
		wantInsecure     bool
		generatedChannel bool
	}{
		{name: "logpush form", url: "splunk://splunk.example.com:8088/services/collector/raw?channel=" + ch + "&insecure-skip-verify=true&sourcetype=cloudflare:json&header_Authorization=Splunk%20" + destToken,
			wantURL: "https://splunk.example.com:8088/services/collector/raw", wantTok: destToken, wantCh: ch, wantST: "cloudflare:json", wantInsecure: true},
		{name: "logpush form without port", url: "splunk://splunk.example.com/services/collector/raw?channel=" + ch + "&insecure-skip-verify=false&sourcetype=x&header_Authorization=Splunk%20" + destToken,
			wantURL: "https://splunk.example.com:8088/services/collector/raw", wantTok: destToken, wantCh: ch, wantST: "x"},
		{name: "token with Splunk prefix", url: "https://s.example.com:8088", token: "Splunk " + destToken,
			wantURL: "https://s.example.com:8088", wantTok: destToken, wantST: DefaultSourcetype},
		{name: "token with encoded prefix", url: "https://s.example.com:8088", token: "Splunk%20" + destToken,
			wantURL: "https://s.example.com:8088", wantTok: destToken, wantST: DefaultSourcetype},
		{name: "no port means 8088", url: "https://s.example.com/services/collector/event", token: destToken,
			wantURL: "https://s.example.com:8088/services/collector/event", wantTok: destToken, wantST: DefaultSourcetype},
		{name: "raw endpoint gets a channel", url: "https://s.example.com:8088/services/collector/raw", token: destToken,
			wantURL: "https://s.example.com:8088/services/collector/raw", wantTok: destToken, wantST: DefaultSourcetype, generatedChannel: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := hecIntegration(tt.url, tt.token)
			in.ApplyDefaults()
			if err := in.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if in.URL != tt.wantURL || in.Token != tt.wantTok || in.Sourcetype != tt.wantST || in.InsecureSkipVerify != tt.wantInsecure {
				t.Errorf("got url %q token %q sourcetype %q insecure %v", in.URL, in.Token, in.Sourcetype, in.InsecureSkipVerify)
			}
			switch {
			case tt.generatedChannel && !ValidUUID(in.Channel):
				t.Errorf("channel %q, want a generated GUID", in.Channel)
			case !tt.generatedChannel && in.Channel != tt.wantCh:
				t.Errorf("channel %q, want %q", in.Channel, tt.wantCh)
			}
			// Applying the defaults again (an update) keeps the channel.
			before := in.Channel
			in.ApplyDefaults()
			if in.Channel != before {
				t.Errorf("channel changed on a second ApplyDefaults: %q -> %q", before, in.Channel)
			}
		})
	}
}

// TestHECDestinationErrors: a bad destination is refused on the url field,
// and the message never quotes the token.
func TestHECDestinationErrors(t *testing.T) {
	for _, url := range []string{
		"splunk://s:8088/services/collector/raw?header_Authorization=Splunk%20" + destToken + "&color=blue",
		"splunk://s:8088/services/collector/raw?header_Authorization=Splunk%20" + destToken + "&insecure-skip-verify=maybe",
		"splunk://s:8088/services/collector/raw?header_Authorization=Splunk%20" + destToken + "&channel=not-a-guid",
		"splunk://s:8088/p?header_Authorization=Splunk%20" + destToken + "&header_Authorization=x",
		"https://s:8088/services/collector?header_Authorization=Splunk%20" + destToken,
		"splunk://user:" + destToken + "@s:8088/services/collector/raw",
		"https://s:8088/%zz" + destToken,
	} {
		in := hecIntegration(url, "")
		in.ApplyDefaults()
		err := in.Validate()
		if err == nil {
			t.Errorf("%s: accepted", url)
			continue
		}
		if strings.Contains(err.Error(), destToken) {
			t.Errorf("the error quotes the token: %v", err)
		}
		if fe, ok := err.(*FieldError); !ok || (fe.Field != "url" && fe.Field != "channel") {
			t.Errorf("%s: error %v is not on url/channel", url, err)
		}
	}
}

func TestRedactHECURL(t *testing.T) {
	got := RedactHECURL("splunk://s:8088/services/collector/raw?channel=c&header_Authorization=Splunk%20" + destToken)
	if strings.Contains(got, destToken) || !strings.Contains(got, "channel=c") {
		t.Errorf("RedactHECURL = %q", got)
	}
	if got := RedactHECURL("https://s:8088"); got != "https://s:8088" {
		t.Errorf("RedactHECURL changed a URL without a token: %q", got)
	}
}

func TestSyslogHostPort(t *testing.T) {
	for _, tt := range []struct{ addr, proto, host, port string }{
		{"siem.example.com", "tls", "siem.example.com", "6514"},
		{"siem.example.com", "tcp", "siem.example.com", "601"},
		{"siem.example.com:1514", "tls", "siem.example.com", "1514"},
		{"192.0.2.1", "tcp", "192.0.2.1", "601"},
		{"2001:db8::1", "tls", "2001:db8::1", "6514"},
		{"[2001:db8::1]", "tls", "2001:db8::1", "6514"},
		{"[2001:db8::1]:514", "tcp", "2001:db8::1", "514"},
	} {
		h, p, err := SyslogHostPort(tt.addr, tt.proto)
		if err != nil || h != tt.host || p != tt.port {
			t.Errorf("SyslogHostPort(%q, %s) = %q, %q, %v", tt.addr, tt.proto, h, p, err)
		}
	}
	for _, bad := range []string{"", ":514", "host:0", "host:x", "a b", "h/p"} {
		if _, _, err := SyslogHostPort(bad, "tls"); err == nil {
			t.Errorf("SyslogHostPort(%q) accepted", bad)
		}
	}
}
