package main

// The operator's first start: the admin token survives a failed serve, a
// mistyped --db creates nothing, and a read-only or full file system is
// reported with the path and the fix.

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siemsync/siemsync/internal/hecrecv"
	"github.com/siemsync/siemsync/internal/testenv"
)

var tokenLine = regexp.MustCompile(`admin token \(shown once; only its hash is stored\): (\S+)`)

// serveURL waits for a serve started with SIEMSYNC_LOG_LEVEL=info to log
// the URL it serves on, and returns it.
func serveURL(t *testing.T, p *proc) string {
	t.Helper()
	var url string
	waitFor(t, time.Minute, "serve to listen", func() bool {
		if p.exited() {
			t.Fatalf("serve exited: %s %s", p.stdout.String(), p.stderr.String())
		}
		if m := serveURLRE.FindStringSubmatch(p.stderr.String()); m != nil {
			url = m[1] + "/"
		}
		return url != ""
	})
	return url
}

// TestServeTokenAfterFailedStart: a serve that fails on its listen address or
// its schedule prints no token and stores no hash, so the next good start
// generates one and prints it; that token then signs in.
func TestServeTokenAfterFailedStart(t *testing.T) {
	t.Parallel()
	in := newInstall(t, hecrecv.Options{})
	noToken := []string{"SIEMSYNC_ADMIN_TOKEN="} // later wins: generate one
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	stdout, stderr, code := in.run(noToken, "", "serve", "--listen", busy.Addr().String())
	if code != 1 || !strings.Contains(stderr, "address already in use") || strings.Contains(stdout, "admin token") {
		t.Fatalf("serve on a busy address: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	stdout, stderr, code = in.run(noToken, "", "serve", "--listen", "127.0.0.1:0", "--schedule", "every five minutes")
	if code != 2 || !strings.Contains(stderr, "--schedule") || strings.Contains(stdout, "admin token") {
		t.Fatalf("serve with a bad schedule: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}

	p := in.start(append(noToken, "SIEMSYNC_LOG_LEVEL=info"), nil, "serve", "--listen", "127.0.0.1:0")
	url := serveURL(t, p)
	if !tokenLine.MatchString(p.stdout.String()) {
		t.Fatalf("serve printed no token: %s", p.stdout.String())
	}
	token := tokenLine.FindStringSubmatch(p.stdout.String())[1]
	req, _ := http.NewRequest("GET", url+"api/v1/integrations", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the printed token does not sign in: %d", resp.StatusCode)
	}
	p.kill(t, syscall.SIGTERM)
}

// TestMistypedDBCreatesNothing: commands other than serve, ingest and demo
// refuse a database path that does not exist, name the path they looked at,
// and leave nothing behind; --create (or SIEMSYNC_CREATE) makes a new store.
func TestMistypedDBCreatesNothing(t *testing.T) {
	t.Parallel()
	in := newInstall(t, hecrecv.Options{})
	typo := filepath.Join(in.dir, "siemsyn.db")
	for _, args := range [][]string{
		{"sync", "--once"},
		{"integrations", "list"},
		{"accounts", "list"},
		{"prune"},
		{"integrations", "add", "--account", accA, "--name", "s", "--kind", "splunk_hec", "--url", in.url, "--token", hecToken},
	} {
		stdout, stderr, code := in.run([]string{"SIEMSYNC_DB=" + typo}, "", args...)
		if code != 1 || !strings.Contains(stderr, "no database at "+typo) || !strings.Contains(stderr, "--create") {
			t.Errorf("%v on a missing database: exit %d\nstdout: %s\nstderr: %s", args, code, stdout, stderr)
		}
		if left, _ := filepath.Glob(typo + "*"); len(left) > 0 {
			t.Fatalf("%v left %v behind", args, left)
		}
	}

	// A relative path is named with the directory it was resolved in.
	cmd := exec.Command(binary, "--db", "typo.db", "integrations", "list")
	cmd.Dir = in.dir
	cmd.Env = append(os.Environ(), "SIEMSYNC_DB=")
	out, _ := cmd.CombinedOutput()
	if want := filepath.Join(in.dir, "typo.db") + " (--db typo.db, relative to the current directory)"; !strings.Contains(string(out), want) {
		t.Errorf("relative --db: %s\nwant it to say %q", out, want)
	}

	if out := in.ok("", "--db", typo, "--create", "integrations", "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("--create: %q", out)
	}
	if _, err := os.Stat(typo); err != nil {
		t.Fatalf("--create made no database: %v", err)
	}
	other := filepath.Join(in.dir, "other.db")
	if _, stderr, code := in.run([]string{"SIEMSYNC_CREATE=true"}, "", "--db", other, "prune"); code != 0 {
		t.Fatalf("SIEMSYNC_CREATE=true: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("SIEMSYNC_CREATE made no database: %v", err)
	}
	// ingest is how records arrive first: it creates the store.
	fresh := filepath.Join(in.dir, "fresh.db")
	in.ok(records(idRange("f", 3)), "--db", fresh, "ingest", "audit", "-")
	in.ok("", "--db", fresh, "sync", "--once")
}

// mountTmpfs mounts a tmpfs with the given options for the test. Mounting
// needs root (CI runs as root): elsewhere the test is skipped, in CI it fails.
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		testenv.Missing(t, fmt.Sprintf("mount tmpfs (needs root): %v %s", err, out))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// TestStoreOnReadOnlyOrFullDisk: opening the store on a read-only file
// system or a full disk says so, names the directory and what to do.
func TestStoreOnReadOnlyOrFullDisk(t *testing.T) {
	t.Parallel()
	in := newInstall(t, hecrecv.Options{})
	key := "SIEMSYNC_SECRET_KEY=" + strings.Repeat("k", 40)
	expect := func(what string, extra []string, args []string, want ...string) {
		t.Helper()
		stdout, stderr, code := in.run(extra, records(idRange("r", 5)), args...)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1\nstdout: %s\nstderr: %s", what, code, stdout, stderr)
		}
		for _, w := range want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", what, w, stderr)
			}
		}
	}

	ro := mountTmpfs(t, "size=1m,ro")
	for _, extra := range [][]string{nil, {key}} {
		expect("new store, read-only", extra, []string{"--db", filepath.Join(ro, "s.db"), "ingest", "audit", "-"},
			"read-only", ro, "remount it read-write")
	}
	// A store that exists on a volume remounted read-only.
	rw := mountTmpfs(t, "size=4m")
	db := filepath.Join(rw, "s.db")
	in.ok(records(idRange("w", 3)), "--db", db, "ingest", "audit", "-")
	if out, err := exec.Command("mount", "-o", "remount,ro", rw).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v %s", err, out)
	}
	expect("existing store, read-only", nil, []string{"--db", db, "integrations", "list"}, "read-only", rw)

	full := mountTmpfs(t, "size=256k")
	// Fill it to the last block: the write fails with ENOSPC part way.
	if err := os.WriteFile(filepath.Join(full, "filler"), make([]byte, 512<<10), 0o600); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the disk: %v", err)
	}
	expect("full disk, key file", nil, []string{"--db", filepath.Join(full, "s.db"), "ingest", "audit", "-"},
		"no space left on device", "the disk holding "+full+" is full", "free space")
	expect("full disk, database", []string{key}, []string{"--db", filepath.Join(full, "t.db"), "ingest", "audit", "-"},
		"full", "free space")
}
