//go:build unix

package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// childEnv marks the child process RerunAsNobody starts.
const childEnv = "SIEMSYNC_TESTENV_NOBODY"

// RerunAsNobody lets a test about file permissions mean something when the
// tests run as root (CI does), whom the kernel lets write any file: it runs
// the calling test again in a copy of the test binary as the user nobody,
// fails t if that run does not pass, and returns true; the caller then
// returns. As any other user it returns false at once and the caller runs
// the test itself.
//
//	if testenv.RerunAsNobody(t) {
//		return
//	}
func RerunAsNobody(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return false
	}
	if os.Getenv(childEnv) != "" {
		t.Fatal("the child meant to run as nobody still runs as root")
	}
	cred, err := nobody()
	if err != nil {
		t.Fatalf("running as root, this test runs as nobody, which failed: %v", err)
	}
	// nobody can neither read the go build directory nor write t.TempDir
	// (both 0700 root): a directory of its own holds the binary's copy
	// and serves as its TMPDIR.
	dir, err := os.MkdirTemp("", "siemsync-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "test.bin")
	if err := copyFile(bin, os.Args[0]); err != nil {
		t.Fatalf("copy the test binary for nobody: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), bin, "-test.run="+runPattern(t.Name()), "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1", "TMPDIR="+dir, "HOME="+dir)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	t.Logf("%s, run as nobody (uid %d):\n%s", t.Name(), cred.Uid, out)
	if err != nil {
		t.Fatalf("run as nobody: %v", err)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+t.Name()+" ")) || bytes.Contains(out, []byte("--- SKIP")) {
		t.Fatal("the run as nobody did not pass the test")
	}
	return true
}

// nobody is the user nobody, without root's supplementary groups.
func nobody() (*syscall.Credential, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, err
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("read nobody's ids: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// runPattern is a -test.run pattern that matches exactly the test (or
// subtest) named name.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
