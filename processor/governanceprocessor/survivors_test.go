package governanceprocessor

import (
	"strings"
	"testing"
)

// The length limit is exact: a value of max_length bytes is kept, one
// byte more is refused (a cut value would be another team's).
func TestSanitizeExactLimit(t *testing.T) {
	if v, ok := Sanitize(strings.Repeat("a", 128), 128); !ok || len(v) != 128 {
		t.Errorf("128 bytes at a limit of 128: %d %v", len(v), ok)
	}
	if _, ok := Sanitize(strings.Repeat("a", 129), 128); ok {
		t.Error("129 bytes at a limit of 128 kept")
	}
	// Surrounding space does not count, and is not kept.
	if v, ok := Sanitize(" "+strings.Repeat("a", 128)+" ", 128); !ok || v != strings.Repeat("a", 128) {
		t.Errorf("trimmed: %q %v", v, ok)
	}
	d := newDimension(dimension{maxLen: 4})
	if v, ok := d.accept("abcd"); !ok || v != "abcd" {
		t.Errorf("a dimension value of exactly max_length: %q %v", v, ok)
	}
	if _, ok := d.accept("abcde"); ok {
		t.Error("a dimension value past max_length kept")
	}
}
