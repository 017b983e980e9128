// Package testenv holds what tests do about their environment: a tool that
// is missing (skip on a developer's machine, fail in CI), and root, who
// ignores file modes.
package testenv

import (
	"os"
	"testing"
)

// CI reports whether the tests run in CI (CI=true, set by .ci/run), where
// every tool the tests need is installed.
func CI() bool { return os.Getenv("CI") == "true" }

// Missing ends a test that needs a tool this machine lacks. why says what
// is missing and how to install it. Outside CI the test is skipped; in CI
// it fails, since .ci/run installs the tool and a skip would hide a test
// that did not run.
func Missing(t testing.TB, why string) {
	t.Helper()
	if CI() {
		t.Fatalf("%s: CI=true, so this test must run (.ci/run installs what it needs)", why)
	}
	t.Skipf("%s: skipping (with CI=true this fails)", why)
}
