// Package safetext makes text from untrusted input — request headers,
// span tags, label values — safe to keep: no invalid UTF-8 and no control
// characters, which would corrupt a label in Prometheus or a terminal
// that shows it. The governance processor (before validating a value)
// and the sli connector (before a label value makes a series) share it,
// so that both strip exactly the same bytes.
//
// Why by hand: strings.ToValidUTF8 replaces invalid bytes instead of
// removing them and keeps control characters, and strings.Map allocates
// for every value; this allocates only when it removes something, and
// scans ASCII a byte at a time.
package safetext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Strip returns v without invalid UTF-8 and control characters, and
// whether it removed anything. It allocates only then.
func Strip(v string) (string, bool) {
	i := firstUnsafe(v)
	if i < 0 {
		return v, false
	}
	var b strings.Builder
	b.Grow(len(v))
	b.WriteString(v[:i])
	for i < len(v) {
		r, size := utf8.DecodeRuneInString(v[i:])
		if !unsafeRune(r, size) {
			b.WriteString(v[i : i+size])
		}
		i += size
	}
	return b.String(), true
}

// firstUnsafe is the index of the first byte Strip removes, or -1.
func firstUnsafe(v string) int {
	for i := 0; i < len(v); {
		if c := v[i]; c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(v[i:])
		if unsafeRune(r, size) {
			return i
		}
		i += size
	}
	return -1
}

func unsafeRune(r rune, size int) bool {
	return (r == utf8.RuneError && size <= 1) || unicode.IsControl(r)
}
