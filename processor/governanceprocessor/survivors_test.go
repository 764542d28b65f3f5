package governanceprocessor

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"strconv"
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

// A dimension's max_length from the config is the one applied (not the
// default of 128), on both sides of it.
func TestConfiguredMaxLength(t *testing.T) {
	cfg := openConfig()
	team := cfg.Dimensions[DimTeam]
	team.MaxLength = 8
	cfg.Dimensions[DimTeam] = team
	g := newTestGovernance(t, cfg, nil)
	for value, taken := range map[string]bool{"abcdefgh": true, "abcdefghi": false} {
		got := attrsOf(t, g, inbound("llm-5d-abc", "10.0.0.2", "", map[string]string{"x-genops-team": value}))
		if (got["genops.team"] == value) != taken {
			t.Errorf("team header %q at max_length 8: genops.team = %v", value, got["genops.team"])
		}
	}
}

// The bounds of the limits in the config, on both sides.
func TestConfigBounds(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { d := c.Dimensions[DimTeam]; d.MaxLength = 1; c.Dimensions[DimTeam] = d }, ""},
		{func(c *Config) { d := c.Dimensions[DimTeam]; d.MaxLength = 4096; c.Dimensions[DimTeam] = d }, ""},
		{func(c *Config) { d := c.Dimensions[DimTeam]; d.MaxLength = 0; c.Dimensions[DimTeam] = d }, "dimensions.team.max_length: 0 is outside 1 to 4096"},
		{func(c *Config) { d := c.Dimensions[DimTeam]; d.MaxLength = 4097; c.Dimensions[DimTeam] = d }, "dimensions.team.max_length: 4097 is outside 1 to 4096"},
		{func(c *Config) { c.Limits.MaxTokensPerRequest = 1 }, ""},
		{func(c *Config) { c.Limits.MaxTokensPerRequest = 0 }, "limits.max_tokens_per_request: must be at least 1, got 0"},
		{func(c *Config) { c.Limits.MaxCostPerRequest = 1e9 }, ""},
		{func(c *Config) { c.Limits.MaxCostPerRequest = 0 }, "limits.max_cost_per_request: must be a number above 0"},
		{func(c *Config) { c.Kubernetes.DeleteGracePeriod = 0 }, ""},
	} {
		cfg := createDefaultConfig().(*Config)
		tc.edit(cfg)
		err := cfg.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
}

// Maps nest too: a map nested past the bound is removed like a slice.
func TestDeepMapIsRemoved(t *testing.T) {
	v := pcommon.NewValueEmpty()
	m := v.SetEmptyMap()
	for range maxValueDepth + 2 {
		m = m.PutEmptyMap("next")
	}
	m.PutStr("bottom", "x")
	if !deepValue(v) {
		t.Error("a map nested past maxValueDepth is not deep")
	}
	shallow := pcommon.NewValueEmpty()
	shallow.SetEmptyMap().PutEmptyMap("one").PutStr("two", "x")
	if deepValue(shallow) {
		t.Error("a map two levels deep is deep")
	}
}

// deepValue's bounds are exact: maxValueDepth levels and maxValueNodes
// values are allowed, one more is not, for slices and maps alike.
func TestDeepValueBounds(t *testing.T) {
	chain := func(levels int) pcommon.Value {
		v := pcommon.NewValueEmpty()
		s := v.SetEmptySlice()
		for range levels - 1 {
			s = s.AppendEmpty().SetEmptySlice()
		}
		s.AppendEmpty().SetStr("bottom")
		return v
	}
	if deepValue(chain(maxValueDepth - 1)) {
		t.Errorf("%d nested slices (the bottom value at depth %d) are deep", maxValueDepth-1, maxValueDepth)
	}
	if !deepValue(chain(maxValueDepth)) {
		t.Errorf("%d nested slices are not deep", maxValueDepth)
	}
	flat := func(n int, asMap bool) pcommon.Value {
		v := pcommon.NewValueEmpty()
		if asMap {
			m := v.SetEmptyMap()
			for i := range n {
				m.PutInt(strconv.Itoa(i), int64(i))
			}
			return v
		}
		s := v.SetEmptySlice()
		for i := range n {
			s.AppendEmpty().SetInt(int64(i))
		}
		return v
	}
	for _, asMap := range []bool{false, true} {
		if deepValue(flat(maxValueNodes-1, asMap)) {
			t.Errorf("map=%v: %d values (with the container, %d nodes) are too many", asMap, maxValueNodes-1, maxValueNodes)
		}
		if !deepValue(flat(maxValueNodes, asMap)) {
			t.Errorf("map=%v: %d values are not too many", asMap, maxValueNodes)
		}
	}
}
