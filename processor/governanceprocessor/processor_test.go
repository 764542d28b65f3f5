package governanceprocessor

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/genops-mesh/otelcol-genops/processor/governanceprocessor/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/processor/governanceprocessor/internal/metadatatest"
)

func ptr[T any](v T) *T { return &v }

// cluster: the llm pod (team label ml-platform) in namespace ai (cost
// centre label), a caller pod in api-gateway and one in sandbox, each
// with an Istio sidecar; and rogue-0 in sandbox, which runs none (a
// container it names istio-proxy does not make it a sidecar).
func clusterObjects() []runtime.Object {
	pod := func(ns, name, ip string, labels map[string]string, owner string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), Labels: labels,
			Annotations: map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip}}
		if name == "rogue-0" {
			p.Annotations = nil
		}
		if owner != "" {
			p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: owner, Controller: ptr(true)}}
		}
		return p
	}
	return []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ai", Labels: map[string]string{"genops.ai/cost-center": "cc-ai", "istio-injection": "enabled"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "api-gateway", Labels: map[string]string{"istio-injection": "enabled"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "sandbox", Labels: map[string]string{"genops.ai/team": "sandbox-team", "istio-injection": "enabled"}}},
		// No injection: a pod here that says it has a sidecar said it itself.
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "byo"}},
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ai", Name: "llm-5d", OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "llm", Controller: ptr(true)}}}},
		pod("ai", "llm-5d-abc", "10.0.0.7", map[string]string{"app": "llm", "version": "v2", "genops.ai/team": "ml-platform", "genops.ai/project": "support-bot", "pod-template-hash": "5d"}, "llm-5d"),
		pod("api-gateway", "gateway-0", "10.0.0.2", map[string]string{"app": "gateway"}, ""),
		pod("sandbox", "curl-0", "10.0.0.66", map[string]string{"app": "curl"}, ""),
		pod("sandbox", "nolabels-0", "10.0.0.67", nil, ""),
		pod("sandbox", "rogue-0", "10.0.0.68", map[string]string{"app": "rogue"}, ""),
		pod("byo", "selfmade-0", "10.0.0.69", map[string]string{"app": "selfmade"}, ""),
	}
}

func newTestGovernance(t testing.TB, cfg *Config, tt *componenttest.Telemetry) *governance {
	t.Helper()
	return newTestGovernanceWith(t, cfg, tt)
}

// newTestGovernanceWith runs the processor on clusterObjects and more.
func newTestGovernanceWith(t testing.TB, cfg *Config, tt *componenttest.Telemetry, more ...runtime.Object) *governance {
	t.Helper()
	set := processortest.NewNopSettings(metadata.Type)
	if tt != nil {
		set = metadatatest.NewSettings(tt)
	}
	return startGovernance(t, set, cfg, fake.NewClientset(append(clusterObjects(), more...)...))
}

// startGovernance starts a governance processor on client, a fake cluster
// the test may keep changing.
func startGovernance(t testing.TB, set processor.Settings, cfg *Config, client *fake.Clientset) *governance {
	t.Helper()
	g, err := newGovernance(set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.newClient, g.clientID = func(*Config) (kubernetes.Interface, error) { return client, nil }, fmt.Sprintf("%p", client)
	if err := g.start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.shutdown(context.Background()) })
	return g
}

// inbound is an access log record written by the llm pod's sidecar for a
// request from the caller at peerIP.
func inbound(resourcePod, peerIP, principal string, headers map[string]string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("k8s.namespace.name", "ai")
	rl.Resource().Attributes().PutStr("k8s.pod.name", resourcePod)
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	a := lr.Attributes()
	a.PutStr("envoy.direction", "inbound")
	a.PutStr("network.peer.address", peerIP)
	if principal != "" {
		a.PutStr("envoy.downstream_peer_uri_san", principal)
	}
	for k, v := range headers {
		a.PutStr("http.request.header."+k, v)
	}
	return ld
}

func attrsOf(t *testing.T, g *governance, ld plog.Logs) map[string]any {
	t.Helper()
	return attrsFrom(t, g, context.Background(), ld)
}

// attrsFrom processes ld as received in ctx (from a connection, say).
func attrsFrom(t *testing.T, g *governance, ctx context.Context, ld plog.Logs) map[string]any {
	t.Helper()
	out, err := g.processLogs(ctx, ld)
	if err != nil {
		t.Fatal(err)
	}
	rl := out.ResourceLogs().At(0)
	return readerView(rl.Resource().Attributes(), rl.ScopeLogs().At(0).LogRecords().At(0).Attributes())
}

// readerView is a record's attributes as the sli connector, the cost
// ledger and the exporters read them: its resource's, the record's
// winning. What every record of a resource shares (its workload, the
// attribution its pod's labels decide) is on the resource; what differs
// is on the record.
func readerView(res, rec pcommon.Map) map[string]any {
	got := res.AsRaw()
	maps.Copy(got, rec.AsRaw())
	return got
}

func kubeConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Kubernetes.Mode = KubernetesCluster
	return cfg
}

// openConfig trusts every claim, as the embedded default config does on a
// laptop (no cluster, no one else's traffic).
func openConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	for name, d := range cfg.Dimensions {
		d.Trust = TrustAlways
		cfg.Dimensions[name] = d
	}
	cfg.AIWorkloads = []string{"*"}
	return cfg
}

// Each trust rule, with a header that claims a customer (a dimension no
// label carries): the claim counts only when its rule and the caller
// allow it and it is valid; every claim not kept is counted with the
// source that won and why.
func TestTrustRules(t *testing.T) {
	const gateway = "spiffe://cluster.local/ns/api-gateway/sa/gateway"
	for _, tc := range []struct {
		name      string
		trust     string
		peerIP    string
		principal string
		header    string
		want      string
		reason    string // of the conflict counted; "" for none
	}{
		{"always, valid header wins", TrustAlways, "10.0.0.66", "", "acme", "acme", ""},
		{"always, invalid header loses", TrustAlways, "10.0.0.66", "", "acme inc!", "unknown", "invalid"},
		{"never trusts the header", TrustNever, "10.0.0.2", gateway, "acme", "unknown", "untrusted"},
		{"trusted principal", TrustWhenSourceMatches, "10.0.0.66", gateway, "acme", "acme", ""},
		{"trusted principal by prefix", TrustWhenSourceMatches, "10.0.0.66", "spiffe://cluster.local/ns/edge/sa/gw", "acme", "acme", ""},
		{"an exact principal is no prefix", TrustWhenSourceMatches, "10.0.0.66", "spiffe://cluster.local/ns/partner/sa/gw-evil", "acme", "unknown", "untrusted"},
		{"untrusted principal is spoofing", TrustWhenSourceMatches, "10.0.0.66", "spiffe://cluster.local/ns/sandbox/sa/default", "acme", "unknown", "untrusted"},
		{"trusted namespace by the caller's pod", TrustWhenSourceMatches, "10.0.0.2", "", "acme", "acme", ""},
		{"no principal, unknown caller", TrustWhenSourceMatches, "10.9.9.9", "", "acme", "unknown", "untrusted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := kubeConfig()
			d := cfg.Dimensions[DimCustomerID]
			d.Trust = tc.trust
			cfg.Dimensions[DimCustomerID] = d
			cfg.TrustedSources = TrustedSources{
				Principals: []string{"spiffe://cluster.local/ns/edge/*", "spiffe://cluster.local/ns/partner/sa/gw"},
				Namespaces: []string{"api-gateway"},
			}
			tt := componenttest.NewTelemetry()
			t.Cleanup(func() { _ = tt.Shutdown(context.Background()) })
			g := newTestGovernance(t, cfg, tt)
			got := attrsOf(t, g, inbound("llm-5d-abc", tc.peerIP, tc.principal, map[string]string{"x-genops-customer-id": tc.header}))
			if got["genops.customer_id"] != tc.want {
				t.Fatalf("customer %v, want %s", got["genops.customer_id"], tc.want)
			}
			var want []metricdata.DataPoint[int64]
			if tc.reason != "" {
				want = append(want, conflictPoint("customer_id", "default", tc.reason, 1))
			}
			assertConflicts(t, tt, want)
		})
	}
}

// Platform labels beat claims: a trusted, valid header that names another
// team than the pod's label loses to the label and is counted.
func TestLabelsBeatClaims(t *testing.T) {
	cfg := kubeConfig()
	cfg.TrustedSources.Namespaces = []string{"api-gateway"}
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tt.Shutdown(context.Background()) })
	g := newTestGovernance(t, cfg, tt)
	got := attrsOf(t, g, inbound("llm-5d-abc", "10.0.0.2", "", map[string]string{"x-genops-team": "billing", "x-genops-project": "support-bot"}))
	if got["genops.team"] != "ml-platform" || got["genops.attribution.source"] != "pod_label" || got["genops.project"] != "support-bot" {
		t.Fatalf("team %v from %v, project %v", got["genops.team"], got["genops.attribution.source"], got["genops.project"])
	}
	// The project header repeats the label: no conflict.
	assertConflicts(t, tt, []metricdata.DataPoint[int64]{conflictPoint("team", "pod_label", "overridden", 1)})
}

func conflictPoint(dimension, winner, reason string, n int64) metricdata.DataPoint[int64] {
	return metricdata.DataPoint[int64]{Value: n, Attributes: attribute.NewSet(
		attribute.String("dimension", dimension), attribute.String("winner", winner), attribute.String("reason", reason))}
}

func assertConflicts(t *testing.T, tt *componenttest.Telemetry, want []metricdata.DataPoint[int64]) {
	t.Helper()
	if len(want) == 0 {
		if m, err := tt.GetMetric("genops.attribution.conflicts"); err == nil {
			t.Fatalf("conflicts counted: %+v", m.Data)
		}
		return
	}
	metadatatest.AssertEqualAttributionConflicts(t, tt, want, metricdatatest.IgnoreTimestamp())
}

// The other sources in order: pod label, namespace label, default; and the
// workloads of both ends of the call.
func TestSourcesAndWorkloads(t *testing.T) {
	g := newTestGovernance(t, kubeConfig(), nil)
	got := attrsOf(t, g, inbound("llm-5d-abc", "10.0.0.2", "", nil))
	for k, v := range map[string]any{
		"genops.team": "ml-platform", "genops.project": "support-bot", "genops.cost_center": "cc-ai",
		"genops.customer_id": "unknown", "genops.environment": "unknown", "genops.attribution.source": "pod_label",
		"k8s.namespace.name": "ai", "app": "llm", "version": "v2", "k8s.deployment.name": "llm", "k8s.pod.name": "llm-5d-abc",
		"source.k8s.namespace.name": "api-gateway", "source.app": "gateway", "source.k8s.pod.name": "gateway-0",
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	// An outbound record: the destination is the peer.
	ld := inbound("gateway-0", "10.0.0.7", "", nil)
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr("k8s.namespace.name", "api-gateway")
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutStr("envoy.direction", "outbound")
	got = attrsOf(t, g, ld)
	if got["genops.team"] != "ml-platform" || got["app"] != "llm" || got["source.app"] != "gateway" {
		t.Errorf("outbound: %v", got)
	}
	// A pod without labels in a labelled namespace.
	ld = inbound("nolabels-0", "10.0.0.2", "", nil)
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr("k8s.namespace.name", "sandbox")
	got = attrsOf(t, g, ld)
	if got["genops.team"] != "sandbox-team" || got["genops.attribution.source"] != "namespace_label" {
		t.Errorf("namespace label: %v", got)
	}
}

// Without Kubernetes (the embedded default): headers and span tags alone,
// and the pod labels Istio sends with ALS (k8s.pod.label.* on the resource).
func TestWithoutKubernetes(t *testing.T) {
	g := newTestGovernance(t, openConfig(), nil)
	got := attrsOf(t, g, inbound("x", "10.0.0.2", "", map[string]string{"x-genops-team": "search", "x-genops-customer-id": "cust_42", "x-genops-environment": "production"}))
	if got["genops.team"] != "search" || got["genops.customer_id"] != "cust_42" || got["genops.environment"] != "production" || got["genops.project"] != "unknown" {
		t.Errorf("headers: %v", got)
	}
	ld := inbound("x", "10.0.0.2", "", nil)
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr("k8s.pod.label.genops.ai/team", "from-als")
	if got := attrsOf(t, g, ld); got["genops.team"] != "from-als" || got["genops.attribution.source"] != "pod_label" {
		t.Errorf("ALS labels: %v", got)
	}

	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetKind(ptrace.SpanKindServer)
	span.Attributes().PutStr("genops.team", "sdk-team")
	span.Attributes().PutStr("genops.customer_id", "bad id with spaces")
	out, err := g.processTraces(context.Background(), td)
	if err != nil {
		t.Fatal(err)
	}
	sa := out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw()
	if sa["genops.team"] != "sdk-team" || sa["genops.attribution.source"] != "span_tag" || sa["genops.customer_id"] != "unknown" {
		t.Errorf("span: %v", sa)
	}
}

// Hostile header values never fail a record: a value with control
// characters, binary or oversized is rejected for the next source (not
// cleaned: "ml-platform\x00" cleaned would be the real team's name, which
// the third outside attempt used to bill another team), and counted.
func TestHostileValues(t *testing.T) {
	tt := newTelemetry(t)
	g := newTestGovernance(t, openConfig(), tt)
	for _, tc := range []struct{ header, want string }{
		{"ml-platform\x00\x1b[31m", "unknown"},
		{"ml-platform\x00", "unknown"},
		{"ml-platform\u0085", "unknown"},
		{"\xff\xfe\xfd", "unknown"},
		{strings.Repeat("a", 10_000), "unknown"},
		{"  search  ", "search"},
		{"-", "unknown"},
	} {
		got := attrsOf(t, g, inbound("x", "10.0.0.2", "", map[string]string{"x-genops-team": tc.header}))
		team, _ := got["genops.team"].(string)
		if team != tc.want || !utf8.ValidString(team) {
			t.Errorf("header %q: team %q, want %q", tc.header, team, tc.want)
		}
	}
}

func TestHashedCustomer(t *testing.T) {
	cfg := openConfig()
	d := cfg.Dimensions[DimCustomerID]
	d.Hash = true
	cfg.Dimensions[DimCustomerID] = d
	cfg.HashKey = "k"
	g := newTestGovernance(t, cfg, nil)
	a := attrsOf(t, g, inbound("x", "", "", map[string]string{"x-genops-customer-id": "alice"}))
	b := attrsOf(t, g, inbound("x", "", "", map[string]string{"x-genops-customer-id": "alice"}))
	if a["genops.customer_id"] == "alice" || a["genops.customer_id"] != b["genops.customer_id"] || len(a["genops.customer_id"].(string)) != 32 {
		t.Errorf("hashed ids %v %v", a["genops.customer_id"], b["genops.customer_id"])
	}
}

func TestPricing(t *testing.T) {
	cfg := openConfig()
	cfg.PricingFile = filepath.Join("..", "..", "config", "pricing.yaml")
	g := newTestGovernance(t, cfg, nil)

	ld := inbound("x", "", "", nil)
	a := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	a.PutStr("http.response.header.x-genops-model", "gpt-4o-mini")
	a.PutStr("http.response.header.x-genops-tokens-input", "2000")
	a.PutStr("http.response.header.x-genops-tokens-output", "1000")
	got := attrsOf(t, g, ld)
	if c, _ := got["genops.cost.total"].(float64); c < 0.0008999 || c > 0.0009001 || got["genops.cost.currency"] != "USD" ||
		got["gen_ai.provider.name"] != "openai" || got["gen_ai.usage.input_tokens"] != int64(2000) || got["gen_ai.response.model"] != "gpt-4o-mini" {
		t.Errorf("priced from headers: %v", got)
	}

	ld = inbound("x", "", "", nil)
	a = ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	a.PutStr("http.response.header.x-genops-cost", "0.42")
	a.PutInt("gen_ai.usage.input_tokens", 1_000_000)
	if got := attrsOf(t, g, ld); got["genops.cost.total"] != 0.42 {
		t.Errorf("cost header: %v", got)
	}

	ld = inbound("x", "", "", nil)
	a = ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	a.PutStr("gen_ai.request.model", "claude-sonnet-4")
	a.PutInt("gen_ai.usage.input_tokens", 1_000_000)
	a.PutInt("gen_ai.usage.output_tokens", 100_000)
	if got := attrsOf(t, g, ld); got["genops.cost.total"] != 4.5 || got["gen_ai.provider.name"] != "anthropic" {
		t.Errorf("tokens from the SDK: %v", got)
	}

	if got := attrsOf(t, g, inbound("x", "", "", nil)); got["genops.cost.total"] != nil {
		t.Errorf("a call without tokens was priced: %v", got)
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"ml-platform", "\x00\x01", "\xff", "é", strings.Repeat("x", 200), " a\tb\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		out, ok := Sanitize(v, 128)
		if !ok {
			return
		}
		if !utf8.ValidString(out) || len(out) > 128 || out == "" {
			t.Fatalf("Sanitize(%q) = %q", v, out)
		}
		for _, r := range out {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) {
				t.Fatalf("control character in %q", out)
			}
		}
	})
}

// Records from Envoy's OpenTelemetry access logger (the line as body) are
// structured with the receiver's parser, then attributed like any other.
func TestStructuresOTelAccessLogRecords(t *testing.T) {
	cfg := openConfig()
	cfg.AccessLogFormat = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %DURATION% %UPSTREAM_CLUSTER% "%REQ(X-GENOPS-TEAM)%"`
	tt := newTelemetry(t)
	g := newTestGovernance(t, cfg, tt)
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	lrs.AppendEmpty().Body().SetStr(`[2026-11-20T10:00:00.000Z] "POST /v1/chat HTTP/2" 503 UF 12 inbound|8080|| "search"`)
	lrs.AppendEmpty().Body().SetStr(`not an access log line`)
	out, err := g.processLogs(context.Background(), ld)
	if err != nil {
		t.Fatal(err)
	}
	rl := out.ResourceLogs().At(0)
	got := rl.ScopeLogs().At(0).LogRecords()
	a := readerView(rl.Resource().Attributes(), got.At(0).Attributes())
	if a["http.response.status_code"] != int64(503) || a["envoy.response_flags"] != "UF" || a["envoy.direction"] != "inbound" ||
		a["genops.team"] != "search" || a["genops.attribution.source"] != "header" {
		t.Errorf("structured: %v", a)
	}
	b := readerView(rl.Resource().Attributes(), got.At(1).Attributes())
	if b["envoy.parse_error"] == nil || b["genops.team"] != "unknown" {
		t.Errorf("unparsed line: %v", b)
	}
	// Counted: an unparsed line is a request no metric or ledger row
	// holds (second outside attempt: it went unbilled without a trace).
	if n := rejected(t, tt, "access_log", "unparsed"); n != 1 {
		t.Errorf("unparsed lines counted %d, want 1", n)
	}
}
