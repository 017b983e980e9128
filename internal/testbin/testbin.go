// Package testbin is the siemsync binary in tests that run it: built once
// from the repository (Build, for TestMain), then run to completion (Run).
// It is only imported by tests.
package testbin

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Build builds cmd/siemsync of the repository whose root is the directory
// root (relative to the test's package directory, e.g. "../..") into a new
// temporary directory. It returns the binary's path and that directory, for
// the caller to remove when its tests are done.
func Build(root string) (binary, dir string, err error) {
	dir, err = os.MkdirTemp("", "siemsync-bin-")
	if err != nil {
		return "", "", err
	}
	binary = filepath.Join(dir, "siemsync")
	cmd := exec.Command("go", "build", "-o", binary, "./cmd/siemsync")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", "", fmt.Errorf("build siemsync: %v\n%s", err, out)
	}
	return binary, dir, nil
}

// Run runs cmd to completion with stdin as its input and returns its
// stdout, stderr and exit code. It fails t if cmd could not run at all.
func Run(t testing.TB, cmd *exec.Cmd, stdin string) (string, string, int) {
	t.Helper()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return stdout.String(), stderr.String(), code
}

// Succeeded fails t unless the run of siemsync with args that gave stdout,
// stderr and code exited 0, and returns its stdout.
func Succeeded(t testing.TB, args []string, stdout, stderr string, code int) string {
	t.Helper()
	if code != 0 {
		t.Fatalf("siemsync %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}
