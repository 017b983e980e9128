package siemsync

import (
	"strings"
	"unicode/utf8"
)

// GlobMatch reports whether s matches the audit event pattern p: * stands
// for any text (including none), ? for one character, and \ makes the next
// character literal. Letters match regardless of case, as in a Splunk
// search. A pattern without wildcards must match the whole text.
func GlobMatch(p, s string) bool {
	// Iterative matching with one backtrack point (the last *): linear
	// for the patterns people write, and never exponential.
	var starP, starS = -1, 0
	i, j := 0, 0
	for j < len(s) {
		if i < len(p) {
			pc, pw := utf8.DecodeRuneInString(p[i:])
			sc, sw := utf8.DecodeRuneInString(s[j:])
			switch {
			case pc == '*':
				starP, starS = i+1, j
				i++
				continue
			case pc == '?':
				i, j = i+pw, j+sw
				continue
			case pc == '\\' && i+1 < len(p):
				lc, lw := utf8.DecodeRuneInString(p[i+1:])
				if sameFold(lc, sc) {
					i, j = i+1+lw, j+sw
					continue
				}
			default:
				if sameFold(pc, sc) {
					i, j = i+pw, j+sw
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last * take one more character and retry.
		_, sw := utf8.DecodeRuneInString(s[starS:])
		starS += sw
		i, j = starP, starS
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}

func sameFold(a, b rune) bool {
	return a == b || strings.EqualFold(string(a), string(b))
}

// validGlob reports whether p is a usable pattern: it must not end in a
// lone backslash.
func validGlob(p string) bool {
	esc := false
	for _, r := range p {
		esc = !esc && r == '\\'
	}
	return !esc
}
