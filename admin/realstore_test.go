package admin_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/admin"
	"github.com/siemsync/siemsync/internal/secret"
	"github.com/siemsync/siemsync/store/sqlite"
)

// openStore opens the real SQLite store in a temp dir, with a cipher.
func openStore(t *testing.T) (*sqlite.DB, string) {
	t.Helper()
	key := bytes.Repeat([]byte{7}, secret.KeySize)
	c, err := secret.New(key, "test key")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "siemsync.db")
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{Cipher: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// setupReal is a bundle whose store is the real one; st stays the unused fake.
func setupReal(t *testing.T) (*bundle, *sqlite.DB, string) {
	t.Helper()
	db, path := openStore(t)
	b := setup(t, func(c *admin.Config) { c.Store = db })
	return b, db, path
}

func TestEnsureToken(t *testing.T) {
	t.Parallel()
	db, _ := openStore(t)
	ctx := t.Context()

	h, gen, err := admin.EnsureToken(ctx, db, "configured-token")
	if err != nil || gen != "" || h != sha256.Sum256([]byte("configured-token")) {
		t.Fatalf("configured: %x %q %v", h, gen, err)
	}
	if _, err := db.Setting(ctx, "admin_token_sha256"); err == nil {
		t.Fatal("a configured token was stored")
	}

	h1, gen, err := admin.EnsureToken(ctx, db, "")
	if err != nil || len(gen) < 40 {
		t.Fatalf("generate: %q %v", gen, err)
	}
	if h1 != sha256.Sum256([]byte(gen)) {
		t.Fatal("hash is not of the generated token")
	}
	stored, _ := db.Setting(ctx, "admin_token_sha256")
	if stored != hex.EncodeToString(h1[:]) || strings.Contains(stored, gen) {
		t.Fatalf("stored %q", stored)
	}
	h2, gen2, err := admin.EnsureToken(ctx, db, "")
	if err != nil || gen2 != "" || h2 != h1 {
		t.Fatalf("second start: %q %v", gen2, err)
	}

	// The generated token signs in.
	srv, err := admin.New(admin.Config{Store: db, TokenHash: h1, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{t: t, srv: srv}
	if w := b.apiAs(gen, "GET", "/api/v1/integrations", ""); w.Code != http.StatusOK {
		t.Fatalf("generated token: %d", w.Code)
	}

	if err := db.SetSetting(ctx, "admin_token_sha256", "zz"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := admin.EnsureToken(ctx, db, ""); err == nil {
		t.Fatal("corrupt hash accepted")
	}
}

func TestRealStoreAPI(t *testing.T) {
	t.Parallel()
	b, db, path := setupReal(t)
	certPEM, keyPEM := certPair(t, "client")
	b.secrets = append(b.secrets, keyBody(keyPEM))

	body := hecBody()
	body["client_cert_pem"], body["client_key_pem"] = certPEM, keyPEM
	// An account siemsync has no record of is refused, unless asked for;
	// an upper-case id is the same, canonical account.
	body["account"] = strings.ToUpper(acct)
	e := wantError(t, b.api("POST", "/api/v1/integrations", jsonOf(t, body)), 400, "invalid", "account")
	if !strings.Contains(e.Error.Message, acct+" is not a known account") || !strings.Contains(e.Error.Message, "create_account") {
		t.Errorf("unknown account: %q", e.Error.Message)
	}
	if accts, _ := db.ListAccounts(t.Context()); len(accts) != 0 {
		t.Fatalf("a refused create made accounts %+v", accts)
	}
	body["create_account"] = true
	id := b.create(body)
	in, err := db.GetIntegration(t.Context(), id, true)
	if err != nil || in.Token != hecToken || in.ClientKeyPEM != keyPEM || in.Account != acct {
		t.Fatalf("stored: %v (account %q)", err, in.Account)
	}
	wantError(t, b.api("PATCH", "/api/v1/integrations/"+id, `{"create_account":true}`), 400, "invalid", "create_account")

	// PATCH without token or key keeps both.
	var out siemsync.Integration
	decode(t, b.api("PATCH", "/api/v1/integrations/"+id, `{"name":"Renamed","gzip":true}`), &out)
	if out.Name != "Renamed" || !out.Gzip || !out.TokenSet || !out.ClientKeySet {
		t.Fatalf("patched %+v", out)
	}
	in, _ = db.GetIntegration(t.Context(), id, true)
	if in.Token != hecToken || in.ClientKeyPEM != keyPEM {
		t.Fatal("secrets lost by a PATCH")
	}

	wantError(t, b.api("POST", "/api/v1/integrations", jsonOf(t, map[string]any{
		"account": acct, "name": "Renamed", "kind": "splunk_hec", "url": "https://x.example.com", "token": "t", "sources": []string{"audit"},
	})), 409, "conflict", "name")

	var st map[string]any
	decode(t, b.api("GET", "/api/v1/integrations/"+id+"/status", ""), &st)
	if _, ok := st["recent_runs"]; !ok {
		t.Fatalf("status %v", st)
	}
	decode(t, b.api("GET", "/api/v1/integrations/"+id+"/setaside", ""), &st)
	decode(t, b.api("GET", "/api/v1/accounts", ""), &st)

	// Encrypted at rest: the database files never hold the token or key.
	for _, p := range []string{path, path + "-wal"} {
		raw, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(hecToken)) || bytes.Contains(raw, []byte(keyBody(keyPEM))) {
			t.Fatalf("%s holds a secret in clear", p)
		}
	}

	if w := b.api("DELETE", "/api/v1/integrations/"+id, ""); w.Code != http.StatusNoContent {
		t.Fatalf("delete %d", w.Code)
	}
	wantError(t, b.api("GET", "/api/v1/integrations/"+id, ""), 404, "not_found", "")
}

func TestRealStorePage(t *testing.T) {
	t.Parallel()
	b, db, _ := setupReal(t)
	br := login(t, b)
	form := hecForm()
	form.Set("account", strings.ToUpper(acct))
	wantBody(t, br.postMultipart("/integrations/new", form, nil), acct+" is not a known account", `name="create_account"`)
	form.Set("create_account", "on")
	loc := wantRedirect(t, br.postMultipart("/integrations/new", form, nil), "/integrations/")
	id := strings.TrimPrefix(loc, "/integrations/")
	wantBody(t, br.get(loc), "Splunk prod was added", "Waiting for first cycle")
	wantBody(t, br.get("/"), "Splunk prod", acct)

	e := hecForm()
	e.Del("token")
	e.Set("index", "security")
	wantRedirect(t, br.postMultipart("/integrations/"+id+"/edit", e, nil), loc)
	in, _ := db.GetIntegration(t.Context(), id, true)
	if in.Token != hecToken || in.Index != "security" {
		t.Fatalf("edited %+v", in)
	}
	wantRedirect(t, br.post("/integrations/"+id+"/enabled", url.Values{"enabled": {"false"}}), "/")
	wantRedirect(t, br.post("/integrations/"+id+"/delete", nil), "/")
	if _, err := db.GetIntegration(context.Background(), id, false); err == nil {
		t.Fatal("not deleted")
	}
}

// TestEnsureTokenStrength: a configured admin token shorter than 16
// characters is refused with a message that says what to use; nothing is
// stored.
func TestEnsureTokenStrength(t *testing.T) {
	t.Parallel()
	db, _ := openStore(t)
	for _, tok := range []string{"x", "fifteen-chars-x", "  éééééééééééééé  "} {
		_, _, err := admin.EnsureToken(t.Context(), db, tok)
		if err == nil || !strings.Contains(err.Error(), "use at least 16") || !strings.Contains(err.Error(), "SIEMSYNC_ADMIN_TOKEN") {
			t.Errorf("token %q: %v", tok, err)
		}
	}
	if _, _, err := admin.EnsureToken(t.Context(), db, admin.KeyPrefix+"looks-like-an-account-key"); err == nil || !strings.Contains(err.Error(), "account key") {
		t.Errorf("a key-shaped admin token: %v", err)
	}
	if _, _, err := admin.EnsureToken(t.Context(), db, "sixteen-chars-xx"); err != nil {
		t.Errorf("16 characters: %v", err)
	}
	if _, err := db.Setting(t.Context(), "admin_token_sha256"); err == nil {
		t.Error("a configured token was stored")
	}
}
