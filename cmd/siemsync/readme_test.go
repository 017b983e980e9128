package main

// The README's quick start and first integration, run as written: the shell
// blocks marked <!-- readme-test: NAME --> are extracted from README.md and
// run with bash against the binary built for these tests, so the README and
// the program cannot drift apart.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/siemsync/siemsync/internal/testenv"
)

// readmeBlocks returns the fenced blocks of README.md marked with
// <!-- readme-test: NAME -->, by name.
func readmeBlocks(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- readme-test: ([a-z-]+) -->\n```sh\n(.*?)```")
	blocks := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		blocks[m[1]] = m[2]
	}
	for _, name := range []string{"demo", "ci", "first-integration"} {
		if blocks[name] == "" {
			t.Fatalf("README.md has no block marked <!-- readme-test: %s -->", name)
		}
	}
	return blocks
}

// TestReadmeTestCommand: the test command of the quick start is the one CI
// runs.
func TestReadmeTestCommand(t *testing.T) {
	t.Parallel()
	ci, err := os.ReadFile(filepath.Join(repoRoot, ".ci/run"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(ci)), "\n")
	if got, want := strings.TrimSpace(readmeBlocks(t)["ci"]), lines[len(lines)-1]; got != want {
		t.Fatalf("README test command\n  %s\nis not what .ci/run runs\n  %s", got, want)
	}
}

// isolated runs script with bash in a network namespace of its own (only
// its loopback), so that the README's fixed ports (8080, 8088) are free
// whatever else runs on the machine. It needs root, as CI has.
func isolated(t *testing.T, ctx context.Context, dir, script string, env []string) *exec.Cmd {
	t.Helper()
	if out, err := exec.Command("unshare", "-n", "true").CombinedOutput(); err != nil {
		testenv.Missing(t, fmt.Sprintf("unshare -n (needs root): %v %s", err, out))
	}
	// The trap stops what the script left in the background when a command
	// fails part way; on success the script stops it itself.
	cmd := exec.CommandContext(ctx, "unshare", "-n", "bash", "-c",
		"ip link set lo up && exec bash -e -c \"trap 'kill \\$(jobs -p) 2>/dev/null || :' EXIT; $0\"", script)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// cleanEnv is the environment without any SIEMSYNC_ setting of the caller.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "SIEMSYNC_") && !strings.HasPrefix(e, "HOME=") && !strings.HasPrefix(e, "PATH=") {
			env = append(env, e)
		}
	}
	return append(env, extra...)
}

// TestReadmeFirstIntegration runs "First integration in five minutes" as
// written, in a directory holding a copy of examples/, with the test's
// binary as siemsync on PATH, and checks what the README says happens.
func TestReadmeFirstIntegration(t *testing.T) {
	t.Parallel()
	script := readmeBlocks(t)["first-integration"]
	dir, home := t.TempDir(), t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "examples"), os.DirFS(filepath.Join(repoRoot, "examples"))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := isolated(t, ctx, dir, script, cleanEnv("HOME="+home, "PATH="+filepath.Dir(binary)+":"+os.Getenv("PATH")))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's first integration failed: %v\n%s", err, out)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^ok +token `),
		regexp.MustCompile(`(?m)^ok +[0-9a-f-]{36} "Local receiver" +audit=5 jobs=1 `),
		regexp.MustCompile(`(?m)^events last cycle: +6$`),
	} {
		if !want.Match(out) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	f, err := os.Open(filepath.Join(dir, "received.ndjson"))
	if err != nil {
		t.Fatalf("received.ndjson: %v\n%s", err, out)
	}
	defer f.Close()
	got := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e struct {
			Event struct{ Kind, ID, Job, Event string }
		}
		if err := yaml.Unmarshal(sc.Bytes(), &e); err != nil { // JSON is YAML
			t.Fatalf("received %q: %v", sc.Text(), err)
		}
		key := e.Event.Kind + " " + e.Event.ID
		switch {
		case e.Event.Kind == "job":
			key = "job " + e.Event.Job
		case strings.HasPrefix(e.Event.Event, "SIEM integration"): // the account's audit trail, ids generated
			key = "audit " + e.Event.Event
		}
		got[key]++
	}
	want := map[string]int{"audit audit-0001": 1, "audit audit-0002": 1, "audit audit-0003": 1,
		"audit SIEM integration created": 1, "audit SIEM integration connection tested": 1,
		"job 0b9e7c1a-1111-4a2b-8c3d-000000000001": 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("received %v\nwant %v", got, want)
	}
}

// TestReadmeDemo runs the quick start's demo as written (go run from the
// repository root), waits until events arrive at its receiver, then stops
// it with Ctrl-C (SIGINT) and checks it exits cleanly and removes its store.
func TestReadmeDemo(t *testing.T) {
	t.Parallel()
	script := strings.TrimSpace(readmeBlocks(t)["demo"])
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := isolated(t, ctx, root, script, cleanEnv("HOME="+os.Getenv("HOME"), "PATH="+os.Getenv("PATH")))
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	arrived := regexp.MustCompile(`What arrived +tail -f (\S+)`)
	var received string
	waitFor(t, 3*time.Minute, "the demo to start and its receiver to get events", func() bool {
		select {
		case err := <-done:
			t.Fatalf("the demo exited: %v\n%s", err, out.String())
		default:
		}
		if m := arrived.FindStringSubmatch(out.String()); m != nil {
			received = m[1]
			b, _ := os.ReadFile(received)
			return bytes.Count(b, []byte("\n")) > 0
		}
		return false
	})
	for _, want := range []string{"siemsync demo is running", "Admin page     http://127.0.0.1:8080/", "Admin token    demo-",
		"siemsync --db "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's banner lacks %q:\n%s", want, out.String())
		}
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) // Ctrl-C reaches the whole process group
	select {
	case err := <-done:
		// go run itself exits 1 when interrupted, whatever the program did;
		// the demo's own clean stop is its last log line.
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) || !strings.Contains(out.String(), "stopped") {
			t.Fatalf("the demo did not stop cleanly on Ctrl-C: %v\n%s", err, out.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("the demo did not stop within a minute of Ctrl-C:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Dir(received)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the demo left its temporary directory %s (%v)", filepath.Dir(received), err)
	}
}

// TestReadmeYAML: every YAML block of the README (Prometheus scrape config
// and alert rules) parses.
func TestReadmeYAML(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(b, -1)
	if len(blocks) < 2 {
		t.Fatalf("%d YAML blocks, want the scrape config and the alert rules", len(blocks))
	}
	for _, m := range blocks {
		var v any
		dec := yaml.NewDecoder(bytes.NewReader(m[1]))
		dec.KnownFields(true)
		if err := dec.Decode(&v); err != nil && !errors.Is(err, io.EOF) {
			t.Errorf("README YAML block does not parse: %v\n%s", err, m[1])
		}
	}
}
