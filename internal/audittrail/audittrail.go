// Package audittrail turns siemsync's own changes to an account's
// integrations and keys into audit records of that account (SPEC §7.3).
// The records go through the same ingest as the host product's, so they
// are stored, deduplicated and delivered to the account's SIEM like any
// other. The API, the page and the CLI all record through one Recorder.
//
// A record names what changed (field names), who (admin or key:{name}) and
// from where (client address); it never carries a secret or its value.
package audittrail

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// Events recorded.
const (
	IntegrationCreated  = "SIEM integration created"
	IntegrationUpdated  = "SIEM integration updated"
	IntegrationDeleted  = "SIEM integration deleted"
	IntegrationEnabled  = "SIEM integration enabled"
	IntegrationDisabled = "SIEM integration disabled"
	IntegrationTested   = "SIEM integration connection tested"
	IntegrationSynced   = "SIEM integration sync requested"
	SetAsideRetried     = "SIEM integration set-aside events retried"
	ReplayStarted       = "SIEM integration replay started"
	ReplayCancelled     = "SIEM integration replay cancelled"
	SetAsideDropped     = "SIEM integration set-aside event dropped"
	KeyCreated          = "SIEM account key created"
	KeyRevoked          = "SIEM account key revoked"
	FeatureEnabled      = "SIEM feature enabled"
	FeatureDisabled     = "SIEM feature disabled"
)

// Admin is the user of changes made with the admin token or the CLI.
const Admin = "admin"

// KeyUser is the user of changes made with an account key.
func KeyUser(name string) string { return "key:" + name }

// Writer stores audit records of one account, all or nothing; the ingest
// package (through the admin API's Ingester) is one.
type Writer interface {
	Audit(ctx context.Context, r io.Reader, account string) (store.IngestResult, error)
}

// Actor is who made a change and from where.
type Actor struct {
	User   string // Admin or KeyUser(name)
	IP     string // client address; "" when there is none (CLI)
	Method string // HTTP method, or "" (CLI)
}

// Change is one change to record.
type Change struct {
	Account string
	Event   string
	// Integration, when the change concerns one.
	Integration *siemsync.Integration
	// Fields are the names of the changed fields (updates).
	Fields []string
	// Key, when the change concerns an account key.
	Key *store.AccountKey
	// Extra is more metadata: counts, a test's outcome. Never a secret.
	Extra map[string]any
}

// Recorder records changes.
type Recorder struct {
	w   Writer
	now func() time.Time
}

// New returns a Recorder that stores through w; now nil means time.Now.
func New(w Writer, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	return &Recorder{w: w, now: now}
}

// record is the NDJSON form of an audit record (SPEC §2).
type record struct {
	ID       string         `json:"id"`
	Time     string         `json:"time"`
	Account  string         `json:"account"`
	Method   string         `json:"method,omitempty"`
	User     string         `json:"user"`
	IP       string         `json:"ip,omitempty"`
	Event    string         `json:"event"`
	Metadata map[string]any `json:"metadata"`
}

// Record stores one change as an audit record of its account.
func (r *Recorder) Record(ctx context.Context, a Actor, c Change) error {
	md := map[string]any{"source": "siemsync"}
	if in := c.Integration; in != nil {
		if in.ID != "" {
			md["integration_id"] = in.ID
		}
		md["integration_name"] = in.Name
		md["integration_kind"] = string(in.Kind)
	}
	if c.Fields != nil {
		md["changed_fields"] = c.Fields
	}
	if k := c.Key; k != nil {
		md["key_id"], md["key_name"] = k.ID, k.Name
	}
	for k, v := range c.Extra {
		md[k] = v
	}
	rec := record{
		ID: uuid.NewString(), Time: r.now().UTC().Format(time.RFC3339Nano), Account: c.Account,
		Method: a.Method, User: a.User, IP: a.IP, Event: c.Event, Metadata: md,
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("audit trail: encode %q: %w", c.Event, err)
	}
	if _, err := r.w.Audit(ctx, bytes.NewReader(append(b, '\n')), c.Account); err != nil {
		return fmt.Errorf("audit trail: store %q of account %s: %w", c.Event, c.Account, err)
	}
	return nil
}

// secretFields are changed when a new value was given, whatever it was:
// the stored value is never loaded to compare.
var secretFields = []struct {
	name string
	get  func(*siemsync.Integration) string
}{
	{"token", func(in *siemsync.Integration) string { return in.Token }},
	{"client_key_pem", func(in *siemsync.Integration) string { return in.ClientKeyPEM }},
}

// ignored are fields that change on their own, not by the person's edit.
var ignored = map[string]bool{"updated_at": true, "status": true, "token_set": true, "client_key_set": true, "learned_batch_bytes": true}

// ChangedFields names the fields whose value differs between before (as
// stored, without secrets) and after (the edit, carrying a secret only if a
// new one was given), in the JSON names of SPEC §4, sorted.
func ChangedFields(before, after *siemsync.Integration) []string {
	out := []string{}
	bv, av := reflect.ValueOf(before).Elem(), reflect.ValueOf(after).Elem()
	t := bv.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" || ignored[name] {
			continue
		}
		if !reflect.DeepEqual(normal(bv.Field(i)), normal(av.Field(i))) {
			out = append(out, name)
		}
	}
	for _, s := range secretFields {
		if s.get(after) != "" && s.get(after) != s.get(before) {
			out = append(out, s.name)
		}
	}
	slices.Sort(out)
	return out
}

// normal makes an empty slice and a nil one, and two equal times in
// different locations, compare equal.
func normal(v reflect.Value) any {
	switch x := v.Interface().(type) {
	case []string:
		if len(x) == 0 {
			return nil
		}
	case *time.Time:
		if x != nil {
			return x.UnixNano()
		}
	case time.Time:
		return x.UnixNano()
	}
	return v.Interface()
}
