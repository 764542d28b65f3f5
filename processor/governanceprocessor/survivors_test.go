package governanceprocessor

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/genops-mesh/otelcol-genops/internal/k8smeta"
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

// A pod that no controller owns is its own workload: no k8s.<kind>.name
// key is written for it.
func TestBarePodHasNoWorkloadKey(t *testing.T) {
	g := newTestGovernance(t, kubeConfig(), nil)
	for k := range attrsOf(t, g, inbound("llm-5d-abc", "10.0.0.66", "", nil)) { // curl-0 calls: no owner
		if strings.HasPrefix(k, "source.k8s.") && strings.HasSuffix(k, ".name") && k != "source.k8s.pod.name" && k != "source.k8s.namespace.name" {
			t.Errorf("a bare pod has workload key %s", k)
		}
	}
}

// Counts and amounts are taken from zero up to their limit inclusive, in
// every notation; below zero or past the limit they are refused with the
// reason.
func TestCountAndAmountBounds(t *testing.T) {
	const maxTokens, maxCost = 1000, 50.0
	for _, tc := range []struct {
		v      pcommon.Value
		want   int64
		reason int
	}{
		{pcommon.NewValueInt(0), 0, 0}, {pcommon.NewValueInt(maxTokens), maxTokens, 0},
		{pcommon.NewValueInt(-1), 0, rejectNegative}, {pcommon.NewValueInt(maxTokens + 1), 0, rejectOverLimit},
		{pcommon.NewValueDouble(0), 0, 0}, {pcommon.NewValueDouble(maxTokens), maxTokens, 0},
		{pcommon.NewValueDouble(-1), 0, rejectNegative}, {pcommon.NewValueDouble(maxTokens + 1), 0, rejectOverLimit},
		{pcommon.NewValueStr("0"), 0, 0}, {pcommon.NewValueStr("1000"), maxTokens, 0},
	} {
		n, reason, ok := tokenCount(tc.v, maxTokens)
		if n != tc.want || reason != tc.reason || ok != (tc.reason == 0) {
			t.Errorf("tokens %v: %d, reason %d, ok %v; want %d, reason %d", tc.v.AsRaw(), n, reason, ok, tc.want, tc.reason)
		}
	}
	for _, tc := range []struct {
		v      pcommon.Value
		want   float64
		reason int
	}{
		{pcommon.NewValueDouble(0), 0, 0}, {pcommon.NewValueDouble(maxCost), maxCost, 0},
		{pcommon.NewValueDouble(-0.01), 0, rejectNegative}, {pcommon.NewValueDouble(maxCost + 0.01), 0, rejectOverLimit},
		{pcommon.NewValueInt(0), 0, 0}, {pcommon.NewValueStr("50"), maxCost, 0},
	} {
		f, reason, ok := costAmount(tc.v, maxCost)
		if f != tc.want || reason != tc.reason || ok != (tc.reason == 0) {
			t.Errorf("cost %v: %v, reason %d, ok %v; want %v, reason %d", tc.v.AsRaw(), f, reason, ok, tc.want, tc.reason)
		}
	}
}

// ai_workloads: "*" trusts everyone, "namespace/*" every workload of the
// namespace, "namespace/workload" that workload (by owner or app) and no
// other in its namespace.
func TestAIWorkloadShapes(t *testing.T) {
	side := func(ns, workload, app string) *side {
		return &side{found: true, app: app, kind: -1, pod: k8smeta.Pod{Namespace: ns, WorkloadName: workload}}
	}
	llm, other, elsewhere := side("ai", "llm", "llm"), side("ai", "batch", "batch"), side("shop", "llm", "llm")
	for _, tc := range []struct {
		list                  []string
		llm, other, elsewhere bool
	}{
		{[]string{"*"}, true, true, true},
		{[]string{"ai/*"}, true, true, false},
		{[]string{"ai/llm"}, true, false, false},
		{nil, false, false, false},
	} {
		a := newAIWorkloads(tc.list)
		if a.trusts(llm) != tc.llm || a.trusts(other) != tc.other || a.trusts(elsewhere) != tc.elsewhere {
			t.Errorf("%v: ai/llm %v, ai/batch %v, shop/llm %v; want %v %v %v", tc.list,
				a.trusts(llm), a.trusts(other), a.trusts(elsewhere), tc.llm, tc.other, tc.elsewhere)
		}
	}
}

// A side owns exactly its own identity values, key by key; an unknown
// side owns none.
func TestSideOwnsItsIdentity(t *testing.T) {
	s := &side{found: true, app: "llm", version: "v2", kind: 0, pod: k8smeta.Pod{
		Namespace: "ai", Name: "llm-5d-abc", UID: "uid-1", IP: "10.0.0.7", WorkloadName: "llm"}}
	for key, own := range map[string]string{
		"k8s.namespace.name": "ai", "k8s.pod.name": "llm-5d-abc", "k8s.pod.uid": "uid-1", "k8s.pod.ip": "10.0.0.7",
		"app": "llm", "version": "v2", "istio.workload.name": "llm", "k8s.deployment.name": "llm",
	} {
		if !s.owns(key, own) {
			t.Errorf("%s=%s is the side's own, not owned", key, own)
		}
		if s.owns(key, "someone-else") {
			t.Errorf("%s=someone-else owned", key)
		}
	}
	if unknownSide.owns("k8s.pod.name", "") {
		t.Error("an unknown side owns an empty pod name")
	}
}

// The address of a connection that has no port (a unix socket) is taken
// whole.
func TestHostOfAddressWithoutPort(t *testing.T) {
	if got := hostOf(&net.UnixAddr{Name: "/run/otel.sock", Net: "unix"}); got != "/run/otel.sock" {
		t.Errorf("unix socket: %q", got)
	}
	if got := hostOf(&net.IPAddr{IP: net.ParseIP("10.0.0.7")}); got != "10.0.0.7" {
		t.Errorf("ip address: %q", got)
	}
}

// A kubeconfig that does not exist fails the client with its path.
func TestKubeconfigMissing(t *testing.T) {
	cfg := kubeConfig()
	cfg.Kubernetes.Kubeconfig = filepath.Join(t.TempDir(), "missing")
	if _, err := kubernetesClient(cfg); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("client from a missing kubeconfig: %v", err)
	}
}

// The cluster label: none without cluster configured; the collector's
// on a record that names none; a local record's own kept (a sidecar on
// this node says its cluster); over the network always the collector's
// (TestForgedSpanFromAPod).
func TestClusterLabel(t *testing.T) {
	g := newTestGovernance(t, kubeConfig(), nil)
	if got := attrsOf(t, g, inbound("llm-5d-abc", "10.0.0.66", "", nil)); got["k8s.cluster.name"] != nil {
		t.Errorf("no cluster configured, record has %v", got["k8s.cluster.name"])
	}
	cfg := kubeConfig()
	cfg.Cluster = "east"
	g = newTestGovernance(t, cfg, nil)
	if got := attrsOf(t, g, inbound("llm-5d-abc", "10.0.0.66", "", nil)); got["k8s.cluster.name"] != "east" {
		t.Errorf("a record without a cluster has %v, want the collector's", got["k8s.cluster.name"])
	}
	// A cluster a line of the node's log files states is a claim: with
	// the informer, the collector's own replaces it; without one, it is
	// kept (a record without a cluster gets the collector's).
	ld := inbound("llm-5d-abc", "10.0.0.66", "", nil)
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutStr("k8s.cluster.name", "west")
	if got := attrsOf(t, g, ld); got["k8s.cluster.name"] != "east" {
		t.Errorf("a local record's claimed cluster is %v, want the collector's", got["k8s.cluster.name"])
	}
	off := createDefaultConfig().(*Config)
	off.Cluster = "east"
	g = newTestGovernance(t, off, nil)
	ld = inbound("llm-5d-abc", "10.0.0.66", "", nil)
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutStr("k8s.cluster.name", "west")
	if got := attrsOf(t, g, ld); got["k8s.cluster.name"] != "west" {
		t.Errorf("without Kubernetes a record's own cluster became %v", got["k8s.cluster.name"])
	}
}
