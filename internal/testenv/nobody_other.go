//go:build !unix

package testenv

import "testing"

// RerunAsNobody returns false: there is no root whose file modes do not
// hold here, so the caller runs the test itself.
func RerunAsNobody(t *testing.T) bool { return false }
