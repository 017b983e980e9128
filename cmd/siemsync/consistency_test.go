package main

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/siemsync/siemsync/internal/hecrecv"
)

// TestCLIAndAPIAgree: an integration created with only the required settings
// gets the same defaults from the CLI and from the API, and a kind change is
// refused by both with the same words.
func TestCLIAndAPIAgree(t *testing.T) {
	t.Parallel()
	in := newInstall(t, hecrecv.Options{})
	in.ok(records(idRange("k", 2)), "ingest", "audit", "-") // the account exists
	cliID := strings.TrimSpace(in.ok("", "integrations", "add", "--account", accA, "--name", "cli", "--kind", "splunk_hec",
		"--url", in.url, "--token", hecToken))

	p := in.start([]string{"SIEMSYNC_LOG_LEVEL=info"}, nil, "serve", "--listen", "127.0.0.1:0")
	base := serveURL(t, p) + "api/v1/"
	api := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testAdminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := api("POST", "integrations", `{"account":"`+accA+`","name":"api","kind":"splunk_hec","url":"`+in.url+`","token":"`+hecToken+`"}`)
	if code != http.StatusCreated {
		t.Fatalf("API create: %d %s", code, body)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(body), &created)

	settings := func(id string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(in.ok("", "integrations", "show", id, "--json")), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"id", "name", "created_at", "updated_at", "status", "backfill_since"} {
			delete(m, k)
		}
		return m
	}
	if cli, viaAPI := settings(cliID), settings(created.ID); !reflect.DeepEqual(cli, viaAPI) {
		t.Errorf("defaults differ:\nCLI %v\nAPI %v", cli, viaAPI)
	}

	const refusal = "cannot change from splunk_hec to syslog_cef: add a new syslog_cef integration"
	_, stderr, c := in.run(nil, "", "integrations", "update", cliID, "--kind", "syslog_cef", "--address", "h:6514")
	if c != 1 || !strings.Contains(stderr, "--kind: "+refusal) {
		t.Errorf("CLI kind change: exit %d %s", c, stderr)
	}
	if code, body := api("PATCH", "integrations/"+created.ID, `{"kind":"syslog_cef","address":"h:6514"}`); code != 400 || !strings.Contains(body, refusal) {
		t.Errorf("API kind change: %d %s", code, body)
	}
	in.ok("", "integrations", "update", cliID, "--kind", "splunk_hec", "--name", "same kind")
	if _, stderr, c := in.run(nil, "", "integrations", "update", cliID, "--account", accB); c != 1 || !strings.Contains(stderr, "--account: cannot change") {
		t.Errorf("CLI account change: exit %d %s", c, stderr)
	}
	if _, stderr, c := in.run(nil, "", "integrations", "update", cliID, "--backfill-since", "2026-01-01T00:00:00Z"); c != 1 ||
		!strings.Contains(stderr, "--backfill-since: can only be set when the integration is created") {
		t.Errorf("CLI backfill on update: exit %d %s", c, stderr)
	}
	p.kill(t, syscall.SIGTERM)
}
