package ingest

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A hand-written reader for the one shape ingest accepts: a flat JSON
// object per line whose values are strings, numbers, null or (metadata) any
// JSON object. encoding/json into a struct costs about 9 µs for a 400-byte
// record on the 2-core target machine, most of the 10 µs a record may take
// at 100,000 records/s; this reader takes well under 1 µs. It is also
// stricter where strictness helps people: keys match exactly (encoding/json
// matches "Time" to time) and a key given twice is an error.
//
// The line is known to be valid UTF-8 before lexing starts.

// maxDepth bounds nesting inside metadata.
const maxDepth = 512

// syntaxError is malformed JSON at a byte offset of the line.
type syntaxError struct {
	off int
	msg string
}

// lexer reads one line.
type lexer struct {
	b   []byte
	i   int
	buf []byte // scratch for unescaped strings, reused
}

func (l *lexer) fail(msg string) *syntaxError { return &syntaxError{off: l.i, msg: msg} }

func (l *lexer) ws() {
	for l.i < len(l.b) {
		switch l.b[l.i] {
		case ' ', '\t', '\r', '\n':
			l.i++
		default:
			return
		}
	}
}

// peek is the next byte after white space, or 0 at the end.
func (l *lexer) peek() byte {
	l.ws()
	if l.i < len(l.b) {
		return l.b[l.i]
	}
	return 0
}

// object reads a flat object, calling field for each key with the lexer
// positioned on the value; field must consume the value.
func (l *lexer) object(field func(key []byte) error) error {
	if l.peek() != '{' {
		return errNotObject
	}
	l.i++
	if l.peek() == '}' {
		l.i++
		return l.end()
	}
	for {
		if l.peek() != '"' {
			return l.fail("expected a quoted field name")
		}
		key, err := l.str()
		if err != nil {
			return err
		}
		// key may point into l.buf, which the value may reuse: copy it
		// unless it is a slice of the line (the common case).
		if len(key) > 0 && len(l.buf) > 0 && &key[0] == &l.buf[0] {
			key = bytes.Clone(key)
		}
		if l.peek() != ':' {
			return l.fail("expected ':' after the field name")
		}
		l.i++
		l.ws()
		if err := field(key); err != nil {
			return err
		}
		switch l.peek() {
		case ',':
			l.i++
		case '}':
			l.i++
			return l.end()
		default:
			return l.fail("expected ',' or '}' after a value")
		}
	}
}

// end checks that nothing but white space follows the object.
func (l *lexer) end() error {
	if l.peek() != 0 {
		return l.fail("unexpected text after the end of the object")
	}
	return nil
}

// kind names the JSON type of the next value, for type errors.
func (l *lexer) kind() string {
	switch l.peek() {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return "not a JSON value"
}

// null consumes a null literal if one is next.
func (l *lexer) null() (bool, error) {
	if l.peek() != 'n' {
		return false, nil
	}
	return true, l.literal("null")
}

func (l *lexer) literal(lit string) error {
	if !bytes.HasPrefix(l.b[l.i:], []byte(lit)) {
		return l.fail("invalid literal: expected " + lit)
	}
	l.i += len(lit)
	return nil
}

// str reads a string (l.b[l.i] is '"') and returns its unescaped content.
// Without escapes the result is a slice of the line; with them it is a
// slice of l.buf, valid until the next call.
func (l *lexer) str() ([]byte, error) {
	l.i++ // opening quote
	start := l.i
	l.i += plainLen(l.b[l.i:])
	switch {
	case l.i >= len(l.b):
		return nil, l.fail("unterminated string")
	case l.b[l.i] == '"':
		l.i++
		return l.b[start : l.i-1], nil
	case l.b[l.i] == '\\':
		return l.strEscaped(start)
	}
	return nil, l.fail("control character in a string: escape it, e.g. \\n")
}

// plainLen is how many bytes at the start of b are plain string content:
// no quote, backslash or control character. Strings are most of a line,
// so it looks at eight bytes at a time (a third of siemsync's parsing
// time went to the byte-by-byte loop): in each 64-bit word, a byte equal
// to c sets its top bit in (x^c - 0x01…) &^ (x^c), a byte below 0x20 in
// (x - 0x20…) &^ x. A borrow can set bits above a match, never below, so
// the lowest bit set marks the first byte that ends the plain run.
func plainLen(b []byte) int {
	const ones, tops = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q, s := x^('"'*ones), x^('\\'*ones)
		if m := ((q-ones)&^q | (s-ones)&^s | (x-0x20*ones)&^x) & tops; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}

func (l *lexer) strEscaped(start int) ([]byte, error) {
	buf := append(l.buf[:0], l.b[start:l.i]...)
	for l.i < len(l.b) {
		c := l.b[l.i]
		switch {
		case c == '"':
			l.i++
			l.buf = buf
			return buf, nil
		case c < 0x20:
			return nil, l.fail("control character in a string: escape it, e.g. \\n")
		case c != '\\':
			buf = append(buf, c)
			l.i++
			continue
		}
		if l.i+1 >= len(l.b) {
			return nil, l.fail("unterminated string")
		}
		e := l.b[l.i+1]
		l.i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := l.hex4()
			if !ok {
				return nil, l.fail("invalid \\u escape: want four hex digits")
			}
			if utf16.IsSurrogate(r) {
				r = l.lowSurrogate(r)
			}
			buf = utf8.AppendRune(buf, r)
		default:
			l.i -= 2
			return nil, l.fail("invalid escape \\" + string(rune(e)) + " in a string")
		}
	}
	return nil, l.fail("unterminated string")
}

// lowSurrogate completes a UTF-16 pair whose first half is r. A lone half
// becomes U+FFFD, and a following escape that does not pair is read on its
// own, as encoding/json does.
func (l *lexer) lowSurrogate(r rune) rune {
	if l.i+6 <= len(l.b) && l.b[l.i] == '\\' && l.b[l.i+1] == 'u' {
		save := l.i
		l.i += 2
		if r2, ok := l.hex4(); ok {
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				return d
			}
		}
		l.i = save
	}
	return utf8.RuneError
}

func (l *lexer) hex4() (rune, bool) {
	if l.i+4 > len(l.b) {
		return 0, false
	}
	var r rune
	for _, c := range l.b[l.i : l.i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	l.i += 4
	return r, true
}

// number reads a JSON number.
func (l *lexer) number() (float64, error) {
	start := l.i
	if err := l.skipNumber(); err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(l.b[start:l.i]), 64)
	if err != nil { // out of range
		l.i = start
		return 0, l.fail("number out of range")
	}
	return f, nil
}

// skipNumber checks the JSON number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func (l *lexer) skipNumber() error {
	if l.i < len(l.b) && l.b[l.i] == '-' {
		l.i++
	}
	switch {
	case l.i < len(l.b) && l.b[l.i] == '0':
		l.i++
	case l.i < len(l.b) && '1' <= l.b[l.i] && l.b[l.i] <= '9':
		l.digits()
	default:
		return l.fail("invalid number")
	}
	if l.i < len(l.b) && l.b[l.i] == '.' {
		l.i++
		if l.digits() == 0 {
			return l.fail("invalid number: digits must follow the decimal point")
		}
	}
	if l.i < len(l.b) && (l.b[l.i] == 'e' || l.b[l.i] == 'E') {
		l.i++
		if l.i < len(l.b) && (l.b[l.i] == '+' || l.b[l.i] == '-') {
			l.i++
		}
		if l.digits() == 0 {
			return l.fail("invalid number: digits must follow the exponent")
		}
	}
	return nil
}

func (l *lexer) digits() int {
	n := 0
	for l.i < len(l.b) && '0' <= l.b[l.i] && l.b[l.i] <= '9' {
		l.i++
		n++
	}
	return n
}

// skip checks and passes over any JSON value. spaced reports white space
// between tokens, which a compact copy would drop.
func (l *lexer) skip(depth int) (spaced bool, err error) {
	if depth > maxDepth {
		return false, l.fail("nested too deeply")
	}
	switch l.b[l.i] {
	case '"':
		_, err := l.str()
		return false, err
	case '{', '[':
		return l.skipContainer(depth)
	case 't':
		return false, l.literal("true")
	case 'f':
		return false, l.literal("false")
	case 'n':
		return false, l.literal("null")
	}
	return false, l.skipNumber()
}

func (l *lexer) skipContainer(depth int) (spaced bool, err error) {
	closer := byte(']')
	if l.b[l.i] == '{' {
		closer = '}'
	}
	l.i++
	sp := func() {
		if l.i < len(l.b) && isSpace(l.b[l.i]) {
			spaced = true
			l.ws()
		}
	}
	sp()
	if l.i < len(l.b) && l.b[l.i] == closer {
		l.i++
		return spaced, nil
	}
	for {
		if closer == '}' {
			if l.i >= len(l.b) || l.b[l.i] != '"' {
				return spaced, l.fail("expected a quoted field name")
			}
			if _, err := l.str(); err != nil {
				return spaced, err
			}
			sp()
			if l.i >= len(l.b) || l.b[l.i] != ':' {
				return spaced, l.fail("expected ':' after the field name")
			}
			l.i++
			sp()
		}
		if l.i >= len(l.b) {
			return spaced, l.fail("unexpected end of line inside a value")
		}
		s, err := l.skip(depth + 1)
		if err != nil {
			return spaced, err
		}
		spaced = spaced || s
		sp()
		if l.i >= len(l.b) {
			return spaced, l.fail("unexpected end of line inside a value")
		}
		switch l.b[l.i] {
		case ',':
			l.i++
			sp()
		case closer:
			l.i++
			return spaced, nil
		default:
			return spaced, l.fail("expected ',' or '" + string(closer) + "'")
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (e *syntaxError) Error() string { return e.msg }
