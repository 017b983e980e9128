package sink

import "testing"

// TestReasonBounded: the failure reason is a metric label, and its numbers
// come from the destination: only HEC codes and HTTP statuses that exist
// get their own label, so a destination cannot grow the label set.
func TestReasonBounded(t *testing.T) {
	for _, tt := range []struct {
		err  Error
		want string
	}{
		{Error{Class: BadEvent, Code: 6, Status: 400}, "bad_event_code_6"},
		{Error{Class: Config, Code: 27, Status: 400}, "config_code_27"},
		{Error{Class: Config, Code: 28, Status: 400}, "config_code_other"},
		{Error{Class: Config, Code: 1234567, Status: 400}, "config_code_other"},
		{Error{Class: Retry, Code: -1, Status: 503}, "retry_http_503"},
		{Error{Class: Retry, Code: -1, Status: 599}, "retry_http_other"},
		{Error{Class: Config, Code: -1, Status: 999}, "config_http_other"},
		{Error{Class: Retry, Code: -1}, "retry"},
	} {
		if got := tt.err.Reason(); got != tt.want {
			t.Errorf("Reason(code %d, status %d) = %q, want %q", tt.err.Code, tt.err.Status, got, tt.want)
		}
	}
}
