package siemsync

import (
	"errors"
	"fmt"
)

// Sentinel errors shared across packages.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrRunning  = errors.New("a cycle is already running for this integration")
)

// FieldError is bad input: it names the field (and, for NDJSON, the line)
// and says what to do. Line is 0 when the input is not line-oriented.
type FieldError struct {
	Line  int
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	switch {
	case e.Line > 0 && e.Field != "":
		return fmt.Sprintf("line %d: field %s: %s", e.Line, e.Field, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	case e.Field != "":
		return fmt.Sprintf("field %s: %s", e.Field, e.Msg)
	}
	return e.Msg
}

// Invalid returns a *FieldError for field.
func Invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
