package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/siemsync/siemsync"
)

const auditFields = "id, time, account, connector, acl, method, user, ip, metadata, event"

// Bits of parser.seen for audit fields.
const (
	aID uint32 = 1 << iota
	aTime
	aAccount
	aConnector
	aACL
	aMethod
	aUser
	aIP
	aMetadata
	aEvent
)

// idNamespace is the UUID namespace of generated audit ids.
var idNamespace = uuid.MustParse("5b0e1c8a-7f3d-4a55-9a0c-3e2f6d1b8c47")

// audit parses and checks one line into a (all of whose fields it sets).
func (p *parser) audit(line []byte, a *siemsync.Audit) error {
	*a = siemsync.Audit{}
	if err := p.start(line); err != nil {
		return err
	}
	err := p.lx.object(func(key []byte) error { return p.auditField(key, a) })
	if err != nil {
		return err
	}
	switch {
	case p.seen&aTime == 0:
		return fieldErr("time", "is required: when the event occurred, as RFC 3339 such as %s", exampleTime)
	case a.Account == "" && p.account == "":
		return fieldErr("account", "is required: the UUID of the account the event belongs to")
	case a.Event == "":
		return fieldErr("event", "is required: the event recorded in the audit log")
	}
	if a.Account == "" {
		a.Account = p.account
	}
	if a.ID == "" {
		a.ID = p.generatedID(a)
	}
	return nil
}

func (p *parser) auditField(key []byte, a *siemsync.Audit) error {
	var (
		bit uint32
		dst *string
	)
	switch string(key) { // no allocation: the compiler compares in place
	case "id":
		if err := p.once(aID, "id"); err != nil {
			return err
		}
		b, err := p.optString("id")
		if err != nil || len(b) == 0 {
			return err
		}
		if err := checkID(b); err != nil {
			return err
		}
		a.ID = string(b) // unique per record: not worth interning
		return nil
	case "time":
		if err := p.once(aTime, "time"); err != nil {
			return err
		}
		t, err := p.timeField("time")
		if err == nil && t.IsZero() {
			p.seen &^= aTime // null or "": still missing
		}
		a.Time = t.Truncate(time.Millisecond)
		return err
	case "account":
		if err := p.once(aAccount, "account"); err != nil {
			return err
		}
		var err error
		a.Account, err = p.accountField()
		return err
	case "connector":
		if err := p.once(aConnector, "connector"); err != nil {
			return err
		}
		var err error
		a.Connector, err = p.uuidField("connector")
		return err
	case "metadata":
		if err := p.once(aMetadata, "metadata"); err != nil {
			return err
		}
		var err error
		a.Metadata, err = p.metadata()
		return err
	case "ip":
		if err := p.once(aIP, "ip"); err != nil {
			return err
		}
		b, err := p.optString("ip")
		if err != nil || len(b) == 0 {
			return err
		}
		a.IP, err = p.ip(b)
		return err
	case "acl":
		bit, dst = aACL, &a.ACL
	case "method":
		bit, dst = aMethod, &a.Method
	case "user":
		bit, dst = aUser, &a.User
	case "event":
		bit, dst = aEvent, &a.Event
	default:
		return unknownField(key, "an audit record", auditFields)
	}
	name := string(key)
	if err := p.once(bit, name); err != nil {
		return err
	}
	b, err := p.optString(name)
	if err != nil || len(b) == 0 {
		return err
	}
	*dst = p.str(b)
	return nil
}

// metadata reads a JSON object (or null) and returns a compact copy.
func (p *parser) metadata() (json.RawMessage, error) {
	if isNull, err := p.lx.null(); isNull || err != nil {
		return nil, err
	}
	if p.lx.peek() != '{' {
		return nil, p.typeErr("metadata", `must be a JSON object such as {"key":"value"}`)
	}
	start := p.lx.i
	spaced, err := p.lx.skip(0)
	if err != nil {
		return nil, err
	}
	raw := p.lx.b[start:p.lx.i]
	if !spaced {
		return bytes.Clone(raw), nil
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil { // cannot fail: raw was checked
		return nil, fieldErr("metadata", "is not valid JSON: %v", err)
	}
	return buf.Bytes(), nil
}

// generatedID is the id of a record that came without one: a name-based
// UUID of its content, so ingesting the same file again stores nothing new.
// Each field is length-prefixed, so no two records share an encoding.
func (p *parser) generatedID(a *siemsync.Audit) string {
	b := p.idBuf[:0]
	for _, s := range []string{a.Account, a.Connector, a.ACL, a.Method, a.User, a.IP, string(a.Metadata), a.Event} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, a.Time.UnixMilli())
	p.idBuf = b
	return uuid.NewSHA1(idNamespace, b).String()
}
