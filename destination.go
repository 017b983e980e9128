package siemsync

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// HEC destination forms (SPEC §8.1). Every way in (CLI, API, page) goes
// through ApplyDefaults, which calls normalizeHEC: one parser.
const (
	// DefaultHECPort is the port of a HEC URL that names none: Splunk's.
	DefaultHECPort = "8088"
	// RawPath is the path suffix of HEC's raw endpoint.
	RawPath = "/services/collector/raw"
)

// Query parameters of the Cloudflare Logpush form
// splunk://HOST:PORT/PATH?channel=…&insecure-skip-verify=…&sourcetype=…&header_Authorization=…
const (
	splunkScheme   = "splunk"
	qChannel       = "channel"
	qInsecure      = "insecure-skip-verify"
	qSourcetype    = "sourcetype"
	qAuthorization = "header_Authorization"
)

// IsRawEndpoint reports whether the HEC URL names the raw endpoint
// (…/services/collector/raw, with or without /1.0).
func IsRawEndpoint(rawURL string) bool {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return false
	}
	p := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/1.0")
	return strings.HasSuffix(p, RawPath)
}

// StripTokenPrefix returns a HEC token without the "Splunk " (or
// "Splunk%20") prefix that Splunk's own examples put in front of it in the
// Authorization header.
func StripTokenPrefix(tok string) string {
	tok = strings.TrimSpace(tok)
	for _, p := range []string{"Splunk ", "Splunk%20"} {
		if len(tok) > len(p) && strings.EqualFold(tok[:len(p)], p) {
			return strings.TrimSpace(tok[len(p):])
		}
	}
	return tok
}

// RedactHECURL returns rawURL without the token a splunk:// URL may carry,
// for showing a URL back (a form re-shown after an error). A URL that does
// not parse is dropped whole: it may hold a token in a shape not recognised.
func RedactHECURL(rawURL string) string {
	if !strings.Contains(strings.ToLower(rawURL), strings.ToLower(qAuthorization)) {
		return rawURL
	}
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return ""
	}
	q := u.Query()
	for k := range q {
		if strings.EqualFold(k, qAuthorization) {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// normalizeHEC reads the HEC destination forms into in's fields: a
// splunk:// URL becomes https://HOST:PORT/PATH plus channel,
// insecure_skip_verify, sourcetype and token; a "Splunk " prefix leaves the
// token; a URL without a port gets 8088; the raw endpoint gets a channel
// (generated once, then stored). Errors never quote the URL or the token.
func (in *Integration) normalizeHEC() error {
	in.Token = StripTokenPrefix(in.Token)
	raw := strings.TrimSpace(in.URL)
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes its input, which may hold a token: say less.
		return Invalid("url", "must be an http:// or https:// URL, e.g. https://splunk.example.com:8088, or Cloudflare Logpush's splunk://HOST:PORT/PATH?… form")
	}
	if strings.EqualFold(u.Scheme, splunkScheme) {
		if err := in.readSplunkURL(u); err != nil {
			return err
		}
	} else if u.Scheme == "http" || u.Scheme == "https" {
		for k := range u.Query() {
			if strings.EqualFold(k, qAuthorization) {
				return Invalid("url", "must not carry the token: put it in the token field, or use the splunk:// form")
			}
		}
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), DefaultHECPort)
	}
	in.URL = u.String()
	if in.Channel == "" && IsRawEndpoint(in.URL) {
		in.Channel = uuid.NewString()
	}
	return nil
}

// readSplunkURL turns the splunk:// form into fields, and u into the
// https URL it means.
func (in *Integration) readSplunkURL(u *url.URL) error {
	if u.User != nil {
		return Invalid("url", "must not contain credentials before the host: give the token as header_Authorization=Splunk%%20TOKEN")
	}
	q := u.Query()
	for k, vs := range q {
		if len(vs) != 1 {
			return Invalid("url", "gives a parameter more than once: give each of channel, insecure-skip-verify, sourcetype and header_Authorization once")
		}
		v := vs[0]
		switch {
		case strings.EqualFold(k, qChannel):
			in.Channel = v
		case strings.EqualFold(k, qInsecure):
			b, err := strconv.ParseBool(v)
			if err != nil {
				return Invalid("url", "insecure-skip-verify must be true or false")
			}
			in.InsecureSkipVerify = b
		case strings.EqualFold(k, qSourcetype):
			in.Sourcetype = v
		case strings.EqualFold(k, qAuthorization):
			// Query() has already URL-decoded it: "Splunk%20T" is "Splunk T".
			in.Token = StripTokenPrefix(v)
			if in.Token == "" {
				return Invalid("url", "header_Authorization is empty: it should be Splunk%%20 followed by the HEC token")
			}
		default:
			// The name is not quoted: a mistyped header_Authorization
			// (say "header_Authorization:Splunk TOKEN") is all token.
			return Invalid("url", "has a parameter the splunk:// form does not take: it takes channel, insecure-skip-verify, sourcetype and header_Authorization=Splunk%%20TOKEN")
		}
	}
	u.Scheme, u.RawQuery, u.Fragment = "https", "", ""
	return nil
}
