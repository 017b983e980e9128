// Package numfmt formats numbers for people: the admin page and the bench
// table group thousands.
package numfmt

import (
	"strconv"
	"strings"
)

// Group writes n with sep between groups of three digits: Group(12345, ",")
// is "12,345".
func Group(n int64, sep string) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}
