package siemsync

import (
	"reflect"
	"testing"
	"time"

	"github.com/siemsync/siemsync/internal/testpki"
)

// certPEM is a certificate with the given lifetime.
func certPEM(t *testing.T, cn string, notBefore, notAfter time.Time) string {
	return testpki.NewCAValid(t, cn, testpki.Validity{NotBefore: notBefore, NotAfter: notAfter}).PEM
}

func TestConfigWarnings(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	year := certPEM(t, "long", now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
	soon := certPEM(t, "soon", now.AddDate(-1, 0, 0), now.Add(10*24*time.Hour+time.Hour))
	today := certPEM(t, "today", now.AddDate(-1, 0, 0), now.Add(3*time.Hour))
	expired := certPEM(t, "old", now.AddDate(-2, 0, 0), now.Add(-5*24*time.Hour))
	future := certPEM(t, "future", now.Add(48*time.Hour), now.AddDate(1, 0, 0))

	tests := []struct {
		name string
		in   Integration
		want []string
	}{
		{"clean", Integration{Kind: KindHEC, URL: "https://s:8088", CAPEM: year, ClientCertPEM: year}, nil},
		{"skip verify", Integration{Kind: KindHEC, URL: "https://s:8088", InsecureSkipVerify: true},
			[]string{"TLS certificate verification is off (insecure_skip_verify): anyone on the path can read the data"}},
		{"plain http", Integration{Kind: KindHEC, URL: "http://s:8088"},
			[]string{"the HEC URL uses http://: the events and the token travel unencrypted; use https://"}},
		{"plain syslog", Integration{Kind: KindSyslog, Protocol: "tcp"},
			[]string{"syslog over plain TCP: the events travel unencrypted; use tls"}},
		{"client cert soon", Integration{Kind: KindHEC, URL: "https://s", ClientCertPEM: soon},
			[]string{"client certificate expires on 2026-03-11 (in 10 days): renew it"}},
		{"client cert today", Integration{Kind: KindHEC, URL: "https://s", ClientCertPEM: today},
			[]string{"client certificate expires on 2026-03-01 (in less than a day): renew it"}},
		{"client cert expired", Integration{Kind: KindHEC, URL: "https://s", ClientCertPEM: expired},
			[]string{"client certificate expired on 2026-02-24 (5 days ago): renew it; connections will fail"}},
		{"ca bundle", Integration{Kind: KindHEC, URL: "https://s", CAPEM: year + expired + future + soon},
			[]string{
				`CA certificate "old" expired on 2026-02-24 (5 days ago): renew it; connections will fail`,
				`CA certificate "future" is not valid before 2026-03-03: check the certificate and the server's clock`,
				`CA certificate "soon" expires on 2026-03-11 (in 10 days): renew it`,
			}},
		{"garbage pem", Integration{Kind: KindHEC, URL: "https://s", CAPEM: "nope", ClientCertPEM: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.ConfigWarnings(now)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ConfigWarnings\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
