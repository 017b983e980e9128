package main

// Secrets never leak: HEC tokens, client private keys and the admin token
// must not appear in any output of the binary (logs at debug level, errors,
// summaries), in API answers, the admin page, metrics, or in the database
// file (they are encrypted at rest).

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siemsync/siemsync/internal/hecrecv"
	"github.com/siemsync/siemsync/internal/testpki"
)

// clientCertPEM returns a client certificate and its private key, PEM
// encoded.
func clientCertPEM(t *testing.T) (certPEM, keyPEM []byte) {
	_, c, k := testpki.NewCA(t, "siemsync test CA").Issue(t, testpki.Leaf{CN: "siemsync test client", Client: true})
	return []byte(c), []byte(k)
}

// pemBodyLines returns the base64 lines of a PEM block: any of them in an
// output means the key leaked.
func pemBodyLines(p []byte) []string {
	var out []string
	for _, l := range strings.Split(string(p), "\n") {
		if l != "" && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}

var serveURLRE = regexp.MustCompile(`"url":"(http://127\.0\.0\.1:\d+)/"`)

func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const (
		acceptedToken = "0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b" // the only token the receiver takes
		tokenUpdated  = "c0ffee00-1111-4222-8333-444455556666"
		tokenPatched  = "deadbeef-aaaa-4bbb-8ccc-dddddddddddd"
		tokenCreated  = "feedface-9999-4888-8777-666655554444"
		tokenBadAdd   = "badadd00-0000-4000-8000-00000000b0b0"
		adminToken    = testAdminToken
	)
	in, srv := newTLSInstall(t, hecrecv.Options{Tokens: []string{acceptedToken}}, "SIEMSYNC_LOG_LEVEL=debug")
	certPEM, keyPEM := clientCertPEM(t)
	cert2PEM, key2PEM := clientCertPEM(t)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	files := map[string][]byte{"client.crt": certPEM, "client.key": keyPEM, "ca.pem": caPEM}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(in.dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	secrets := map[string]string{
		"HEC token (add)": hecToken, "HEC token (update)": tokenUpdated, "HEC token (API PATCH)": tokenPatched,
		"HEC token (API POST)": tokenCreated, "HEC token (refused add)": tokenBadAdd, "admin token": adminToken,
	}
	for i, l := range pemBodyLines(keyPEM) {
		secrets[fmt.Sprintf("client key line %d", i+1)] = l
	}
	for i, l := range pemBodyLines(key2PEM) {
		secrets[fmt.Sprintf("API client key line %d", i+1)] = l
	}

	// Command line: every command that shows, tests or uses the integration.
	id := strings.TrimSpace(in.ok("", "--create", "integrations", "add", "--account", accA, "--name", "splunk", "--kind", "splunk_hec",
		"--url", in.url, "--token", hecToken, "--sources", "audit,jobs",
		"--ca-file", filepath.Join(in.dir, "ca.pem"),
		"--client-cert", filepath.Join(in.dir, "client.crt"), "--client-key", filepath.Join(in.dir, "client.key")))
	in.ok(records(idRange("s", 10)), "ingest", "audit", "-")
	for _, args := range [][]string{
		{"integrations", "show", id, "--json"}, {"integrations", "show", id},
		{"integrations", "list", "--json"}, {"integrations", "list"},
		{"setaside", "list", id, "--json"}, {"accounts", "list", "--json"},
	} {
		in.ok("", args...)
	}
	for _, args := range [][]string{
		{"integrations", "test", id},
		{"sync", "--once"},
		{"sync", "--once", "--json"},
		{"sync", "--once", "--log-format", "console"},
	} {
		stdout, stderr, code := in.run(nil, "", args...)
		if code != 1 {
			t.Errorf("%v with a token the receiver refuses: exit %d, want 1\n%s%s", args, code, stdout, stderr)
		}
		if !strings.Contains(stdout+stderr, "token") {
			t.Errorf("%v: the message does not say the token is the problem:\n%s%s", args, stdout, stderr)
		}
	}
	in.ok("", "integrations", "update", id, "--token", tokenUpdated)
	in.run(nil, "", "sync", "--once")
	if _, _, code := in.run(nil, "", "integrations", "add", "--account", accA, "--name", "x", "--kind", "splunk_hec",
		"--url", "ftp://"+tokenBadAdd+"@example.com", "--token", tokenBadAdd); code == 0 {
		t.Errorf("add with an ftp URL succeeded")
	}

	// The server: API, metrics, admin page.
	p, base := in.serve("--schedule", "@every 1h", "--shutdown-grace", "5s")
	var bodies bytes.Buffer
	client := &http.Client{Timeout: 30 * time.Second}
	call := func(method, path, body string, wantStatus int) []byte {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Fprintf(&bodies, "%s %s -> %d\n%s\n%s\n", method, path, resp.StatusCode, resp.Header, b)
		if wantStatus != 0 && resp.StatusCode != wantStatus {
			t.Errorf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, wantStatus, b)
		}
		return b
	}
	call("GET", "/api/v1/integrations", "", 200)
	call("GET", "/api/v1/integrations/"+id, "", 200)
	call("GET", "/api/v1/integrations/"+id+"/status", "", 200)
	call("POST", "/api/v1/integrations/"+id+"/test", "", 0)
	call("POST", "/api/v1/integrations/"+id+"/sync", "", 0)
	call("GET", "/api/v1/integrations/"+id+"/setaside", "", 200)
	patch, _ := json.Marshal(map[string]any{"token": tokenPatched})
	call("PATCH", "/api/v1/integrations/"+id, string(patch), 200)
	call("POST", "/api/v1/integrations/"+id+"/sync", "", 0)
	create, _ := json.Marshal(map[string]any{
		"account": accA, "name": "second", "kind": "splunk_hec", "url": in.url, "token": tokenCreated,
		"sources": []string{"audit"}, "ca_pem": string(caPEM), "client_cert_pem": string(cert2PEM), "client_key_pem": string(key2PEM),
	})
	var created struct {
		ID string `json:"id"`
	}
	json.Unmarshal(call("POST", "/api/v1/integrations", string(create), http.StatusCreated), &created) //nolint:errcheck // checked below
	if created.ID == "" {
		t.Errorf("API create returned no id")
	} else {
		call("GET", "/api/v1/integrations/"+created.ID, "", 200)
		call("POST", "/api/v1/integrations/"+created.ID+"/test", "", 0)
		call("POST", "/api/v1/integrations/"+created.ID+"/sync", "", 0)
	}
	// A malformed body and a refused field echo nothing secret either.
	call("POST", "/api/v1/integrations", `{"token":"`+tokenCreated+`","url":"gopher://x"}`, 0)
	call("PATCH", "/api/v1/integrations/"+id, `{"token":`+tokenCreated+`}`, 0)
	call("GET", "/api/v1/integrations", "", 200)
	if m := call("GET", "/metrics", "", 200); !bytes.Contains(m, []byte("siemsync")) {
		t.Errorf("/metrics has no siemsync metric:\n%s", m)
	}
	call("GET", "/healthz", "", 200)

	// The admin page, signed in.
	jar, _ := cookiejar.New(nil)
	page := &http.Client{Timeout: 30 * time.Second, Jar: jar}
	resp, err := page.PostForm(base+"/login", url.Values{"token": {adminToken}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	bodies.Write(b)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "splunk") {
		t.Errorf("admin page after sign-in: HTTP %d", resp.StatusCode)
	}
	for _, path := range []string{"/", "/integrations/" + id, "/integrations/" + id + "/edit", "/integrations/" + created.ID + "/edit"} {
		resp, err := page.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Fprintf(&bodies, "PAGE %s -> %d\n%s\n", path, resp.StatusCode, b)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
		}
	}
	p.kill(t, syscall.SIGTERM)

	// Everything captured, and every byte of the database.
	outputs := map[string]string{"siemsync output": in.out.String(), "API and page answers": bodies.String()}
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if b, err := os.ReadFile(in.db + suffix); err == nil {
			outputs["database file siemsync.db"+suffix] = string(b)
		}
	}
	if outputs["database file siemsync.db"] == "" {
		t.Fatalf("no database file at %s", in.db)
	}
	for where, text := range outputs {
		for what, secret := range secrets {
			if strings.Contains(text, secret) {
				i := strings.Index(text, secret)
				t.Errorf("%s leaked into the %s: …%q…", what, where, text[max(0, i-80):min(len(text), i+len(secret)+20)])
			}
		}
	}
	t.Logf("checked %d secrets against %d bytes of output, %d bytes of API/page answers and the database files",
		len(secrets), len(outputs["siemsync output"]), bodies.Len())
}
