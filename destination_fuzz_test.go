package siemsync

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzHECDestination: whatever is typed as the URL and token, reading the
// destination forms never panics, never quotes the token in an error, and
// never stores a URL that still carries it.
func FuzzHECDestination(f *testing.F) {
	f.Add("splunk://s:8088/services/collector/raw?channel=0b6f4a0e-6b53-4c5e-9d0a-3f1f5c2a7e10&insecure-skip-verify=true&sourcetype=x&header_Authorization=Splunk%20", "tok-123456")
	f.Add("https://s/services/collector", "Splunk tok-123456")
	f.Add("https://[::1]/services/collector/raw/1.0", "Splunk%20tok-123456")
	f.Add("splunk://%zz", "")
	f.Add("https://s:8088?header_Authorization=x", "")
	f.Fuzz(func(t *testing.T, rawURL, secret string) {
		if len(secret) < 8 || strings.ContainsAny(secret, "%&#?= +") {
			return // a short or URL-special token could appear in the URL by chance
		}
		in := hecIntegration(strings.ReplaceAll(rawURL, "TOKEN", url.QueryEscape(secret)), "")
		in.ApplyDefaults()
		err := in.Validate()
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Fatalf("error quotes the token: %v", err)
		}
		if err == nil && strings.Contains(strings.ToLower(in.URL), "header_authorization") {
			t.Fatalf("stored URL carries the token parameter: %s", in.URL)
		}
	})
}

// FuzzGlobMatch: matching terminates and a pattern matches itself when it
// has no wildcard or escape.
func FuzzGlobMatch(f *testing.F) {
	f.Add("Sign in*", "Sign in failed")
	f.Add("a*b*c*d*e*f", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")
	f.Add(`\*?`, "*x")
	f.Fuzz(func(t *testing.T, p, s string) {
		GlobMatch(p, s)
		if !strings.ContainsAny(p, `*?\`) && !GlobMatch(p, p) {
			t.Fatalf("%q does not match itself", p)
		}
		if !GlobMatch("*", s) {
			t.Fatalf("* does not match %q", s)
		}
	})
}
