package governanceprocessor

import (
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
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

// A container too big to be allowed is refused before its values are
// walked: refusing a hostile attribute must not cost the memory of
// walking it. The same value with a one-element container instead costs
// the same allocations, whatever sits beside it on the walk, for slices
// and maps alike.
func TestDeepValueRefusedBeforeWalked(t *testing.T) {
	build := func(asMap bool, bigLen int) pcommon.Value {
		v := pcommon.NewValueEmpty()
		s := v.SetEmptySlice()
		for i := range 10 { // walked after the last element: on the stack when it is
			s.AppendEmpty().SetInt(int64(i))
		}
		last := s.AppendEmpty()
		if asMap {
			m := last.SetEmptyMap()
			for i := range bigLen {
				m.PutInt(strconv.Itoa(i), int64(i))
			}
		} else {
			b := last.SetEmptySlice()
			for i := range bigLen {
				b.AppendEmpty().SetInt(int64(i))
			}
		}
		return v
	}
	for _, asMap := range []bool{false, true} {
		hostile, benign := build(asMap, maxValueNodes-5), build(asMap, 1)
		if !deepValue(hostile) || deepValue(benign) {
			t.Fatalf("map=%v: hostile deep %v, benign deep %v", asMap, deepValue(hostile), deepValue(benign))
		}
		h := testing.AllocsPerRun(5, func() { deepValue(hostile) })
		b := testing.AllocsPerRun(5, func() { deepValue(benign) })
		if h > b {
			t.Errorf("map=%v: refusing %d values took %.0f allocations, one value %.0f: the values were walked", asMap, maxValueNodes-5, h, b)
		}
	}
}

// Each owning workload kind is written under its own key, for the
// destination and for the caller: k8s.statefulset.name for a
// StatefulSet's pod, source.k8s.job.name for a Job's caller, and no other
// kind's key.
func TestEachWorkloadKind(t *testing.T) {
	kinds := []struct{ kind, owner, pod, ip string }{
		{"StatefulSet", "db", "db-0", "10.0.1.1"},
		{"DaemonSet", "agent", "agent-x1", "10.0.1.2"},
		{"Job", "batch-7", "batch-7-q2", "10.0.1.3"},
		{"ReplicaSet", "bare", "bare-q3", "10.0.1.4"}, // no Deployment owns it
	}
	var more []runtime.Object
	for _, k := range kinds {
		more = append(more, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ai", Name: k.pod, UID: types.UID("uid-" + k.pod), Labels: map[string]string{"app": k.owner},
				Annotations:     map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`},
				OwnerReferences: []metav1.OwnerReference{{Kind: k.kind, Name: k.owner, Controller: ptr(true)}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: k.ip},
		})
	}
	g := newTestGovernanceWith(t, kubeConfig(), nil, more...)
	kindKeys := func(attrs map[string]any, prefix string) map[string]any {
		out := map[string]any{}
		for k, v := range attrs {
			if rest, ok := strings.CutPrefix(k, prefix+"k8s."); ok && strings.HasSuffix(rest, ".name") &&
				rest != "pod.name" && rest != "namespace.name" && rest != "cluster.name" && !strings.HasPrefix(k, "source.") == (prefix == "") {
				out[k] = v
			}
		}
		return out
	}
	for _, k := range kinds {
		key := "k8s." + strings.ToLower(k.kind) + ".name"
		dest := attrsOf(t, g, inbound(k.pod, "10.0.0.66", "", nil))
		if got := kindKeys(dest, ""); len(got) != 1 || got[key] != k.owner {
			t.Errorf("%s's pod as the destination: workload keys %v, want %s=%s", k.kind, got, key, k.owner)
		}
		caller := attrsOf(t, g, inbound("llm-5d-abc", k.ip, "", nil))
		if got := kindKeys(caller, "source."); len(got) != 1 || got["source."+key] != k.owner {
			t.Errorf("%s's pod as the caller: workload keys %v, want source.%s=%s", k.kind, got, key, k.owner)
		}
	}
}
