package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siemsync/siemsync/internal/hecrecv"
)

// TestSelfServiceEndToEnd runs the real binary: the operator creates an
// account key on the command line; the customer's admin uses it on the API
// of `serve` to change, disable, enable, test and add integrations. Every
// change becomes an audit record of the account that serve's own cycles
// deliver to the account's HEC, with who, from where and which fields, and
// no token or key anywhere in what the HEC received. A created integration
// starts its first cycle within seconds although the schedule ticks hourly.
func TestSelfServiceEndToEnd(t *testing.T) {
	t.Parallel()
	const tokPatched, tokTrial, tokSecond = "patched-HEC-token-5512", "trial-HEC-token-8820", "second-HEC-token-3307"
	in := newInstall(t, hecrecv.Options{Tokens: []string{hecToken, tokPatched, tokTrial, tokSecond}}, "SIEMSYNC_LOG_LEVEL=info", "SIEMSYNC_AUDIT_TRAIL=true")
	in.ok(records(idRange("seed", 2)), "ingest", "audit", "-")
	id := in.addHEC()
	key := strings.TrimSpace(in.ok("", "accounts", "keys", "add", accA, "--name", "portal"))
	if !strings.HasPrefix(key, "ssk_") {
		t.Fatalf("keys add printed %q", key)
	}
	if list := in.ok("", "accounts", "keys", "list", accA); !strings.Contains(list, "portal") || strings.Contains(list, key) {
		t.Fatalf("keys list:\n%s", list)
	}

	p, base := in.serve("--schedule", "@every 1h", "--shutdown-grace", "5s", "--egress-addresses", "203.0.113.0/28")
	client := &http.Client{Timeout: 30 * time.Second}
	call := func(method, path, body string, want int) []byte {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, want, b)
		}
		return b
	}
	if eg := call("GET", "/api/v1/egress", "", 200); !strings.Contains(string(eg), "203.0.113.0/28") {
		t.Fatalf("egress: %s", eg)
	}
	call("GET", "/api/v1/accounts", "", 403)
	call("PATCH", "/api/v1/integrations/"+id, `{"token":"`+tokPatched+`","gzip":false}`, 200)
	call("PUT", "/api/v1/integrations/"+id+"/enabled", `{"enabled":false}`, 200)
	call("PUT", "/api/v1/integrations/"+id+"/enabled", `{"enabled":true}`, 200)
	call("POST", "/api/v1/integrations/"+id+"/test", "", 200)
	call("POST", "/api/v1/integrations/test",
		`{"name":"trial","kind":"splunk_hec","url":"`+in.url+`","token":"`+tokTrial+`","sources":["audit"]}`, 200)
	var second struct{ ID string }
	json.Unmarshal(call("POST", "/api/v1/integrations", //nolint:errcheck // checked below
		`{"name":"second","kind":"splunk_hec","url":"`+in.url+`","token":"`+tokSecond+`","sources":["audit"]}`, 201), &second)
	created := time.Now()
	// Its first cycle, within seconds (the schedule ticks hourly).
	waitFor(t, 15*time.Second, "the first cycle of a created integration", func() bool {
		var st struct {
			RecentRuns []json.RawMessage `json:"recent_runs"`
		}
		json.Unmarshal(call("GET", "/api/v1/integrations/"+second.ID+"/status", "", 200), &st) //nolint:errcheck // empty is "not yet"
		return len(st.RecentRuns) > 0
	})
	t.Logf("first cycle of a created integration started %.1f s after the create", time.Since(created).Seconds())
	// Sync now: re-enabled above, the integration is due at once, so the
	// scheduler may be running its cycle (409) for a moment.
	waitFor(t, 30*time.Second, "sync now accepted", func() bool {
		req, _ := http.NewRequest("POST", base+"/api/v1/integrations/"+id+"/sync", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("sync now: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusConflict {
			t.Fatalf("sync now: HTTP %d, want 200 (or 409 while the scheduled cycle runs)", resp.StatusCode)
		}
		return resp.StatusCode == http.StatusOK
	})

	// The trail reaches the HEC: serve's cycles deliver it like any record.
	type trail struct {
		Event    string `json:"event"`
		User     string `json:"user"`
		IP       string `json:"ip"`
		Account  string `json:"account"`
		Metadata struct {
			Integration string   `json:"integration_id"`
			Fields      []string `json:"changed_fields"`
		} `json:"metadata"`
	}
	want := []string{"SIEM integration updated", "SIEM integration disabled", "SIEM integration enabled",
		"SIEM integration connection tested", "SIEM integration created", "SIEM integration sync requested"}
	var got map[string]trail
	waitFor(t, 30*time.Second, "the audit trail at the HEC", func() bool {
		got = map[string]trail{}
		for _, ev := range in.recv.Events() {
			var tr trail
			if json.Unmarshal(ev.Event, &tr) == nil && strings.HasPrefix(tr.Event, "SIEM ") {
				got[tr.Event+"/"+tr.User] = tr
			}
		}
		for _, w := range want {
			if _, ok := got[w+"/key:portal"]; !ok {
				return false
			}
		}
		return true
	})
	up := got["SIEM integration updated/key:portal"]
	if up.IP != "127.0.0.1" || up.Account != accA || up.Metadata.Integration != id || !slices.Equal(up.Metadata.Fields, []string{"gzip", "token"}) {
		t.Errorf("update record %+v", up)
	}
	if _, ok := got["SIEM account key created/admin"]; !ok {
		t.Errorf("the key's creation on the command line is not in the trail: %v", keys(got))
	}
	if _, ok := got["SIEM integration created/admin"]; !ok {
		t.Errorf("the CLI's integrations add is not in the trail: %v", keys(got))
	}

	// The operator switches the account's SIEM feature off: the command
	// line refuses to sync it and says why; on again, it syncs.
	p.kill(t, syscall.SIGTERM)
	in.ok("", "accounts", "update", accA, "--siem=false")
	if l := in.ok("", "accounts", "list"); !strings.Contains(l, "off") {
		t.Errorf("accounts list does not show the feature off:\n%s", l)
	}
	if stdout, stderr, code := in.run(nil, "", "sync", "--once", "--integration", id); code != 1 || !strings.Contains(stdout+stderr, "turned off for this account") {
		t.Errorf("sync --once of an account with the feature off: exit %d\n%s%s", code, stdout, stderr)
	}
	in.ok("", "accounts", "update", accA, "--siem=true")
	in.ok("", "sync", "--once", "--integration", id)
	var keyList []struct{ ID, Name string }
	json.Unmarshal([]byte(in.ok("", "accounts", "keys", "list", accA, "--json")), &keyList) //nolint:errcheck // checked below
	if len(keyList) != 1 || keyList[0].Name != "portal" {
		t.Fatalf("keys list --json: %+v", keyList)
	}
	in.ok("", "accounts", "keys", "revoke", accA, keyList[0].ID)
	if _, _, code := in.run(nil, "", "accounts", "keys", "revoke", accA, keyList[0].ID); code != 1 {
		t.Errorf("revoking twice: exit %d, want 1", code)
	}

	// Nothing the HEC received carries a token or the key.
	var all strings.Builder
	for _, ev := range in.recv.Events() {
		fmt.Fprintf(&all, "%s %s %s\n", ev.Source, ev.Sourcetype, ev.Event)
	}
	for what, secret := range map[string]string{"HEC token": hecToken, "patched token": tokPatched, "trial token": tokTrial,
		"second token": tokSecond, "account key": key, "admin token": testAdminToken} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("the %s reached the HEC", what)
		}
		if what != "account key" && strings.Contains(in.out.String(), secret) {
			t.Errorf("the %s is in siemsync's output", what)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
