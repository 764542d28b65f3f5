package governanceprocessor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processorhelper"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// The processor is the one owner of request identity: these tests check
// the canonical attributes it writes for the sli connector (identity.go),
// which decides none of them.

// logRecords is one resource's records, each with its attributes.
func logRecords(resource map[string]any, records ...map[string]any) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	_ = rl.Resource().Attributes().FromRaw(resource)
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, r := range records {
		_ = lrs.AppendEmpty().Attributes().FromRaw(r)
	}
	return ld
}

// processed processes ld as received in ctx and returns each record's
// attributes over its resource's (what the sli connector reads: the
// record's win).
func processed(t *testing.T, g *governance, ctx context.Context, ld plog.Logs) []map[string]any {
	t.Helper()
	out, err := g.processLogs(ctx, ld)
	if err != nil {
		t.Fatal(err)
	}
	var all []map[string]any
	for _, rl := range out.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				got := rl.Resource().Attributes().AsRaw()
				for k, v := range lr.Attributes().AsRaw() {
					got[k] = v
				}
				all = append(all, got)
			}
		}
	}
	return all
}

// offConfig is the default config without Kubernetes (the embedded
// default's), edited.
func offConfig(edit func(*Config)) *Config {
	cfg := createDefaultConfig().(*Config)
	if edit != nil {
		edit(cfg)
	}
	return cfg
}

// gatewayPod is an Istio ingress gateway pod in istio-system.
func gatewayPod() *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "istio-system", Name: "istio-ingressgateway-7d9f8b6c5-abcde", UID: "uid-gw",
		Labels: map[string]string{"app": "istio-ingressgateway", "istio": "ingressgateway"}, Annotations: map[string]string{"sidecar.istio.io/status": `{}`}},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "istio-proxy"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.9"}}
}

// Every access log record gets its side: the destination's for an inbound
// record or one without a direction (Linkerd's), the caller's for an
// outbound one, a gateway's for a gateway pod's records whatever their
// direction; a side the record claims is replaced. A record with neither
// a direction nor a status is no access log and gets none.
func TestLogSides(t *testing.T) {
	g := newTestGovernanceWith(t, kubeConfig(), nil, gatewayPod())
	llm := map[string]any{"k8s.namespace.name": "ai", "k8s.pod.name": "llm-5d-abc", "k8s.pod.uid": "uid-llm-5d-abc"}
	got := processed(t, g, context.Background(), logRecords(llm,
		map[string]any{"envoy.direction": "inbound"},
		map[string]any{"envoy.direction": "outbound"},
		map[string]any{"http.response.status_code": 200},
		map[string]any{"envoy.direction": "inbound", "genops.side": "gateway"},
		map[string]any{"genops.side": "destination"},
	))
	for i, want := range []any{"destination", "source", "destination", "destination", nil} {
		if got[i][semconv.AttrSide] != want {
			t.Errorf("record %d: side %v, want %s", i, got[i][semconv.AttrSide], want)
		}
	}
	gw := map[string]any{"k8s.namespace.name": "istio-system", "k8s.pod.name": "istio-ingressgateway-7d9f8b6c5-abcde", "k8s.pod.uid": "uid-gw"}
	for i, r := range processed(t, g, context.Background(), logRecords(gw,
		map[string]any{"envoy.direction": "outbound"}, map[string]any{"envoy.direction": "inbound"})) {
		if r[semconv.AttrSide] != semconv.SideGateway {
			t.Errorf("gateway record %d: side %v", i, r[semconv.AttrSide])
		}
	}
}

// Without Kubernetes a gateway is known by its resource: in a gateway
// namespace, the app, the app label, or the pod name's prefix. The same
// names in another namespace are a tenant's pod. A record's own
// k8s.pod.name names the destination, not the proxy that wrote it: it
// makes no gateway.
func TestGatewaysWithoutKubernetes(t *testing.T) {
	g := newTestGovernance(t, offConfig(nil), nil)
	in := func(ns string, attrs map[string]any) map[string]any {
		attrs["k8s.namespace.name"] = ns
		return attrs
	}
	for _, tc := range []struct {
		resource, record map[string]any
		want             string
	}{
		{in("istio-system", map[string]any{"k8s.pod.name": "istio-egressgateway-7d9f8b6c5-abcde"}), nil, semconv.SideGateway},
		{in("istio-system", map[string]any{"app": "istio-ingressgateway"}), nil, semconv.SideGateway},
		{in("istio-system", map[string]any{"k8s.pod.label.app": "istio-eastwestgateway"}), nil, semconv.SideGateway},
		{in("istio-system", map[string]any{"k8s.pod.label.app.kubernetes.io/name": "istio-eastwestgateway"}), nil, semconv.SideGateway},
		{in("istio-system", map[string]any{"k8s.pod.name": "istio-ingressgatewayx-1"}), nil, semconv.SideDestination},
		{in("sandbox", map[string]any{"k8s.pod.name": "istio-ingressgateway-evil"}), nil, semconv.SideDestination},
		{in("sandbox", map[string]any{"app": "istio-ingressgateway"}), nil, semconv.SideDestination},
		{in("istio-system", map[string]any{"k8s.pod.name": "llm-5d-abc"}), map[string]any{"k8s.pod.name": "istio-ingressgateway-5c-x"}, semconv.SideDestination},
	} {
		rec := map[string]any{"envoy.direction": "inbound"}
		for k, v := range tc.record {
			rec[k] = v
		}
		if got := processed(t, g, context.Background(), logRecords(tc.resource, rec))[0][semconv.AttrSide]; got != tc.want {
			t.Errorf("%v %v: side %v, want %s", tc.resource, tc.record, got, tc.want)
		}
	}
	// Workloads are configurable.
	g = newTestGovernance(t, offConfig(func(c *Config) { c.Gateways.Workloads = []string{"edge/edge"} }), nil)
	for res, want := range map[string]string{"edge-0": semconv.SideGateway, "istio-ingressgateway-0": semconv.SideDestination} {
		if got := processed(t, g, context.Background(), logRecords(in("edge", map[string]any{"k8s.pod.name": res}),
			map[string]any{"envoy.direction": "inbound"}))[0][semconv.AttrSide]; got != want {
			t.Errorf("%s: side %v, want %s", res, got, want)
		}
	}
}

// With the informer, a tenant's pod named like a gateway, or labelled
// with a gateway's app, in its own namespace is no gateway: its requests
// count (first outside attempt on #18, which made them uncounted).
func TestTenantPodNamedLikeAGateway(t *testing.T) {
	sidecar := map[string]string{"sidecar.istio.io/status": `{}`}
	g := newTestGovernanceWith(t, kubeConfig(), nil,
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "sandbox", Name: "istio-ingressgateway-evil", UID: "uid-evil", Annotations: sidecar,
			Labels: map[string]string{"app": "foo"}}, Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.70"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "sandbox", Name: "evil-gwlabel", UID: "uid-evil2", Annotations: sidecar,
			Labels: map[string]string{"app": "istio-ingressgateway"}}, Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.71"}})
	for _, uid := range []string{"uid-evil", "uid-evil2"} {
		got := processed(t, g, context.Background(), logRecords(map[string]any{"k8s.pod.uid": uid}, map[string]any{"envoy.direction": "inbound"}))
		if got[0][semconv.AttrSide] != semconv.SideDestination {
			t.Errorf("%s: side %v, want destination", uid, got[0][semconv.AttrSide])
		}
	}
}

// Over the network only a mesh proxy's access log records are requests:
// a pod without one that sends them gets no side (counted as a forged
// proxy claim); an application's own log records (no direction, no
// status) are no requests from anyone (second outside attempt on #18).
func TestAccessLogsOnlyFromProxies(t *testing.T) {
	tt := newTelemetry(t)
	g := newTestGovernance(t, kubeConfig(), tt)
	rec := map[string]any{"envoy.direction": "inbound", "http.response.status_code": 200}
	if got := processed(t, g, from("10.0.0.68"), logRecords(nil, rec))[0]; got[semconv.AttrSide] != nil { // rogue-0: no proxy
		t.Errorf("a pod without a proxy: side %v", got[semconv.AttrSide])
	}
	if n := rejected(t, tt, "proxy", "forged"); n != 1 {
		t.Errorf("forged proxy claims: %d, want 1", n)
	}
	if got := processed(t, g, from("10.0.0.66"), logRecords(nil, rec))[0]; got[semconv.AttrSide] != semconv.SideDestination { // curl-0: a sidecar
		t.Errorf("a sidecar's record: side %v", got[semconv.AttrSide])
	}
	if got := processed(t, g, from("10.0.0.66"), logRecords(nil, map[string]any{"message": "hello"}))[0]; got[semconv.AttrSide] != nil {
		t.Errorf("an application log: side %v", got[semconv.AttrSide])
	}
}

// A line of the node's log files may carry keys that become attributes
// (a JSON format's unknown keys; a pod's owner can write its own
// sidecar's stdout): with the informer, its app, version, service and
// workload claims give way to the pod's (third outside attempt on #18).
func TestFileRecordIdentityClaims(t *testing.T) {
	tt := newTelemetry(t)
	g := newTestGovernance(t, kubeConfig(), tt)
	ld := inbound("llm-5d-abc", "10.0.0.66", "", nil)
	a := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	a.PutStr("app", "billing")
	a.PutStr("version", "v9")
	a.PutStr("service.name", "billing")
	a.PutStr("k8s.pod.label.app", "billing")
	got := attrsOf(t, g, ld)
	if got["app"] != "llm" || got["version"] != "v2" || got["service.name"] != "llm" || got["k8s.pod.label.app"] != nil {
		t.Errorf("claims kept: app %v version %v service %v label %v", got["app"], got["version"], got["service.name"], got["k8s.pod.label.app"])
	}
	if rejected(t, tt, "workload", "forged") == 0 || rejected(t, tt, "service", "forged") == 0 {
		t.Error("the claims were not counted")
	}
}

// Over the network the sender's resource says nothing of itself: a pod
// that claims a gateway's app is not a gateway, and a gateway is one
// whatever its resource says.
func TestGatewayClaimOverTheNetwork(t *testing.T) {
	g := newTestGovernanceWith(t, kubeConfig(), nil, gatewayPod())
	claim := logRecords(map[string]any{"app": "istio-ingressgateway", "k8s.pod.name": "istio-ingressgateway-1", "k8s.namespace.name": "istio-system"},
		map[string]any{"envoy.direction": "outbound"})
	if got := processed(t, g, from("10.0.0.66"), claim)[0][semconv.AttrSide]; got != semconv.SideSource {
		t.Errorf("a pod claiming a gateway's app: side %v", got)
	}
	if got := processed(t, g, from("10.0.0.9"), logRecords(map[string]any{"app": "curl"}, map[string]any{"envoy.direction": "outbound"}))[0][semconv.AttrSide]; got != semconv.SideGateway {
		t.Errorf("the gateway's own records: side %v", got)
	}
}

// SERVER spans are the destination's, CLIENT spans the caller's; other
// kinds have no side, and one they claim is removed. A forwarder's spans
// keep the side the collector that attributed them gave.
func TestSpanSides(t *testing.T) {
	g := newTestGovernance(t, trustingConfig(), nil)
	for kind, want := range map[ptrace.SpanKind]any{
		ptrace.SpanKindServer: "destination", ptrace.SpanKindClient: "source", ptrace.SpanKindInternal: nil,
		ptrace.SpanKindProducer: nil, ptrace.SpanKindConsumer: nil,
	} {
		td := ptrace.NewTraces()
		span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetKind(kind)
		span.Attributes().PutStr(semconv.AttrSide, "gateway")
		if _, got := processSpan(t, g, context.Background(), td); got[semconv.AttrSide] != want {
			t.Errorf("%v: side %v, want %v", kind, got[semconv.AttrSide], want)
		}
	}
	// The forwarder pod: a collector in otelcol-genops.
	fwd := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "otelcol-genops", Name: "agent-0", UID: "uid-agent"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.50"}}
	g = newTestGovernanceWith(t, trustingConfig(), nil, fwd)
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetKind(ptrace.SpanKindServer)
	span.Attributes().PutStr(semconv.AttrSide, "gateway")
	if _, got := processSpan(t, g, from("10.0.0.50"), td); got[semconv.AttrSide] != "gateway" {
		t.Errorf("a forwarder's side was replaced: %v", got[semconv.AttrSide])
	}
}

// The service of a record no pod names: the app (the resource's for the
// destination's records, the record's own for a caller's), else the Host
// header's service; a resource's or record's service.name is kept.
func TestServiceWithoutAPod(t *testing.T) {
	g := newTestGovernance(t, offConfig(nil), nil)
	got := processed(t, g, context.Background(), logRecords(
		map[string]any{"k8s.namespace.name": "foo", "k8s.pod.label.app": "httpbin", "k8s.pod.label.version": "v1"},
		map[string]any{"envoy.direction": "inbound", "server.address": "other.foo:8000"},
		map[string]any{"envoy.direction": "outbound", "server.address": "llm.ai.svc.cluster.local:8080"},
		map[string]any{"envoy.direction": "outbound", "server.address": "x:1", "app": "search"},
		map[string]any{"envoy.direction": "outbound"},
		map[string]any{"envoy.direction": "inbound", "service.name": "named"},
	))
	for i, want := range []any{"httpbin", "llm", "search", nil, "named"} {
		if got[i]["service.name"] != want {
			t.Errorf("record %d: service %v, want %v", i, got[i]["service.name"], want)
		}
	}
	// The pod labels name the app and version the connector reads.
	if got[0]["app"] != "httpbin" || got[0]["version"] != "v1" {
		t.Errorf("app and version from the pod labels: %v", got[0])
	}
	// A record's own pod labels, when nothing else names them.
	got = processed(t, g, context.Background(), logRecords(map[string]any{"k8s.namespace.name": "foo"},
		map[string]any{"k8s.pod.label.app": "ratings", "k8s.pod.label.app.kubernetes.io/version": "v3"}))
	if got[0]["app"] != "ratings" || got[0]["version"] != "v3" || got[0]["service.name"] != "ratings" {
		t.Errorf("from the record's pod labels: %v", got[0])
	}
	// A resource with its own service.name: the records get none.
	got = processed(t, g, context.Background(), logRecords(map[string]any{"service.name": "svc", "app": "a"},
		map[string]any{"envoy.direction": "inbound"}))
	if got[0]["service.name"] != "svc" {
		t.Errorf("the resource's service: %v", got[0])
	}
}

// A client that sends a new Host header with every request names at most
// limits.max_host_services services; the rest is one __overflow__ service,
// counted, and a workload's own service (service.name or app) is kept.
// An authority longer than a DNS name takes no place among them.
func TestHostHeaderFlood(t *testing.T) {
	tt := newTelemetry(t)
	g := newTestGovernance(t, offConfig(func(c *Config) { c.Limits.MaxHostServices = 10 }), tt)
	var recs []map[string]any
	for i := range 500 {
		recs = append(recs, map[string]any{"server.address": fmt.Sprintf("h%d.example:80", i)})
	}
	long := strings.Repeat("h", 300)
	recs = append(recs,
		map[string]any{"server.address": "x.example:80", "app": "checkout"},
		map[string]any{"server.address": "y.example:80", "service.name": "llm"},
		map[string]any{"server.address": long + ":80"})
	services := map[string]int{}
	for _, r := range processed(t, g, context.Background(), logRecords(map[string]any{"k8s.namespace.name": "web"}, recs...)) {
		services[r["service.name"].(string)]++
	}
	if len(services) != 14 || services[semconv.OverflowValue] != 490 || services["checkout"] != 1 || services["llm"] != 1 || services[long] != 1 {
		t.Errorf("%d services: %v", len(services), services)
	}
	if n := rejected(t, tt, "service", "over_limit"); n != 490 {
		t.Errorf("rejected service claims over the limit: %d, want 490", n)
	}
	// A known service is still itself once the limit is reached.
	if got := processed(t, g, context.Background(), logRecords(nil, map[string]any{"server.address": "h3.example:80"}))[0]["service.name"]; got != "h3.example" {
		t.Errorf("a known Host service: %v", got)
	}
}

func TestServiceFromAuthority(t *testing.T) {
	for _, tc := range []struct{ authority, namespace, want string }{
		{"llm.ai.svc.cluster.local:8080", "shop", "llm"},
		{"llm.ai.svc:8080", "", "llm"},
		{"llm.ai.svc", "ai", "llm"},
		{"llm.ai:8080", "ai", "llm"},
		{"httpbin:8000", "foo", "httpbin"},
		{"edition.cnn.com", "istio-system", "edition.cnn.com"},
		{"[::1]:80", "", "[::1]"},
		{"[::1]:8080", "ai", "[::1]"},
		// A port alone or a ".svc" at the start names no cluster service.
		{":8080", "ai", ""},
		{".svc.cluster.local", "ai", ".svc.cluster.local"},
	} {
		if got := serviceFromAuthority(tc.authority, tc.namespace); got != tc.want {
			t.Errorf("serviceFromAuthority(%q, %q) = %q, want %q", tc.authority, tc.namespace, got, tc.want)
		}
	}
}

// With shard_key on, every counted record carries the namespace and app
// its series are labelled with (the record's own, else its resource's),
// and nothing else does: a tiered agent routes by it (docs/scaling.md).
// A sender's key, or a span's request fields, are not kept unless a
// forwarder sent them.
func TestShardKey(t *testing.T) {
	g := newTestGovernanceWith(t, func() *Config { c := kubeConfig(); c.ShardKey = true; return c }(), nil)
	// Inbound on the llm pod's sidecar: the resource's workload.
	got := attrsOf(t, g, inbound("llm-5d-abc", "10.0.0.66", "", nil))
	if got[semconv.AttrShard] != "ai/llm" {
		t.Errorf("inbound record: shard %v, want ai/llm", got[semconv.AttrShard])
	}
	// Outbound from curl-0 to the llm pod: the destination's, on the record.
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("k8s.namespace.name", "sandbox")
	rl.Resource().Attributes().PutStr("k8s.pod.name", "curl-0")
	a := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Attributes()
	a.PutStr("envoy.direction", "outbound")
	a.PutStr("network.peer.address", "10.0.0.7")
	if got := attrsOf(t, g, ld); got[semconv.AttrShard] != "ai/llm" || got["k8s.namespace.name"] != "ai" {
		t.Errorf("outbound record: shard %v, namespace %v; want ai/llm", got[semconv.AttrShard], got["k8s.namespace.name"])
	}
	// No side (no direction, no status: no access log): no key, and a
	// sender's own key and request fields are dropped.
	got = processed(t, g, context.Background(), logRecords(map[string]any{"k8s.namespace.name": "ai", "k8s.pod.name": "llm-5d-abc"},
		map[string]any{semconv.AttrShard: "x/y", semconv.AttrRequestDurationMs: 1.5, semconv.AttrRequestError: true}))[0]
	for _, k := range []string{semconv.AttrShard, semconv.AttrRequestDurationMs, semconv.AttrRequestError} {
		if v, ok := got[k]; ok {
			t.Errorf("a record no one counts kept %s=%v", k, v)
		}
	}
	// Off (the default): no key, and a claimed one is removed.
	off := newTestGovernance(t, kubeConfig(), nil)
	claimed := inbound("llm-5d-abc", "10.0.0.66", "", nil)
	claimed.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutStr(semconv.AttrShard, "x/y")
	if got := attrsOf(t, off, claimed); got[semconv.AttrShard] != nil {
		t.Errorf("shard_key off: %v", got[semconv.AttrShard])
	}
	// A forwarder's key and request fields are kept.
	fwd := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "otelcol-genops", Name: "agent-0", UID: "uid-agent"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.50"}}
	cfg := kubeConfig()
	cfg.TrustedSources.Forwarders = []string{"otelcol-genops"}
	gw := newTestGovernanceWith(t, cfg, nil, fwd)
	got = processed(t, gw, from("10.0.0.50"), logRecords(map[string]any{"k8s.namespace.name": "ai", "k8s.pod.name": "llm-5d-abc"},
		map[string]any{semconv.AttrSide: "destination", semconv.AttrShard: "ai/llm", semconv.AttrRequestDurationMs: 1.5, semconv.AttrRequestError: true}))[0]
	if got[semconv.AttrShard] != "ai/llm" || got[semconv.AttrRequestDurationMs] != 1.5 || got[semconv.AttrRequestError] != true {
		t.Errorf("a forwarder's record: %v", got)
	}
}

// Without Kubernetes, "*" makes every sender a forwarder (a tiered
// gateway on a laptop); a namespace cannot be told there, and "*" is
// refused in a cluster.
func TestForwardersWithoutKubernetes(t *testing.T) {
	g := newTestGovernance(t, offConfig(func(c *Config) { c.TrustedSources.Forwarders = []string{"*"} }), nil)
	got := processed(t, g, from("192.0.2.1"), logRecords(map[string]any{"k8s.namespace.name": "ai", "app": "llm"},
		map[string]any{semconv.AttrSide: "gateway", semconv.AttrShard: "ai/llm", "envoy.direction": "inbound", "genops.team": "ml-platform"}))[0]
	if got[semconv.AttrSide] != "gateway" || got[semconv.AttrShard] != "ai/llm" || got["genops.team"] != "ml-platform" {
		t.Errorf("a forwarder's record without Kubernetes: %v", got)
	}
	for _, c := range []struct {
		mode, forwarder string
	}{{KubernetesOff, "otelcol-genops"}, {KubernetesCluster, "*"}, {KubernetesNode, "*"}} {
		cfg := createDefaultConfig().(*Config)
		cfg.Kubernetes.Mode, cfg.Kubernetes.NodeName = c.mode, "n"
		cfg.TrustedSources.Forwarders = []string{c.forwarder}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "trusted_sources.forwarders[0]") {
			t.Errorf("mode %s, forwarders [%s]: %v", c.mode, c.forwarder, err)
		}
	}
}

// A resource never carries what the pipeline writes per record — a side,
// a shard key, a cost, a span record's fields: the connector and the
// ledger read a resource's attributes under every record's, so a sender's
// resource genops.shard chose the gateway replica (outsider's finding on
// #19), and a resource genops.side or cost would count or bill records
// that have none. Removed and counted; the records get their own.
func TestResourceCarriesNoRecordAttributes(t *testing.T) {
	tt := newTelemetry(t)
	g := newTestGovernance(t, offConfig(func(c *Config) { c.ShardKey = true }), tt)
	owned := map[string]any{semconv.AttrSide: "destination", semconv.AttrShard: "ai/llm", semconv.AttrRequestDurationMs: 1.0,
		semconv.AttrRequestError: false, semconv.AttrCostTotal: 5.0, semconv.AttrCostCurrency: "USD",
		semconv.AttrCostPriceRow: "gpt-4o", semconv.AttrCostTime: int64(1)}
	res := map[string]any{"k8s.namespace.name": "shop", "app": "checkout"}
	for k, v := range owned {
		res[k] = v
	}
	ld := logRecords(res, map[string]any{"envoy.direction": "inbound", "http.response.status_code": int64(200)}, map[string]any{"note": "no request"})
	out, err := g.processLogs(from("192.0.2.1"), ld)
	if err != nil {
		t.Fatal(err)
	}
	rl := out.ResourceLogs().At(0)
	for k := range owned {
		if v, ok := rl.Resource().Attributes().Get(k); ok {
			t.Errorf("the resource kept %s=%v", k, v.AsRaw())
		}
	}
	recs := rl.ScopeLogs().At(0).LogRecords()
	if v, _ := recs.At(0).Attributes().Get(semconv.AttrShard); v.Str() != "shop/checkout" {
		t.Errorf("the request's own shard key: %q", v.Str())
	}
	if _, ok := recs.At(1).Attributes().Get(semconv.AttrSide); ok {
		t.Error("a record that is no request got a side")
	}
	if n := rejected(t, tt, "attribute", "forged"); n != int64(len(owned)) {
		t.Errorf("%d removals counted, want %d", n, len(owned))
	}
}

// A tiered gateway takes data from its agents only (only_forwarders):
// everything another sender sends is dropped and counted, and a
// forwarder's passes.
func TestOnlyForwarders(t *testing.T) {
	tt := newTelemetry(t)
	fwd := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "otelcol-genops", Name: "agent-0", UID: "uid-agent"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.50"}}
	cfg := kubeConfig()
	cfg.TrustedSources.Forwarders, cfg.TrustedSources.OnlyForwarders = []string{"otelcol-genops"}, true
	g := newTestGovernanceWith(t, cfg, tt, fwd)
	rec := map[string]any{semconv.AttrSide: "destination", "gen_ai.usage.input_tokens": int64(1000)}
	if _, err := g.processLogs(from("10.0.0.66"), logRecords(nil, rec, rec)); !errors.Is(err, processorhelper.ErrSkipProcessingData) {
		t.Errorf("logs from curl-0: %v, want them dropped", err)
	}
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetKind(ptrace.SpanKindServer)
	if _, err := g.processTraces(from("10.0.0.66"), td); !errors.Is(err, processorhelper.ErrSkipProcessingData) {
		t.Errorf("spans from curl-0: %v, want them dropped", err)
	}
	if n := rejected(t, tt, "sender", "untrusted"); n != 3 {
		t.Errorf("%d dropped records and spans counted, want 3", n)
	}
	if got := processed(t, g, from("10.0.0.50"), logRecords(nil, rec)); len(got) != 1 || got[0][semconv.AttrSide] != "destination" {
		t.Errorf("the agent's record: %v", got)
	}
	cfg = kubeConfig()
	cfg.TrustedSources.OnlyForwarders = true
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "only_forwarders") {
		t.Errorf("only_forwarders without forwarders: %v", err)
	}
}
