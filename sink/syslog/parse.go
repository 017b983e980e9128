package syslog

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Message is a parsed RFC 5424 message as this package writes it (no
// structured data).
type Message struct {
	Facility, Severity int
	Timestamp          string
	Hostname           string
	AppName            string
	ProcID             string
	MsgID              string
	Msg                string
	CEF                *CEF // Msg parsed, when it is a CEF record
}

// NextFrame splits the first frame off b: "LEN SP MSG" (octet counting) or
// "MSG LF" (lf). It returns the SYSLOG-MSG and the rest of b.
func NextFrame(b []byte, lf bool) (msg, rest []byte, err error) {
	if lf {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil, b, errors.New("frame has no LF trailer")
		}
		return b[:i], b[i+1:], nil
	}
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 || sp > 10 {
		return nil, b, errors.New("frame does not start with MSG-LEN SP")
	}
	if b[0] == '0' {
		return nil, b, errors.New("MSG-LEN has a leading zero")
	}
	n, err := strconv.Atoi(string(b[:sp]))
	if err != nil || n <= 0 {
		return nil, b, fmt.Errorf("bad MSG-LEN %q", b[:sp])
	}
	if len(b)-sp-1 < n {
		return nil, b, fmt.Errorf("MSG-LEN %d but only %d bytes follow", n, len(b)-sp-1)
	}
	return b[sp+1 : sp+1+n], b[sp+1+n:], nil
}

// ParseMessage parses an RFC 5424 SYSLOG-MSG whose STRUCTURED-DATA is the
// NILVALUE, checking the header field limits, and parses its MSG as CEF
// when it starts with "CEF:".
func ParseMessage(s string) (*Message, error) {
	if !strings.HasPrefix(s, "<") {
		return nil, errors.New("no PRI")
	}
	end := strings.IndexByte(s, '>')
	if end < 2 || end > 4 {
		return nil, errors.New("bad PRI")
	}
	pri, err := strconv.Atoi(s[1:end])
	if err != nil || pri < 0 || pri > 191 || (s[1] == '0' && end > 2) {
		return nil, fmt.Errorf("bad PRI %q", s[1:end])
	}
	m := &Message{Facility: pri / 8, Severity: pri % 8}
	parts := strings.SplitN(s[end+1:], " ", 8)
	if len(parts) < 7 {
		return nil, errors.New("header has fewer than 7 fields")
	}
	if parts[0] != "1" {
		return nil, fmt.Errorf("VERSION %q is not 1", parts[0])
	}
	m.Timestamp, m.Hostname, m.AppName, m.ProcID, m.MsgID = parts[1], parts[2], parts[3], parts[4], parts[5]
	for _, f := range []struct {
		name, v string
		max     int
	}{{"TIMESTAMP", m.Timestamp, 32}, {"HOSTNAME", m.Hostname, 255}, {"APP-NAME", m.AppName, 48}, {"PROCID", m.ProcID, 128}, {"MSGID", m.MsgID, 32}} {
		if !ValidHeaderField(f.v, f.max) {
			return nil, fmt.Errorf("%s %q is not 1 to %d printable US-ASCII characters", f.name, f.v, f.max)
		}
	}
	if parts[6] != "-" {
		return nil, fmt.Errorf("STRUCTURED-DATA %q: only the NILVALUE is expected", parts[6])
	}
	if len(parts) == 8 {
		m.Msg = parts[7]
	}
	if strings.HasPrefix(m.Msg, "\xEF\xBB\xBF") {
		return nil, errors.New("MSG starts with a BOM")
	}
	if strings.HasPrefix(m.Msg, "CEF:") {
		if m.CEF, err = ParseCEF(m.Msg); err != nil {
			return nil, err
		}
	}
	return m, nil
}
