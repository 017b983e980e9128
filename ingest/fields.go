package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/siemsync/siemsync"
)

// Examples used in messages.
const (
	exampleUUID = "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90"
	exampleTime = "2026-11-21T15:04:05Z"
)

// MaxIDLength is the longest audit id accepted, in characters.
const MaxIDLength = 128

var (
	errNotObject = errors.New("not an object")
	errNotUTF8   = errors.New("not UTF-8")
)

// fieldErr is a problem with one field of the current line; the line number
// is added by the caller.
func fieldErr(field, format string, args ...any) error {
	return &siemsync.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// parser turns lines into records. It keeps the scratch space of the lexer
// and interns the short strings that repeat from record to record (accounts,
// users, event names), so a file allocates each of them once.
type parser struct {
	lx      lexer
	account string // Options.Account, normalized; "" for none
	intern  map[string]string
	ips     map[string]string // addresses already checked, interned
	seen    uint32            // bit per known field of the current line
	idBuf   []byte            // scratch for generated ids
}

const (
	maxInterned    = 8192
	maxInternedLen = 128
)

func newParser(account string) *parser {
	return &parser{account: account, intern: make(map[string]string, 64), ips: make(map[string]string, 64)}
}

// str returns b as a string, sharing one copy of repeated values.
func (p *parser) str(b []byte) string {
	if s, ok := p.intern[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(p.intern) < maxInterned && len(b) <= maxInternedLen {
		p.intern[s] = s
	}
	return s
}

// start readies the parser for a line. The lexer relies on the line being
// valid UTF-8, as JSON text must be.
func (p *parser) start(line []byte) error {
	if !utf8.Valid(line) {
		return errNotUTF8
	}
	p.lx.b, p.lx.i, p.seen = line, 0, 0
	return nil
}

// once marks field bit as seen, refusing a field given twice.
func (p *parser) once(bit uint32, name string) error {
	if p.seen&bit != 0 {
		return fieldErr(name, "appears twice in the record: give each field once")
	}
	p.seen |= bit
	return nil
}

// optString reads a string or null; "" and null both mean absent.
func (p *parser) optString(name string) ([]byte, error) {
	if isNull, err := p.lx.null(); isNull || err != nil {
		return nil, err
	}
	if p.lx.peek() != '"' {
		return nil, p.typeErr(name, "must be a string")
	}
	return p.lx.str()
}

// typeErr reports a value of the wrong JSON type, unless the value is not
// JSON at all: then that is the problem to report.
func (p *parser) typeErr(name, want string) error {
	kind := p.lx.kind()
	if p.lx.peek() == 0 {
		return p.lx.fail("expected a value")
	}
	if _, err := p.lx.skip(0); err != nil {
		return err
	}
	return fieldErr(name, "%s, not %s", want, kind)
}

// uuidField reads an optional UUID and returns it in canonical lower case.
func (p *parser) uuidField(name string) (string, error) {
	b, err := p.optString(name)
	if err != nil || len(b) == 0 {
		return "", err
	}
	if !validUUID(b) {
		return "", fieldErr(name, "must be a UUID such as %s, not %s", exampleUUID, quote(b))
	}
	// Canonical lower case, so one account is one account however its id
	// is written.
	if bytes.ContainsAny(b, "ABCDEF") {
		return p.str(bytes.ToLower(b)), nil
	}
	return p.str(b), nil
}

// accountField reads the account and checks it against Options.Account.
func (p *parser) accountField() (string, error) {
	acct, err := p.uuidField("account")
	if err != nil {
		return "", err
	}
	if acct != "" && p.account != "" && acct != p.account {
		return "", fieldErr("account", "is %s but the records were sent for account %s: send each account's records to its own account", acct, p.account)
	}
	return acct, nil
}

// timeField reads an optional RFC 3339 time, returned in UTC.
func (p *parser) timeField(name string) (time.Time, error) {
	b, err := p.optString(name)
	if err != nil || len(b) == 0 {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err == nil && !strictRFC3339(b) {
		err = errors.New("not RFC 3339")
	}
	if err != nil {
		return time.Time{}, fieldErr(name, "must be an RFC 3339 time such as %s, not %s", exampleTime, quote(b))
	}
	t = t.UTC()
	// A year outside 1–9999 in UTC cannot be written back as RFC 3339.
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, fieldErr(name, "must be between years 0001 and 9999 in UTC, not %s", quote(b))
	}
	return t, nil
}

// strictRFC3339 refuses what time.Parse lets through but RFC 3339 (and the
// schema in schema/) does not: a comma before the fraction, and an offset
// beyond 23:59.
func strictRFC3339(b []byte) bool {
	if bytes.IndexByte(b, ',') >= 0 {
		return false
	}
	if n := len(b); n >= 6 && (b[n-6] == '+' || b[n-6] == '-') {
		hh := int(b[n-5]-'0')*10 + int(b[n-4]-'0')
		mm := int(b[n-2]-'0')*10 + int(b[n-1]-'0')
		return hh <= 23 && mm <= 59
	}
	return true
}

// validUUID checks the canonical 8-4-4-4-12 hex form.
func validUUID(b []byte) bool {
	if len(b) != 36 {
		return false
	}
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// checkID checks an audit id: 1–128 printable characters.
func checkID(b []byte) error {
	n := 0
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		n++
		if !unicode.IsPrint(r) {
			return fieldErr("id", "must be printable: character %d is %U; use letters, digits and punctuation", n, r)
		}
		i += size
	}
	if n > MaxIDLength {
		return fieldErr("id", "must be at most %d characters, not %d", MaxIDLength, n)
	}
	return nil
}

// ip checks an IPv4 or IPv6 address. Users come back from the same
// addresses, so a checked address is remembered and not parsed again.
func (p *parser) ip(b []byte) (string, error) {
	if s, ok := p.ips[string(b)]; ok {
		return s, nil
	}
	s := string(b)
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return "", fieldErr("ip", "must be an IPv4 or IPv6 address such as 203.0.113.7 or 2001:db8::1, not %s", quote(b))
	}
	// A zone (fe80::1%eth0) is free text of any length: it names an
	// interface of the sender's host, which means nothing to a SIEM, and
	// would carry whatever it holds into every destination.
	if addr.Zone() != "" {
		return "", fieldErr("ip", "must be a plain IPv4 or IPv6 address without a zone (the part after %%), not %s: send the address alone, such as fe80::1", quote(b))
	}
	if len(p.ips) < maxInterned {
		p.ips[s] = s
	}
	return s, nil
}

// quote shows a value in a message, shortened if long.
func quote(b []byte) string {
	const max = 64
	if utf8.RuneCount(b) > max {
		r := []rune(string(b))
		return strconv.Quote(string(r[:max])) + "…"
	}
	return strconv.Quote(string(b))
}

// unknownField names a key that is not a field of the record.
func unknownField(key []byte, record, fields string) error {
	name := string(key)
	if !printableName(name) {
		name = quote(key)
	}
	return fieldErr(name, "is not a field of %s: use %s", record, fields)
}

func printableName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == '"' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
