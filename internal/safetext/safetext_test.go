package safetext

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestStrip(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		changed  bool
	}{
		{"ml-platform", "ml-platform", false},
		{"é\u202e漢", "é\u202e漢", false}, // valid, printable or format characters stay
		{"\uFFFD", "\uFFFD", false},     // an encoded replacement character is valid UTF-8
		{"n\x00ul\x1b[31m", "nul[31m", true},
		{"a\x7fb\u0085c", "abc", true}, // DEL and a C1 control
		{"\xff\xfe x \x80", " x ", true},
		{"\x00\x01", "", true},
		{"", "", false},
	} {
		got, changed := Strip(tc.in)
		if got != tc.want || changed != tc.changed {
			t.Errorf("Strip(%q) = %q, %v; want %q, %v", tc.in, got, changed, tc.want, tc.changed)
		}
	}
}

func TestStripAllocatesOnlyWhenItRemoves(t *testing.T) {
	for _, v := range []string{"ml-platform", "é漢字"} {
		if n := testing.AllocsPerRun(100, func() { _, _ = Strip(v) }); n != 0 {
			t.Errorf("Strip(%q): %v allocations", v, n)
		}
	}
}

func FuzzStrip(f *testing.F) {
	for _, s := range []string{"ml-platform", "\x00\x01", "\xff", "é", " a\tb\n", "\u0085"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		out, changed := Strip(v)
		if !utf8.ValidString(out) || changed != (out != v) || len(out) > len(v) {
			t.Fatalf("Strip(%q) = %q, %v", v, out, changed)
		}
		for _, r := range out {
			if unicode.IsControl(r) {
				t.Fatalf("control character in %q", out)
			}
		}
	})
}
