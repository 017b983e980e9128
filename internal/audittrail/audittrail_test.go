package audittrail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/ingest"
	"github.com/siemsync/siemsync/internal/audittrail"
	"github.com/siemsync/siemsync/internal/secret"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
)

const acct = "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90"

type ingester struct{ db *sqlite.DB }

func (i ingester) Audit(ctx context.Context, r io.Reader, account string) (store.IngestResult, error) {
	return ingest.Audit(ctx, i.db, r, ingest.Options{Account: account})
}

func TestChangedFields(t *testing.T) {
	t.Parallel()
	base := func() *siemsync.Integration {
		in := &siemsync.Integration{ID: "i", Account: acct, Name: "n", Kind: siemsync.KindHEC, Enabled: true,
			Sources: []string{"audit"}, URL: "https://a.example.com", TokenSet: true}
		in.ApplyDefaults()
		return in
	}
	for _, tc := range []struct {
		name string
		edit func(*siemsync.Integration)
		want []string
	}{
		{"nothing", func(*siemsync.Integration) {}, []string{}},
		{"url and name", func(in *siemsync.Integration) { in.URL, in.Name = "https://b.example.com", "m" }, []string{"name", "url"}},
		{"new token", func(in *siemsync.Integration) { in.Token = "tok-SECRET" }, []string{"token"}},
		{"sources", func(in *siemsync.Integration) { in.Sources = []string{"audit", "jobs"} }, []string{"sources"}},
		{"client key", func(in *siemsync.Integration) { in.ClientCertPEM, in.ClientKeyPEM = "cert", "key-SECRET" },
			[]string{"client_cert_pem", "client_key_pem"}},
		{"status only", func(in *siemsync.Integration) { in.Status.ErrorMessage, in.UpdatedAt = "x", time.Now() }, []string{}},
	} {
		after := base()
		tc.edit(after)
		if got := audittrail.ChangedFields(base(), after); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRecord stores a change through the real ingest and reads it back as
// the sync cycle would: an audit record of the account with who, where and
// which fields, and no secret.
func TestRecord(t *testing.T) {
	t.Parallel()
	c, err := secret.New(bytes.Repeat([]byte{1}, secret.KeySize), "test")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"), sqlite.Options{Cipher: c})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	rec := audittrail.New(ingester{db}, func() time.Time { return at })
	in := &siemsync.Integration{ID: "5d1e0c9b-7a00-4000-8000-000000000001", Name: "Splunk", Kind: siemsync.KindHEC, Token: "tok-SECRET"}
	err = rec.Record(t.Context(), audittrail.Actor{User: audittrail.KeyUser("portal"), IP: "192.0.2.7", Method: "PATCH"},
		audittrail.Change{Account: acct, Event: audittrail.IntegrationUpdated, Integration: in, Fields: []string{"token", "url"}})
	if err != nil {
		t.Fatal(err)
	}
	page, err := db.AuditPage(t.Context(), store.AuditQuery{Account: acct, Limit: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 {
		t.Fatalf("%d records, want 1", len(page))
	}
	a := page[0]
	if a.Event != audittrail.IntegrationUpdated || a.User != "key:portal" || a.IP != "192.0.2.7" || a.Method != "PATCH" || !a.Time.Equal(at) {
		t.Fatalf("record %+v", a)
	}
	var md map[string]any
	if err := json.Unmarshal(a.Metadata, &md); err != nil {
		t.Fatal(err)
	}
	if md["integration_id"] != in.ID || md["integration_name"] != "Splunk" || !slices.Equal(toStrings(md["changed_fields"]), []string{"token", "url"}) {
		t.Fatalf("metadata %s", a.Metadata)
	}
	if strings.Contains(string(a.Metadata), "SECRET") {
		t.Fatalf("metadata carries the token: %s", a.Metadata)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
