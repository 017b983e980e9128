package siemsync_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/siemsync/siemsync"
)

func validHEC() *siemsync.Integration {
	in := &siemsync.Integration{
		Account: "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90", Name: "Splunk", Kind: siemsync.KindHEC,
		Sources: []string{"audit"}, URL: "https://splunk.example.com:8088", Token: "t",
	}
	in.ApplyDefaults()
	return in
}

// TestValidateRefusesControlCharacters: text that list and show print
// (and the page shows) cannot carry a terminal escape sequence, a line
// break or a bidirectional override.
func TestValidateRefusesControlCharacters(t *testing.T) {
	if err := validHEC().Validate(); err != nil {
		t.Fatalf("valid integration: %v", err)
	}
	for _, tc := range []struct {
		field string
		set   func(in *siemsync.Integration, v string)
	}{
		{"name", func(in *siemsync.Integration, v string) { in.Name = "Splunk" + v }},
		{"index", func(in *siemsync.Integration, v string) { in.Index = "main" + v }},
		{"sourcetype", func(in *siemsync.Integration, v string) { in.Sourcetype = "_json" + v }},
		{"source", func(in *siemsync.Integration, v string) { in.Source = "siemsync" + v }},
		{"server_name", func(in *siemsync.Integration, v string) { in.ServerName = "splunk" + v }},
	} {
		for _, bad := range []string{"\x1b[2J\x1b]0;pwned\x07", "\t", "\u009b31m", "\u202egnp.exe", "\x7f"} {
			in := validHEC()
			tc.set(in, bad)
			err := in.Validate()
			var fe *siemsync.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Msg, "control characters") {
				t.Errorf("%s with %q: %v", tc.field, bad, err)
			}
		}
	}
}
