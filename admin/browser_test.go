package admin_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/admin"
	"github.com/siemsync/siemsync/internal/hecrecv"
	"github.com/siemsync/siemsync/internal/metrics"
	"github.com/siemsync/siemsync/internal/testenv"
	"github.com/siemsync/siemsync/sink/hec"
	"github.com/siemsync/siemsync/sink/syslog"
	"github.com/siemsync/siemsync/store"
	"github.com/siemsync/siemsync/store/sqlite"
	ssync "github.com/siemsync/siemsync/sync"
)

// chromiumPath finds Debian's chromium, or skips the test (fails it in CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	testenv.Missing(t, "chromium is not installed (apt-get install chromium)")
	return ""
}

// screenshotDir is SIEMSYNC_SCREENSHOT_DIR, or a new temp dir that is kept
// after the test so the screenshots can be looked at.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SIEMSYNC_SCREENSHOT_DIR")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "siemsync-screenshots-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

func ingestAudit(t *testing.T, db *sqlite.DB, account string, ids ...string) {
	t.Helper()
	ing, err := db.BeginIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		a := &siemsync.Audit{ID: id, Time: time.Now().UTC().Add(time.Duration(i) * time.Millisecond), Account: account,
			Event: "user.login", User: "alice@example.com", IP: "203.0.113.7", Method: "POST"}
		if _, err := ing.Audit(a); err != nil {
			ing.Rollback()
			t.Fatal(err)
		}
	}
	if err := ing.Commit(); err != nil {
		t.Fatal(err)
	}
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// TestBrowser drives the admin page in headless Chromium against the real
// store, a real sync.Syncer with the real HEC sink, hec.Check as the
// Tester, and the HEC-compatible receiver.
func TestBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	dir := screenshotDir(t)

	db, _ := openStore(t)
	const goodToken, badToken = "good-hec-token-4711", "bad-hec-token-0815"
	recv := hecrecv.New(hecrecv.Options{Tokens: []string{goodToken}})
	hecSrv := httptest.NewServer(recv)
	t.Cleanup(hecSrv.Close)

	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	hopts := hec.Options{AllowPrivate: true, RequestTimeout: 5 * time.Second, Logger: log}
	sopts := syslog.Options{AllowPrivate: true}
	syncer := ssync.New(ssync.Config{
		Store: db, Logger: log, RetryBudget: time.Second, Backoff: func(int) time.Duration { return 0 },
		Open: func(ctx context.Context, in *siemsync.Integration) (ssync.Sink, error) {
			if in.Kind == siemsync.KindSyslog {
				return syslog.New(in, sopts)
			}
			return hec.New(in, hopts)
		},
	})
	tester := func(ctx context.Context, in *siemsync.Integration, send bool) []siemsync.Step {
		if in.Kind == siemsync.KindSyslog {
			return syslog.Check(ctx, in, sopts, send)
		}
		return hec.Check(ctx, in, hopts, send)
	}
	replays := ssync.NewReplays(syncer, db, "browser-test", time.Minute)
	rctx, stopReplays := context.WithCancel(t.Context())
	replaysDone := make(chan struct{})
	go func() { defer close(replaysDone); replays.Run(rctx, time.Second) }()
	t.Cleanup(func() { stopReplays(); <-replaysDone })
	srv, err := admin.New(admin.Config{
		Store: db, Syncer: syncer, Tester: tester, Preview: syncer, Replays: replays, Metrics: metrics.New(), Logger: log,
		TokenHash: sha256.Sum256([]byte(adminToken)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	// An account that exists (created by ingest) with a name.
	ingestAudit(t, db, acct, ids("old", 3)...)
	name := "Acme Corp"
	if err := db.UpdateAccount(t.Context(), acct, &name, nil); err != nil {
		t.Fatal(err)
	}

	c := newChrome(t, chrome, dir)
	shot, run, get, waitText, click, typeIn := c.shot, c.run, c.get, c.waitText, c.click, c.typeIn
	setValue := func(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SetValue(chromedp.CSS(sel), v) }
	visible := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(chromedp.CSS(sel)) }

	// Sign in: a wrong token first.
	run("open", chromedp.Navigate(ts.URL+"/"), visible("#token"), shot("01-login-desktop"))
	run("wrong login", typeIn("#token", "not-the-token"), click("form button[type=submit]"),
		waitText(".flash-error", "That admin token or account key is not valid."))
	run("login", typeIn("#token", adminToken), click("form button[type=submit]"),
		waitText("h1", "Integrations"), waitText(".account", "No integrations yet"), shot("02-index-empty-desktop"))

	// Add an integration: a validation error, shown at the field and corrected.
	hecURL := hecSrv.URL
	run("new form", click(".pagehead a.btn-primary"), visible("#integration-form"),
		setValue("#account", acct), typeIn("#name", "Splunk production"),
		typeIn("#url", strings.TrimPrefix(hecURL, "http://")), typeIn("#token", goodToken), typeIn("#index", "security"),
		click("#integration-form .formbar button[type=submit]"),
		waitText("#url-error", "must be an http:// or https:// URL"), shot("03-form-error-desktop"))
	if v := get("name kept", `document.querySelector("#name").value`); v != "Splunk production" {
		t.Fatalf("typed name not kept: %q", v)
	}
	if v := get("token dropped", `document.querySelector("#token").value`); v != "" {
		t.Fatalf("token echoed back: %q", v)
	}
	run("fix form", typeIn("#url", hecURL), typeIn("#token", goodToken),
		click("#integration-form .formbar button[type=submit]"),
		waitText(".flash-ok", "Splunk production was added"), waitText(".pill", "Waiting for first cycle"))

	// Toggle it off and on.
	switchState := `document.querySelector("button.switch").getAttribute("aria-checked")`
	run("toggle off", click("form.toggle-form button.switch"), waitText(".flash-info", "is disabled"))
	if v := get("switch", switchState); v != "false" {
		t.Fatalf("switch after disabling: %q", v)
	}
	run("toggle on", click("form.toggle-form button.switch"), waitText(".flash-ok", "is enabled"))
	if v := get("switch", switchState); v != "true" {
		t.Fatalf("switch after enabling: %q", v)
	}

	// Test connection: passes with the good token.
	run("test ok", click(`form[action$="/test"] button`), waitText("#test h2", "Connection test: passed"),
		waitText("#test", "token"), shot("04-test-passed-desktop"))

	// A wrong token: the test says so.
	run("edit bad token", click(`.actions a[href$="/edit"]`), visible("#token"),
		typeIn("#token", badToken), click("#integration-form .formbar button[type=submit]"),
		waitText(".flash-ok", "were saved"))
	run("test bad token", click(`form[action$="/test"] button`), waitText("#test h2", "Connection test: failed"),
		shot("05-test-failed-desktop"))
	if v := get("failed step", `document.querySelector("#test .step-fail").textContent`); !strings.Contains(strings.ToLower(v), "token") || strings.Contains(v, badToken) {
		t.Fatalf("failed step: %q", v)
	}
	run("edit good token", click(`.actions a[href$="/edit"]`), visible("#token"),
		typeIn("#token", goodToken), click("#integration-form .formbar button[type=submit]"),
		waitText(".flash-ok", "were saved"))

	// Sync now: the status updates; one poisoned event is set aside.
	ingestAudit(t, db, acct, append(ids("new", 4), "poison-1")...)
	recv.SetFault(hecrecv.Fault{PoisonIDs: []string{"poison-1"}})
	run("sync", click(`form[action$="/sync"] button`), waitText(".flash-ok", "Sync complete: 4 events sent; 1 set aside"),
		waitText(".stats", "Events last cycle4"), waitText("#setaside", "poison-1"), waitText(".pill", "Events set aside"),
		shot("06-setaside-desktop"))
	if n := recv.Count(); n != 4 {
		t.Fatalf("receiver got %d events, want 4", n)
	}
	recv.SetFault(hecrecv.Fault{})
	run("retry", click(`form[action$="/setaside/retry"] button`), waitText(".flash-ok", "1 set-aside events delivered."),
		waitText("#setaside", "None."))
	// More cycles, for the chart.
	for i, n := range []int{12, 7, 0, 18} {
		ingestAudit(t, db, acct, ids(fmt.Sprintf("c%d", i), n)...)
		run("sync more", click(`form[action$="/sync"] button`), waitText(".flash-ok", fmt.Sprintf("Sync complete: %d events sent.", n)))
	}
	run("detail", waitText(".pill", "Healthy"), shot("07-detail-desktop"))

	// Preview from the edit form: the next events' bytes, nothing saved.
	ingestAudit(t, db, acct, "preview-1", "preview-2")
	before := recv.Count()
	run("preview", click(`.actions a[href$="/edit"]`), visible("#token"), typeIn("#name", "Renamed in the form only"),
		click(`#integration-form button[name="preview"]`), waitText("#preview", "The exact bytes of the next 2 events"),
		waitText("#preview pre", `"id":"preview-2"`), shot("07b-preview-desktop"))
	if v := get("name kept", `document.querySelector("#name").value`); v != "Renamed in the form only" {
		t.Fatalf("the form lost what was typed: %q", v)
	}
	if recv.Count() != before {
		t.Fatal("the preview sent events")
	}
	// Replay: the window goes out again; the progress bar reaches the end.
	run("replay", chromedp.Navigate(ts.URL+"/"), click(`.card[data-name="Splunk production"] h3 a`),
		visible("#replay_since"), setValue("#replay_since", time.Now().UTC().Add(-24*time.Hour).Format("2006-01-02T15:04")),
		click(`#replay button[type=submit]`), waitText(".flash-ok", "Replay started"),
		waitText("#replay-progress", "sent (100%)"), waitText("#replay", "Last replay (done)"), shot("07c-replay-desktop"))
	if v := get("progress bar", `String(document.querySelector("#replay progress").value === document.querySelector("#replay progress").max)`); v != "true" {
		t.Fatalf("progress bar not full at the end: %s", v)
	}

	// A syslog integration: the form shows the syslog fields only; its
	// cycle fails (nothing listens), which the index shows.
	run("syslog form", chromedp.Navigate(ts.URL+"/integrations/new?account="+acct), visible("#name"),
		click(`input[name="kind"][value="syslog_cef"] + span`),
		visible("#address"), chromedp.WaitNotVisible(chromedp.CSS("#url")),
		typeIn("#name", "QRadar"), typeIn("#address", "127.0.0.1:9"), setValue("#protocol", "tcp"),
		click("#integration-form .formbar button[type=submit]"), waitText(".flash-ok", "QRadar was added"))
	ingestAudit(t, db, acct, ids("q", 3)...)
	run("syslog sync", click(`form[action$="/sync"] button`), waitText(".flash-error", "The cycle failed"))
	run("index", chromedp.Navigate(ts.URL+"/"), waitText(".account", "QRadar"), waitText(".account", "Failing"),
		shot("08-index-desktop"))
	run("edit form", click(`.card[data-name="Splunk production"] a[href$="/edit"]`), visible("#token"), shot("09-edit-desktop"))

	// Phone width.
	run("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(ts.URL+"/"), waitText("h1", "Integrations"),
		shot("10-index-phone"))
	run("phone detail", click(`.card[data-name="Splunk production"] h3 a`), waitText(".pill", "Healthy"), shot("11-detail-phone"))
	run("phone form", chromedp.Navigate(ts.URL+"/integrations/new"), visible("#name"),
		click("#integration-form .formbar button[type=submit]"), waitText("#form-errors", "Please correct"),
		shot("12-form-error-phone"))
	run("phone logout", chromedp.Navigate(ts.URL+"/"), click(".topnav button"), waitText("h1", "Sign in"), shot("13-login-phone"),
		typeIn("#token", adminToken), click("form button[type=submit]"), waitText("h1", "Integrations"))
	run("desktop again", chromedp.EmulateViewport(1280, 900))

	// Delete, with confirmation.
	run("delete", chromedp.Navigate(ts.URL+"/"), click(`.card[data-name="Splunk production"] a[href$="/delete"]`),
		waitText("h1", "Delete Splunk production?"), shot("14-delete-confirm-desktop"),
		click(`form[action$="/delete"] button.btn-danger`), waitText(".flash-ok", "Splunk production was deleted."))
	if v := get("after delete", `String(document.querySelectorAll('.card[data-name="Splunk production"]').length)`); v != "0" {
		t.Fatal("deleted integration still listed")
	}
}

// TestBrowserAccountKey signs in with an account key in headless Chromium:
// every page shows that account alone, never another account's name, id or
// integrations, and the customer's admin can test an unsaved integration,
// add it, and see the operator's egress addresses.
func TestBrowserAccountKey(t *testing.T) {
	chrome := chromiumPath(t)
	dir := screenshotDir(t)
	db, _ := openStore(t)
	const goodToken = "good-hec-token-9911"
	recv := hecrecv.New(hecrecv.Options{Tokens: []string{goodToken}})
	hecSrv := httptest.NewServer(recv)
	t.Cleanup(hecSrv.Close)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	hopts := hec.Options{AllowPrivate: true, RequestTimeout: 5 * time.Second, Logger: log}
	srv, err := admin.New(admin.Config{
		Store: db, Logger: log, TokenHash: sha256.Sum256([]byte(adminToken)), Egress: "203.0.113.16/28",
		Tester: func(ctx context.Context, in *siemsync.Integration, send bool) []siemsync.Step {
			return hec.Check(ctx, in, hopts, send)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	// Two customers, each with an integration.
	ingestAudit(t, db, acct, ids("a", 2)...)
	ingestAudit(t, db, acct2, ids("b", 2)...)
	nameA, nameB := "Acme Corp", "Globex Rival"
	for a, n := range map[string]*string{acct: &nameA, acct2: &nameB} {
		if err := db.UpdateAccount(t.Context(), a, n, nil); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(account, name string) string {
		in := &siemsync.Integration{Account: account, Name: name, Kind: siemsync.KindHEC, Enabled: true,
			Sources: []string{"audit"}, URL: hecSrv.URL, Token: goodToken}
		in.ApplyDefaults()
		if err := db.CreateIntegration(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		return in.ID
	}
	mk(acct, "Acme Splunk")
	otherID := mk(acct2, "Globex SOC Splunk")
	key, hash, err := admin.NewAccountKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAccountKey(t.Context(), &store.AccountKey{Account: acct, Name: "acme-portal", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	// What must never appear in a page of account A's key.
	foreign := []string{acct2, nameB, "Globex", otherID}

	c := newChrome(t, chrome, dir)
	ctx := c.ctx
	shot, run, waitText, click, typeIn := c.shot, c.run, c.waitText, c.click, c.typeIn

	// alone checks the whole HTML of the page for the other account.
	alone := func(page string) {
		t.Helper()
		html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		for _, s := range foreign {
			if strings.Contains(html, s) {
				t.Fatalf("%s: the page of account A's key contains %q of account B", page, s)
			}
		}
		if strings.Contains(html, key) {
			t.Fatalf("%s: the page contains the account key", page)
		}
	}

	run("sign in with the key", chromedp.Navigate(ts.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#token")),
		typeIn("#token", key), click("form button[type=submit]"),
		waitText("h1", "Integrations"), waitText(".account", "Acme Splunk"), waitText(".topnav", "key: acme-portal"),
		shot("21-key-index"))
	alone("index")
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("section.account").length`)); n != 1 {
		t.Fatalf("%d account sections, want 1", n)
	}

	run("another account's integration", chromedp.Navigate(ts.URL+"/integrations/"+otherID), waitText("h1", "Not found"))
	alone("another account's integration")

	// Test before Save: the test runs, nothing is stored.
	run("new form", chromedp.Navigate(ts.URL+"/integrations/new"), chromedp.WaitVisible(chromedp.CSS("#integration-form")),
		waitText("#egress", "203.0.113.16/28"))
	alone("new form")
	if opts, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#account option")).map(o => o.value).join(",")`)); opts != ","+acct {
		t.Fatalf("account choices %q, want only the key's account", opts)
	}
	run("test unsaved", chromedp.SetValue(chromedp.CSS("#account"), acct), typeIn("#name", "Acme SOC"),
		typeIn("#url", hecSrv.URL), typeIn("#token", goodToken), click("#test-button"),
		waitText("#test h2", "Connection test: passed"), shot("22-key-test-before-save"))
	alone("tested form")
	if list, _ := db.ListIntegrations(t.Context(), acct); len(list) != 1 {
		t.Fatalf("Test stored an integration: %d", len(list))
	}
	if v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#name").value`)); v != "Acme SOC" {
		t.Fatalf("name after Test: %q", v)
	}
	run("save", typeIn("#token", goodToken), click("#integration-form .formbar button.btn-primary"),
		waitText(".flash-ok", "Acme SOC was added"), waitText("#egress", "203.0.113.16/28"), shot("23-key-detail"))
	alone("detail")
	run("index again", chromedp.Navigate(ts.URL+"/"), waitText(".account", "Acme SOC"))
	alone("index with two integrations")
}

// chrome is a headless Chromium tab and the steps the browser tests take in it.
type chrome struct {
	t   *testing.T
	ctx context.Context
	dir string // screenshots
}

func newChrome(t *testing.T, path, dir string) *chrome {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelA)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(cancelC)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelT)
	return &chrome{t: t, ctx: ctx, dir: dir}
}

func (c *chrome) shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		buf, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(c.dir, name+".png"), buf, 0o644)
	})
}

// run does the actions of a step; on failure it saves a screenshot and
// stops the test with the page's text.
func (c *chrome) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		_ = chromedp.Do(c.ctx, c.shot("failed-"+strings.ReplaceAll(step, " ", "-")))
		body, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		c.t.Fatalf("%s: %v\npage text:\n%s", step, err, body)
	}
}

func (c *chrome) get(step, js string) string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		c.t.Fatalf("%s: %v", step, err)
	}
	return v
}

// waitText waits until the first element matching sel contains s.
func (c *chrome) waitText(sel, s string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, s)
	// A plain loop rather than chromedp.Poll: the page may navigate (a
	// form was just submitted), which ends a poll with an error.
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok, err := chromedp.Evaluate[bool](js)(ctx, tg)
			if err == nil && ok {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("wait for %q in %s: timed out (last error: %v)", s, sel, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

func (c *chrome) click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)
}

// typeIn replaces the field's value by typing v.
func (c *chrome) typeIn(sel, v string) chromedp.Action[chromedp.Void] {
	clear := fmt.Sprintf(`(() => { document.querySelector(%q).value = ""; return true; })()`, sel)
	return chromedp.Steps(
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](clear)(ctx, tg)
			return err
		}),
		chromedp.SendKeys(chromedp.CSS(sel), v))
}
