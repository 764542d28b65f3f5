package governanceprocessor

import (
	"context"
	"fmt"
	"math"
	"net"
	"runtime/debug"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/ptracetest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// One test per attack of docs/trust.md that the processor stops: the
// attacker's claim is absent from the record and the refusal is counted.

// from is the context a receiver passes on for a request from ip.
func from(ip string) context.Context {
	return client.NewContext(context.Background(), client.Info{Addr: &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000}})
}

// forgedSpan is a SERVER span that claims to be the llm pod's (resource
// identity, service), carries the gateway's principal and governance
// tags, and states its own cost.
func forgedSpan() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	ra := rs.Resource().Attributes()
	ra.PutStr("service.name", "llm")
	ra.PutStr("k8s.namespace.name", "ai")
	ra.PutStr("k8s.pod.name", "llm-5d-abc")
	ra.PutStr("k8s.pod.uid", "uid-llm-5d-abc")
	ra.PutStr("k8s.pod.label.genops.ai/team", "ml-platform")
	span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetKind(ptrace.SpanKindServer)
	a := span.Attributes()
	a.PutStr("envoy.downstream_peer_uri_san", "spiffe://cluster.local/ns/api-gateway/sa/gateway")
	a.PutStr("net.peer.ip", "10.0.0.2")
	a.PutStr("genops.team", "billing")
	a.PutStr("genops.customer_id", "acme")
	a.PutStr("genops.cost_center", "cc-victim")
	a.PutStr("app", "llm")
	a.PutStr("k8s.cluster.name", "prod-eu")
	a.PutStr("k8s.pod.label.version", "v9")
	a.PutDouble("genops.cost.total", 1e308)
	return td
}

func processSpan(t *testing.T, g *governance, ctx context.Context, td ptrace.Traces) (res, span map[string]any) {
	t.Helper()
	out, err := g.processTraces(ctx, td)
	if err != nil {
		t.Fatal(err)
	}
	rs := out.ResourceSpans().At(0)
	return rs.Resource().Attributes().AsRaw(), rs.ScopeSpans().At(0).Spans().At(0).Attributes().AsRaw()
}

func trustingConfig() *Config {
	cfg := kubeConfig()
	cfg.TrustedSources = TrustedSources{Namespaces: []string{"api-gateway"}, Forwarders: []string{"otelcol-genops"}}
	return cfg
}

func rejected(t *testing.T, tt *componenttest.Telemetry, claim, reason string) int64 {
	t.Helper()
	n, _ := rejectedPoint(t, tt, claim, reason)
	return n
}

// rejectedSeries tells whether genops.rejected_claims has a point for the
// claim and reason at all (rejected cannot tell a zero from none).
func rejectedSeries(t *testing.T, tt *componenttest.Telemetry, claim, reason string) bool {
	t.Helper()
	_, found := rejectedPoint(t, tt, claim, reason)
	return found
}

func rejectedPoint(t *testing.T, tt *componenttest.Telemetry, claim, reason string) (int64, bool) {
	t.Helper()
	return pointFound(t, tt, "genops.rejected_claims", map[string]string{"claim": claim, "reason": reason})
}

func newTelemetry(t *testing.T) *componenttest.Telemetry {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tt.Shutdown(context.Background()) })
	return tt
}

// A pod in sandbox sends a span that claims to be the llm pod's, from the
// gateway, for another team, customer and cost centre: the span becomes
// the sandbox pod's (the connection's address says so), its tags are
// untrusted, its principal is not read, its cost is refused.
func TestForgedSpanFromAPod(t *testing.T) {
	tt := newTelemetry(t)
	cfg := trustingConfig()
	cfg.Cluster = "east"
	g := newTestGovernance(t, cfg, tt)
	res, span := processSpan(t, g, from("10.0.0.66"), forgedSpan())
	for k, want := range map[string]any{
		"k8s.namespace.name": "sandbox", "k8s.pod.name": "curl-0", "k8s.pod.uid": "uid-curl-0", "app": "curl", "service.name": "curl",
	} {
		if res[k] != want {
			t.Errorf("resource %s = %v, want %v", k, res[k], want)
		}
	}
	if _, ok := res["k8s.pod.label.genops.ai/team"]; ok {
		t.Error("claimed pod label kept")
	}
	read := with(res, span) // as a reader sees the span: its resource's, the span's winning
	for k, want := range map[string]any{
		"genops.team": "sandbox-team", "genops.customer_id": "unknown", "genops.cost_center": "unknown",
		"genops.attribution.source": "namespace_label",
	} {
		if read[k] != want {
			t.Errorf("span %s = %v, want %v", k, read[k], want)
		}
	}
	if read["k8s.cluster.name"] != "east" {
		t.Errorf("cluster %v, want the collector's", read["k8s.cluster.name"])
	}
	for _, k := range []string{"genops.cost.total", "app", "source.k8s.namespace.name", "k8s.pod.label.version"} {
		if v, ok := span[k]; ok {
			t.Errorf("span kept %s = %v", k, v)
		}
	}
	for _, c := range [][2]string{{"workload", "forged"}, {"service", "forged"}, {"cost", "over_limit"}} {
		if n := rejected(t, tt, c[0], c[1]); n < 1 {
			t.Errorf("rejected %s/%s not counted", c[0], c[1])
		}
	}
	if n := rejected(t, tt, "cost", "untrusted"); n != 0 {
		t.Errorf("cost counted twice")
	}
	assertConflicts(t, tt, []metricdata.DataPoint[int64]{
		conflictPoint("team", "namespace_label", "untrusted", 1),
		conflictPoint("customer_id", "default", "untrusted", 1),
		conflictPoint("cost_center", "default", "untrusted", 1),
	})
}

// The same span from an address no pod has (a host-network process, a
// node outside the mesh): no identity at all survives.
func TestForgedSpanFromNoPod(t *testing.T) {
	tt := newTelemetry(t)
	g := newTestGovernance(t, trustingConfig(), tt)
	res, span := processSpan(t, g, from("192.0.2.1"), forgedSpan())
	for _, k := range []string{"k8s.namespace.name", "k8s.pod.name", "k8s.pod.uid", "service.name", "k8s.pod.label.genops.ai/team"} {
		if v, ok := res[k]; ok {
			t.Errorf("resource kept %s = %v", k, v)
		}
	}
	if span["genops.team"] != "unknown" || span["genops.customer_id"] != "unknown" {
		t.Errorf("span %v", span)
	}
	if rejected(t, tt, "workload", "unverified") != 1 || rejected(t, tt, "service", "unverified") != 1 {
		t.Error("unverified identity not counted")
	}
}

// The gateway's own spans carry what it stamped: trusted for every
// dimension no label decides. A forwarding collector's records pass
// unchanged: it decided them, with the same labels and price table (a
// tiered gateway counts exactly what its agents attributed).
func TestTrustedReporters(t *testing.T) {
	g := newTestGovernance(t, trustingConfig(), nil)
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetKind(ptrace.SpanKindServer)
	span.Attributes().PutStr("genops.customer_id", "acme")
	res, sa := processSpan(t, g, from("10.0.0.2"), td)
	if sa["genops.customer_id"] != "acme" || res["k8s.namespace.name"] != "api-gateway" || res["service.name"] != "gateway" {
		t.Errorf("gateway span: %v %v", res, sa)
	}

	collector := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "otelcol-genops", Name: "agent-x", UID: "uid-agent-x"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.90"}}
	g = newTestGovernanceWith(t, trustingConfig(), nil, collector)
	want := forgedSpan()
	got, err := g.processTraces(from("10.0.0.90"), forgedSpan())
	if err != nil {
		t.Fatal(err)
	}
	if err := ptracetest.CompareTraces(want, got); err != nil {
		t.Errorf("a forwarded span changed: %v", err)
	}
}

// An access log file of a pod that runs no mesh proxy (any pod can name a
// container istio-proxy) is no access log: its records are dropped and
// counted, whatever they claim.
func TestOnlyRealSidecars(t *testing.T) {
	tt := newTelemetry(t)
	cfg := trustingConfig()
	g := newTestGovernance(t, cfg, tt)
	ld := inbound("rogue-0", "10.0.0.2", "spiffe://cluster.local/ns/api-gateway/sa/gateway", map[string]string{"x-genops-customer-id": "acme"})
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr("k8s.namespace.name", "sandbox")
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr("k8s.container.name", "istio-proxy")
	out, err := g.processLogs(context.Background(), ld)
	if err != nil {
		t.Fatal(err)
	}
	if out.LogRecordCount() != 0 {
		t.Errorf("%d records of a pod without a proxy kept", out.LogRecordCount())
	}
	if rejected(t, tt, "proxy", "forged") != 1 {
		t.Error("not counted")
	}
	// A pod that writes the sidecar annotation itself, in a namespace
	// whose injection the platform did not enable: no proxy either.
	ld = inbound("selfmade-0", "10.0.0.2", "spiffe://cluster.local/ns/api-gateway/sa/gateway", map[string]string{"x-genops-customer-id": "acme"})
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr("k8s.namespace.name", "byo")
	if out, err := g.processLogs(context.Background(), ld); err != nil || out.LogRecordCount() != 0 || rejected(t, tt, "proxy", "forged") != 2 {
		t.Errorf("self-declared sidecar: %d records kept, %v", out.LogRecordCount(), err)
	}
	// A real sidecar's file, same claim: kept and trusted.
	got := attrsOf(t, g, inbound("llm-5d-abc", "10.0.0.66", "spiffe://cluster.local/ns/api-gateway/sa/gateway", map[string]string{"x-genops-customer-id": "acme"}))
	if got["genops.customer_id"] != "acme" {
		t.Errorf("sidecar record: %v", got)
	}
}

// A principal or a caller's address written into an OTLP log record by a
// pod that runs no mesh proxy is not read: only a proxy writes what the
// mesh verified.
func TestPrincipalOnlyFromProxies(t *testing.T) {
	g := newTestGovernance(t, trustingConfig(), nil)
	claim := func() plog.Logs {
		return inbound("llm-5d-abc", "10.0.0.66", "spiffe://cluster.local/ns/api-gateway/sa/gateway", map[string]string{"x-genops-customer-id": "acme"})
	}
	if got := attrsFrom(t, g, from("10.0.0.68"), claim()); got["genops.customer_id"] != "unknown" || got["k8s.pod.name"] != "rogue-0" {
		t.Errorf("rogue pod's record: %v", got)
	}
	// Nor is the caller's address it writes: a record "from the gateway's
	// pod" sent by a pod without a proxy is untrusted.
	fromGateway := inbound("llm-5d-abc", "10.0.0.2", "", map[string]string{"x-genops-customer-id": "acme"})
	if got := attrsFrom(t, g, from("10.0.0.68"), fromGateway); got["genops.customer_id"] != "unknown" || got["source.app"] != nil {
		t.Errorf("rogue pod's record with the gateway's address: %v", got)
	}
	// ALS from the llm pod's sidecar: its principal counts.
	if got := attrsFrom(t, g, from("10.0.0.7"), claim()); got["genops.customer_id"] != "acme" {
		t.Errorf("sidecar's ALS record: %v", got)
	}
}

// Numbers: each hostile cost or token value on a record, in an attribute
// or a response header, from a workload that may state its cost or not.
func TestNumbersAreChecked(t *testing.T) {
	type attr struct {
		key string
		val any
	}
	for _, tc := range []struct {
		name     string
		ai       bool
		attrs    []attr
		cost     any // want genops.cost.total (nil: absent)
		inTokens any
		claim    string
		reason   string
	}{
		{"cost header Inf", true, []attr{{"http.response.header.x-genops-cost", "Inf"}}, nil, nil, "cost", "not_finite"},
		{"cost header 1e308", true, []attr{{"http.response.header.x-genops-cost", "1e308"}}, nil, nil, "cost", "over_limit"},
		{"cost header 1e400", true, []attr{{"http.response.header.x-genops-cost", "1e400"}}, nil, nil, "cost", "not_finite"},
		{"cost header negative", true, []attr{{"http.response.header.x-genops-cost", "-5"}}, nil, nil, "cost", "negative"},
		{"cost header text", true, []attr{{"http.response.header.x-genops-cost", "free"}}, nil, nil, "cost", "not_a_number"},
		{"cost header from another workload", false, []attr{{"http.response.header.x-genops-cost", "0.5"}}, nil, nil, "cost", "untrusted"},
		{"cost header from an AI workload", true, []attr{{"http.response.header.x-genops-cost", "0.5"}}, 0.5, nil, "", ""},
		{"cost tag NaN", true, []attr{{"genops.cost.total", math.NaN()}}, nil, nil, "cost", "not_finite"},
		{"cost tag negative", true, []attr{{"genops.cost.total", -1000.0}}, nil, nil, "cost", "negative"},
		{"cost tag from another workload", false, []attr{{"genops.cost.total", 2.0}}, nil, nil, "cost", "untrusted"},
		{"tokens negative", true, []attr{{"gen_ai.usage.input_tokens", int64(-1_000_000_000_000)}, {"gen_ai.request.model", "gpt-4o"}}, nil, nil, "input_tokens", "negative"},
		{"tokens max int64", true, []attr{{"gen_ai.usage.input_tokens", int64(math.MaxInt64)}, {"gen_ai.request.model", "gpt-4o"}}, nil, nil, "input_tokens", "over_limit"},
		{"tokens header overflow", true, []attr{{"http.response.header.x-genops-tokens-input", "9223372036854775808"}, {"gen_ai.request.model", "gpt-4o"}}, nil, nil, "input_tokens", "over_limit"},
		{"tokens fractional", true, []attr{{"gen_ai.usage.input_tokens", 1.5}, {"gen_ai.request.model", "gpt-4o"}}, nil, nil, "input_tokens", "not_a_number"},
		{"tokens header from another workload", false, []attr{{"http.response.header.x-genops-tokens-input", "1000000"}, {"gen_ai.request.model", "gpt-4o"}}, nil, nil, "input_tokens", "untrusted"},
		{"own tokens priced by the table", false, []attr{{"gen_ai.usage.input_tokens", int64(1_000_000)}, {"gen_ai.request.model", "gpt-4o"}}, 2.5, int64(1_000_000), "", ""},
		{"tokens as a float string", false, []attr{{"gen_ai.usage.input_tokens", "1e6"}, {"gen_ai.request.model", "gpt-4o"}}, nil, nil, "input_tokens", "not_a_number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tt := newTelemetry(t)
			cfg := pricedConfig()
			cfg.AIWorkloads = nil
			if tc.ai {
				cfg.AIWorkloads = []string{"ai/llm"}
			}
			g := newTestGovernance(t, cfg, tt)
			ld := inbound("llm-5d-abc", "10.0.0.2", "", nil)
			a := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
			for _, kv := range tc.attrs {
				if err := a.PutEmpty(kv.key).FromRaw(kv.val); err != nil {
					t.Fatal(err)
				}
			}
			got := attrsOf(t, g, ld)
			if got["genops.cost.total"] != tc.cost || got["gen_ai.usage.input_tokens"] != tc.inTokens {
				t.Errorf("cost %v tokens %v, want %v %v", got["genops.cost.total"], got["gen_ai.usage.input_tokens"], tc.cost, tc.inTokens)
			}
			if tc.claim != "" && rejected(t, tt, tc.claim, tc.reason) != 1 {
				t.Errorf("%s/%s not counted", tc.claim, tc.reason)
			}
		})
	}
}

func FuzzParseTokens(f *testing.F) {
	for _, s := range []string{"0", "1200", "-1", "9223372036854775807", "9223372036854775808", "1e6", " 42 ", "+7", "0x10", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, reason, ok := parseTokens(s, 10_000_000)
		if ok && (n < 0 || n > 10_000_000 || reason != 0) {
			t.Fatalf("parseTokens(%q) = %d", s, n)
		}
		if !ok && (reason <= 0 || reason >= numRejectReasons) {
			t.Fatalf("parseTokens(%q): reason %d", s, reason)
		}
	})
}

func FuzzParseCost(f *testing.F) {
	for _, s := range []string{"0", "0.42", "-0", "-1", "Inf", "-Inf", "NaN", "1e308", "1e400", "0x1p-2", "1_000", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, _, ok := parseCost(s, 1000)
		if ok && (math.IsNaN(c) || c < 0 || c > 1000 || math.Signbit(c)) {
			t.Fatalf("parseCost(%q) = %v", s, c)
		}
	})
}

// tokenCount accepts what pdata may hold for a count only when it is a
// whole number in range.
func TestTokenCountTypes(t *testing.T) {
	for _, tc := range []struct {
		v  pcommon.Value
		ok bool
	}{
		{pcommon.NewValueInt(5), true}, {pcommon.NewValueDouble(5), true}, {pcommon.NewValueStr("5"), true},
		{pcommon.NewValueDouble(math.Inf(1)), false}, {pcommon.NewValueDouble(1e19), false}, {pcommon.NewValueBool(true), false},
		{pcommon.NewValueStr(strings.Repeat("9", 30)), false},
	} {
		if _, _, ok := tokenCount(tc.v, 10_000_000); ok != tc.ok {
			t.Errorf("%v: ok %v", tc.v.AsRaw(), ok)
		}
	}
}

// A pod's author writes its labels; the platform writes its namespace's.
// A pod in sandbox that labels itself with another team and cost centre
// keeps its namespace's team; what its namespace does not say, its own
// label still says (label your namespaces for what tenants must not
// choose).
func TestNamespaceLabelsBeatPodLabels(t *testing.T) {
	impostor := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "sandbox", Name: "impostor-0", UID: "uid-impostor-0",
		Labels:      map[string]string{"app": "impostor", "genops.ai/team": "ml-platform", "genops.ai/project": "support-bot"},
		Annotations: map[string]string{"sidecar.istio.io/status": "{}"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.70"}}
	g := newTestGovernanceWith(t, kubeConfig(), nil, impostor)
	ld := inbound("impostor-0", "10.0.0.2", "", nil)
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr("k8s.namespace.name", "sandbox")
	got := attrsOf(t, g, ld)
	if got["genops.team"] != "sandbox-team" || got["genops.attribution.source"] != "namespace_label" || got["genops.project"] != "support-bot" {
		t.Errorf("team %v from %v, project %v", got["genops.team"], got["genops.attribution.source"], got["genops.project"])
	}
}

// nested is an array value nested depth levels deep, built without
// recursion.
func nested(v pcommon.Value, depth int) {
	s := v.SetEmptySlice()
	for range depth - 1 {
		s = s.AppendEmpty().SetEmptySlice()
	}
	s.AppendEmpty().SetStr("bottom")
}

// An attribute nested a million levels deep (a 9.5 MB OTLP request)
// overflowed the collector's stack wherever a value was walked by
// recursion, and in a persistent queue on every restart (second outside
// attempt on the ledger). Values nested past the bounds are removed and
// counted, wherever they are (record, resource, span events and links,
// a log body); the rest of the record is kept. The stack is made small
// for the test: any recursion over the value would crash it.
func TestDeepValuesAreRemoved(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(1 << 20))
	tt := newTelemetry(t)
	g := newTestGovernance(t, openConfig(), tt)
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	nested(rs.Resource().Attributes().PutEmpty("deep.resource"), 200_000)
	span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetKind(ptrace.SpanKindServer)
	span.Attributes().PutStr("gen_ai.request.model", "gpt-4o")
	nested(span.Attributes().PutEmpty("deep"), 200_000)
	nested(span.Attributes().PutEmpty("gen_ai.response.model"), 200_000)
	nested(span.Attributes().PutEmpty("shallow"), 3)
	nested(span.Events().AppendEmpty().Attributes().PutEmpty("deep.event"), 200_000)
	wide := span.Attributes().PutEmptySlice("wide")
	for range maxValueNodes + 1 {
		wide.AppendEmpty().SetInt(1)
	}
	out, err := g.processTraces(context.Background(), td)
	if err != nil {
		t.Fatal(err)
	}
	got := out.ResourceSpans().At(0)
	a := got.ScopeSpans().At(0).Spans().At(0).Attributes()
	for _, k := range []string{"deep", "gen_ai.response.model", "wide"} {
		if _, ok := a.Get(k); ok {
			t.Errorf("%s kept", k)
		}
	}
	if _, ok := got.Resource().Attributes().Get("deep.resource"); ok {
		t.Error("deep.resource kept")
	}
	if got.ScopeSpans().At(0).Spans().At(0).Events().At(0).Attributes().Len() != 0 {
		t.Error("deep.event kept")
	}
	if v, ok := a.Get("gen_ai.request.model"); !ok || v.Str() != "gpt-4o" {
		t.Error("the record's other attributes were not kept")
	}
	if _, ok := a.Get("shallow"); !ok {
		t.Error("a shallow array was removed")
	}
	if n := rejected(t, tt, "attribute", "over_limit"); n != 5 {
		t.Errorf("counted %d, want 5", n)
	}
}

// OTLP carries attributes as a list, so a key can come twice. A claim
// given twice was refused here through one copy and reached the ledger
// through the other (third outside attempt: any sender billed 9 million
// USD to another team's customer). One copy is kept, the first, and it
// is the one checked and rewritten; the others are removed and counted.
func TestDuplicateKeys(t *testing.T) {
	cfg := openConfig()
	for name, d := range cfg.Dimensions {
		d.Trust = TrustNever
		cfg.Dimensions[name] = d
	}
	cfg.AIWorkloads = nil
	tt := newTelemetry(t)
	g := newTestGovernance(t, cfg, tt)
	kv := func(k, v string) string { return `{"key":"` + k + `","value":{"stringValue":"` + v + `"}}` }
	dv := func(k string, v float64) string {
		return `{"key":"` + k + `","value":{"doubleValue":` + fmt.Sprint(v) + `}}`
	}
	doc := `{"resourceSpans":[{"resource":{"attributes":[` + kv("service.name", "attacker") + `,` + kv("service.name", "victim") + `]},
	"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"x","kind":2,
	"attributes":[` + kv("gen_ai.request.model", "gpt-4o-mini") + `,{"key":"gen_ai.usage.input_tokens","value":{"intValue":"1"}},` +
		kv("genops.team", "victim-team") + `,` + kv("genops.team", "victim-team") + `,` +
		kv("genops.customer_id", "victim-cust") + `,` + kv("genops.customer_id", "victim-cust") + `,` +
		dv("genops.cost.total", 9e6) + `,` + dv("genops.cost.total", 9e6) + `]}]}]}]}`
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	out, err := g.processTraces(context.Background(), td)
	if err != nil {
		t.Fatal(err)
	}
	rs := out.ResourceSpans().At(0)
	a := rs.ScopeSpans().At(0).Spans().At(0).Attributes()
	count := map[string]int{}
	for k := range a.All() {
		count[k]++
	}
	for k := range rs.Resource().Attributes().All() {
		count["resource."+k]++
	}
	for k, n := range count {
		if n > 1 {
			t.Errorf("%s given %d times after the processor", k, n)
		}
	}
	if v, _ := a.Get("genops.team"); v.Str() != "unknown" {
		t.Errorf("team %q", v.Str())
	}
	if v, _ := a.Get("genops.customer_id"); v.Str() != "unknown" {
		t.Errorf("customer %q", v.Str())
	}
	if v, ok := a.Get("genops.cost.total"); ok && v.Double() > 1 {
		t.Errorf("stated cost kept: %v", v.Double())
	}
	if n := rejected(t, tt, "attribute", "over_limit"); n != 4 {
		t.Errorf("duplicates counted %d, want 4", n)
	}
}

// Without Kubernetes nothing tells a proxy's connection from any other
// sender's: a principal counts from the node's files only, never from a
// record sent over the network (fourth outside attempt: an OTLP log
// stating the gateway's principal made its team and customer claims
// trusted). A SPIFFE id is read in its exact shape only.
func TestPrincipalWithoutKubernetes(t *testing.T) {
	cfg := createDefaultConfig().(*Config) // kubernetes: off, claims only from trusted sources
	cfg.TrustedSources.Namespaces = []string{"api-gateway"}
	g := newTestGovernance(t, cfg, nil)
	gw := "spiffe://cluster.local/ns/api-gateway/sa/gateway"
	claims := map[string]string{"x-genops-team": "victim", "x-genops-customer-id": "victim-cust"}
	if got := attrsOf(t, g, inbound("x", "10.0.0.2", gw, claims)); got["genops.customer_id"] != "victim-cust" {
		t.Errorf("from the node's files, the gateway's principal: %v", got["genops.customer_id"])
	}
	if got := attrsFrom(t, g, from("10.0.0.99"), inbound("x", "10.0.0.2", gw, claims)); got["genops.customer_id"] != "unknown" || got["genops.team"] != "unknown" {
		t.Errorf("over the network, a stated principal was trusted: %v %v", got["genops.team"], got["genops.customer_id"])
	}
	for id, want := range map[string]string{
		gw: "api-gateway",
		"spiffe://cluster.local/ns/api-gateway/../evil/sa/x": "",
		"spiffe://cluster.local/ns/api-gateway/sa/gw/extra":  "",
		"spiffe://cluster.local/ns//sa/gw":                   "",
		"spiffe://cluster.local/x/ns/api-gateway/sa/gw":      "",
		"https://cluster.local/ns/api-gateway/sa/gw":         "",
	} {
		if got := spiffeNamespace(id); got != want {
			t.Errorf("spiffeNamespace(%q) = %q, want %q", id, got, want)
		}
	}
}

// A span over the network whose resource names another pod (no pod
// labels, only the name) is a forged workload claim: counted, and the
// resource becomes the sender's.
func TestForgedPodNameCounted(t *testing.T) {
	tt := newTelemetry(t)
	g := newTestGovernance(t, trustingConfig(), tt)
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("k8s.namespace.name", "ai")
	rs.Resource().Attributes().PutStr("k8s.pod.name", "llm-5d-abc")
	rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetKind(ptrace.SpanKindServer)
	res, _ := processSpan(t, g, from("10.0.0.66"), td)
	if res["k8s.pod.name"] != "curl-0" {
		t.Errorf("resource pod %v, want the sender's", res["k8s.pod.name"])
	}
	if n := rejected(t, tt, "workload", "forged"); n != 1 {
		t.Errorf("rejected workload/forged = %d, want 1", n)
	}
}
