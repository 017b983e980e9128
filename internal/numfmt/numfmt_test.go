package numfmt

import "testing"

func TestGroup(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {12345, "12,345"},
		{1234567, "1,234,567"}, {-1234, "-1,234"}, {-999, "-999"},
	} {
		if got := Group(tc.n, ","); got != tc.want {
			t.Errorf("Group(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
