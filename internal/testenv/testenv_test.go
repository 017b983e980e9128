package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Missing skips outside CI and fails under CI=true. The verdict is read
// from a child run of this test binary, since a skip or a failure ends the
// test that sees it.
func TestMissing(t *testing.T) {
	if os.Getenv("TESTENV_MISSING_CHILD") == "1" {
		Missing(t, "frobnicator is not installed")
		t.Error("Missing returned")
		return
	}
	tests := []struct {
		ci      string
		fails   bool
		verdict string
	}{
		{"true", true, "--- FAIL: TestMissing"},
		{"", false, "--- SKIP: TestMissing"},
		{"false", false, "--- SKIP: TestMissing"},
	}
	for _, tt := range tests {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMissing$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "TESTENV_MISSING_CHILD=1", "CI="+tt.ci)
		out, err := cmd.CombinedOutput()
		if (err != nil) != tt.fails || !strings.Contains(string(out), tt.verdict) || !strings.Contains(string(out), "frobnicator is not installed") {
			t.Errorf("CI=%q: exit %v, want failure=%v and %q:\n%s", tt.ci, err, tt.fails, tt.verdict, out)
		}
	}
}

// As root the test body runs as nobody; as anyone else it runs as is.
func TestRerunAsNobody(t *testing.T) {
	if RerunAsNobody(t) {
		return
	}
	if os.Geteuid() == 0 {
		t.Fatal("the test body runs as root")
	}
	if os.Getenv(childEnv) != "" {
		if _, err := os.Stat(os.Args[0]); err != nil {
			t.Fatal(err)
		}
		if f, err := os.CreateTemp("", "x"); err != nil {
			t.Errorf("nobody cannot write its TMPDIR: %v", err)
		} else {
			f.Close()
		}
	}
}

func TestRunPattern(t *testing.T) {
	tests := []struct{ name, want string }{
		{"TestX", "^TestX$"},
		{"TestX/sub_1", "^TestX$/^sub_1$"},
		{"TestX/a.b(c)", `^TestX$/^a\.b\(c\)$`},
	}
	for _, tt := range tests {
		if got := runPattern(tt.name); got != tt.want {
			t.Errorf("runPattern(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
