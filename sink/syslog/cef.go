package syslog

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// CEF escaping (ArcSight "Implementing ArcSight CEF", rev. 25):
//
//   - header fields: backslash is written \\ and pipe \| ; a header field
//     cannot hold a line break, so CR and LF become a space;
//   - extension values: backslash is written \\, equals sign \= , LF \n and
//     CR \r ; the pipe needs no escape there and is written as is.
//
// Both also clean what no CEF parser expects: bytes that are not UTF-8
// become U+FFFD, and the other control characters (U+0000–U+001F except CR
// and LF, U+007F, U+0080–U+009F) become a space. So every record is one
// line of printable UTF-8 whatever the input: a user-controlled value can
// neither end the frame (LF framing, NUL/CR trailers of some receivers) nor
// add a header field or an extension key.

// EscapeHeader appends s to dst as a CEF header field value.
func EscapeHeader(dst []byte, s string) []byte {
	for _, r := range s { // invalid UTF-8 decodes as U+FFFD
		r = cleanRune(r)
		switch r {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '|':
			dst = append(dst, '\\', '|')
		case '\n', '\r':
			dst = append(dst, ' ')
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

// EscapeExtension appends s to dst as a CEF extension value.
func EscapeExtension(dst []byte, s string) []byte {
	for _, r := range s {
		r = cleanRune(r)
		switch r {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '=':
			dst = append(dst, '\\', '=')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}

// Clean returns s as the encoder sees it before escaping: invalid UTF-8
// replaced by U+FFFD and control characters other than CR and LF replaced
// by a space. In a header field CR and LF become a space as well (header
// true). A parsed record yields exactly the cleaned (and truncated) values.
func Clean(s string, header bool) string {
	rs := cleanRunes(s)
	if header {
		for i, r := range rs {
			if r == '\n' || r == '\r' {
				rs[i] = ' '
			}
		}
	}
	return string(rs)
}

func cleanRunes(s string) []rune {
	rs := make([]rune, 0, len(s))
	for _, r := range s { // invalid UTF-8 decodes as U+FFFD
		rs = append(rs, cleanRune(r))
	}
	return rs
}

// cleanRune maps control characters other than CR and LF to a space.
func cleanRune(r rune) rune {
	if isControl(r) && r != '\n' && r != '\r' {
		return ' '
	}
	return r
}

// isClean reports whether s is valid UTF-8 without control characters
// (CR and LF included) and at most maxRunes characters: then cleaning
// and truncating leave it as it is.
func isClean(s string, maxRunes int) bool {
	if len(s) > maxRunes && utf8.RuneCountInString(s) > maxRunes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			// Non-ASCII: check the rest rune by rune.
			for _, r := range s[i:] {
				if r == utf8.RuneError || isControl(r) {
					return false // U+FFFD itself is fine but rare: take the slow path
				}
			}
			return true
		}
	}
	return true
}

func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f)
}

// escapedLen is the length in bytes of the escaped form of one cleaned rune.
func escapedLen(r rune, header bool) int {
	switch r {
	case '\\':
		return 2
	case '|':
		if header {
			return 2
		}
	case '=', '\n', '\r':
		if !header {
			return 2
		}
		return 1
	}
	return utf8.RuneLen(r)
}

// Marker ends a value that was cut, so the reader of the SIEM knows it is
// not the whole value. It counts in the value's limits.
const Marker = '…'

// truncate cleans s and cuts it to at most maxRunes characters and at most
// maxBytes escaped bytes (maxBytes < 0: no byte limit), at a character
// boundary, so an escape sequence or a UTF-8 sequence is never split. A cut
// value ends with Marker (or is empty when even the marker does not fit).
func truncate(s string, header bool, maxRunes, maxBytes int) string {
	if maxBytes < 0 && isClean(s, maxRunes) {
		return s
	}
	rs := cleanRunes(s)
	if header {
		for i, r := range rs {
			if r == '\n' || r == '\r' {
				rs[i] = ' '
			}
		}
	}
	n, size := 0, 0
	for ; n < len(rs) && n < maxRunes; n++ {
		l := escapedLen(rs[n], header)
		if maxBytes >= 0 && size+l > maxBytes {
			break
		}
		size += l
	}
	if n == len(rs) {
		return string(rs)
	}
	// Cut: make room for the marker.
	markLen := utf8.RuneLen(Marker)
	for n > 0 && (n+1 > maxRunes || maxBytes >= 0 && size+markLen > maxBytes) {
		n--
		size -= escapedLen(rs[n], header)
	}
	if n+1 > maxRunes || maxBytes >= 0 && size+markLen > maxBytes {
		return ""
	}
	return string(append(rs[:n:n], Marker))
}

// escLen is the escaped length in bytes of an already cleaned value.
func escLen(s string, header bool) int {
	n := 0
	for _, r := range s {
		n += escapedLen(r, header)
	}
	return n
}

// CEF is a parsed CEF record.
type CEF struct {
	Version     string // "0"
	Vendor      string
	Product     string
	DeviceVer   string
	SignatureID string
	Name        string
	Severity    string
	// Ext holds the extension values, unescaped; Keys lists the keys in
	// the order they appear.
	Ext  map[string]string
	Keys []string
}

// ParseCEF parses a CEF record ("CEF:0|…|…|…|…|…|…|k=v …") strictly: the
// header must have exactly seven unescaped pipes before the extension, every
// escape must be one the CEF rules define, keys must be alphanumeric (or _)
// and appear once. It is the inverse of the encoder and is used by the tests
// and the fuzz test to prove that records round-trip.
func ParseCEF(rec string) (*CEF, error) {
	if !strings.HasPrefix(rec, "CEF:") {
		return nil, errors.New("record does not start with CEF:")
	}
	var fields []string
	var cur strings.Builder
	i := len("CEF:")
	for ; i < len(rec) && len(fields) < 7; i++ {
		c := rec[i]
		switch c {
		case '\\':
			if i+1 >= len(rec) {
				return nil, errors.New("header ends with a lone backslash")
			}
			switch rec[i+1] {
			case '\\', '|':
				cur.WriteByte(rec[i+1])
				i++
			default:
				return nil, fmt.Errorf("header field %d: invalid escape \\%c", len(fields)+1, rec[i+1])
			}
		case '|':
			fields = append(fields, cur.String())
			cur.Reset()
		case '\n', '\r':
			return nil, fmt.Errorf("header field %d holds a line break", len(fields)+1)
		default:
			cur.WriteByte(c)
		}
	}
	if len(fields) != 7 {
		return nil, fmt.Errorf("header has %d unescaped pipes, want 7", len(fields))
	}
	c := &CEF{
		Version: fields[0], Vendor: fields[1], Product: fields[2], DeviceVer: fields[3],
		SignatureID: fields[4], Name: fields[5], Severity: fields[6],
	}
	ext, keys, err := ParseExtension(rec[i:])
	if err != nil {
		return nil, err
	}
	c.Ext, c.Keys = ext, keys
	return c, nil
}

// ParseExtension parses a CEF extension: space-separated key=value pairs
// where a value runs up to the space before the next unescaped '='s key.
func ParseExtension(s string) (map[string]string, []string, error) {
	ext := map[string]string{}
	var keys []string
	if s == "" {
		return ext, nil, nil
	}
	if strings.ContainsAny(s, "\r\n") {
		return nil, nil, errors.New("extension holds a raw line break")
	}
	// Positions of unescaped '='.
	var eqs []int
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '=':
			eqs = append(eqs, i)
		}
	}
	if len(eqs) == 0 {
		return nil, nil, errors.New("extension has no key=value pair")
	}
	type span struct{ keyStart, eq int }
	spans := make([]span, len(eqs))
	for n, eq := range eqs {
		ks := strings.LastIndexByte(s[:eq], ' ') + 1
		if n == 0 && ks != 0 {
			return nil, nil, fmt.Errorf("extension starts with %q before its first key", s[:ks])
		}
		if n > 0 && ks <= eqs[n-1] {
			return nil, nil, fmt.Errorf("no space before key at offset %d", eq)
		}
		spans[n] = span{ks, eq}
	}
	for n, sp := range spans {
		key := s[sp.keyStart:sp.eq]
		if !validKey(key) {
			return nil, nil, fmt.Errorf("invalid extension key %q", key)
		}
		end := len(s)
		if n+1 < len(spans) {
			end = spans[n+1].keyStart - 1 // the separating space
		}
		v, err := UnescapeExtension(s[sp.eq+1 : end])
		if err != nil {
			return nil, nil, fmt.Errorf("value of %s: %w", key, err)
		}
		if _, dup := ext[key]; dup {
			return nil, nil, fmt.Errorf("key %s appears twice", key)
		}
		ext[key] = v
		keys = append(keys, key)
	}
	return ext, keys, nil
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// UnescapeExtension reverses EscapeExtension; an escape CEF does not define
// (or a lone trailing backslash) is an error.
func UnescapeExtension(v string) (string, error) {
	if !strings.Contains(v, `\`) {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(v) {
			return "", errors.New("lone trailing backslash")
		}
		i++
		switch v[i] {
		case '\\':
			b.WriteByte('\\')
		case '=':
			b.WriteByte('=')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			return "", fmt.Errorf("invalid escape \\%c", v[i])
		}
	}
	return b.String(), nil
}

// CheckHeader validates the deployment's CEF header fields (an empty one
// takes the default): at most LimitVendor / LimitVersion characters of
// printable UTF-8. Pipes and backslashes are allowed: the encoder escapes
// them (\| and \\), so they cannot add a header field.
func CheckHeader(vendor, product, version string) error {
	for _, f := range []struct {
		flag, v string
		limit   int
	}{{"--cef-vendor", vendor, LimitVendor}, {"--cef-product", product, LimitVendor}, {"--cef-version", version, LimitVersion}} {
		if !utf8.ValidString(f.v) || strings.ContainsFunc(f.v, isControl) {
			return fmt.Errorf("%s: must be printable text without line breaks or control characters", f.flag)
		}
		if n := utf8.RuneCountInString(f.v); n > f.limit {
			return fmt.Errorf("%s: %d characters is more than the %d a CEF header field holds", f.flag, n, f.limit)
		}
	}
	return nil
}
