package governanceprocessor

import (
	"context"
	"maps"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// dimensionKeys are the attributes attribution writes, resource-wide or
// per record.
var dimensionKeys = []string{
	"genops.team", "genops.project", "genops.customer_id", "genops.cost_center", "genops.customer_tier",
	"genops.environment", "genops.feature", "genops.attribution.source", "k8s.cluster.name",
}

// podLog is the llm pod's access log (the node's file): one record per
// element of records, each a map of attributes.
func podLog(resource map[string]string, records ...map[string]string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	for k, v := range resource {
		rl.Resource().Attributes().PutStr(k, v)
	}
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, rec := range records {
		a := lrs.AppendEmpty().Attributes()
		for k, v := range rec {
			a.PutStr(k, v)
		}
	}
	return ld
}

var llmPod = map[string]string{"k8s.namespace.name": "ai", "k8s.pod.name": "llm-5d-abc"}

// onlyDimensions is the attribution part of attrs.
func onlyDimensions(attrs map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range dimensionKeys {
		if v, ok := attrs[k]; ok {
			out[k] = v
		}
	}
	return out
}

// What every record of a file shares (its pod's labels, its namespace's,
// the defaults, the cluster) is written once, on the resource; a record
// carries nothing of it (issue #20).
func TestSharedAttribution(t *testing.T) {
	cfg := pricedConfig()
	cfg.Cluster = "east"
	g := newTestGovernance(t, cfg, nil)
	plain := map[string]string{"envoy.direction": "inbound", "network.peer.address": "10.0.0.2", "http.response.status_code": "200"}
	out, err := g.processLogs(context.Background(), podLog(llmPod, plain, plain))
	if err != nil {
		t.Fatal(err)
	}
	rl := out.ResourceLogs().At(0)
	shared := map[string]any{
		"genops.team": "ml-platform", "genops.project": "support-bot", "genops.customer_id": "unknown",
		"genops.cost_center": "cc-ai", "genops.customer_tier": "unknown", "genops.environment": "unknown",
		"genops.feature": "unknown", "genops.attribution.source": "pod_label", "k8s.cluster.name": "east",
	}
	if got := onlyDimensions(rl.Resource().Attributes().AsRaw()); !maps.Equal(got, shared) {
		t.Errorf("resource:\n got %v\nwant %v", got, shared)
	}
	for i, lr := range rl.ScopeLogs().At(0).LogRecords().All() {
		if got := onlyDimensions(lr.Attributes().AsRaw()); len(got) > 0 {
			t.Errorf("record %d carries %v", i, got)
		}
	}
}

// A value that not every record of a resource shares is on the records,
// none of it on the resource: a backend that matches a resource's
// attributes and a record's alike (Jaeger's tag search, Loki's labels)
// must not find a record under a value it does not have. Each record
// reads what it did when everything was on the records.
func TestSharedAttributionOnlyWhatAllShare(t *testing.T) {
	cfg := pricedConfig()
	cfg.Cluster = "east"
	g := newTestGovernance(t, cfg, nil)
	ld := podLog(llmPod,
		// From the gateway, no claim.
		map[string]string{"envoy.direction": "inbound", "network.peer.address": "10.0.0.2", "http.response.status_code": "200"},
		// From the gateway: a customer (no label decides it) and a team
		// (the pod's label does).
		map[string]string{"envoy.direction": "inbound", "network.peer.address": "10.0.0.2",
			"http.request.header.x-genops-customer-id": "cust-42", "http.request.header.x-genops-team": "other"},
		// The llm pod calling curl in sandbox: sandbox's team.
		map[string]string{"envoy.direction": "outbound", "network.peer.address": "10.0.0.66"},
	)
	out, err := g.processLogs(context.Background(), ld)
	if err != nil {
		t.Fatal(err)
	}
	rl := out.ResourceLogs().At(0)
	res := rl.Resource().Attributes()
	// Every record has the same tier, environment, feature and cluster.
	if got, want := onlyDimensions(res.AsRaw()), map[string]any{
		"genops.customer_tier": "unknown", "genops.environment": "unknown", "genops.feature": "unknown", "k8s.cluster.name": "east",
	}; !maps.Equal(got, want) {
		t.Errorf("resource:\n got %v\nwant %v", got, want)
	}
	llm := map[string]any{
		"genops.team": "ml-platform", "genops.project": "support-bot", "genops.customer_id": "unknown",
		"genops.cost_center": "cc-ai", "genops.attribution.source": "pod_label",
	}
	recs := rl.ScopeLogs().At(0).LogRecords()
	for i, want := range []map[string]any{
		llm,
		with(llm, map[string]any{"genops.customer_id": "cust-42"}),
		{
			"genops.team": "sandbox-team", "genops.project": "unknown", "genops.customer_id": "unknown",
			"genops.cost_center": "unknown", "genops.attribution.source": "namespace_label",
		},
	} {
		lr := recs.At(i).Attributes()
		if got := onlyDimensions(lr.AsRaw()); !maps.Equal(got, want) {
			t.Errorf("record %d carries:\n got %v\nwant %v", i, got, want)
		}
	}
}

// The same for spans: a resource's spans that all share a value read it
// from the resource, and a value some do not share is on each span.
func TestSharedAttributionSpans(t *testing.T) {
	g := newTestGovernance(t, openConfig(), nil)
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "llm")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for _, customer := range []string{"", "cust-42"} {
		sp := spans.AppendEmpty()
		sp.SetKind(ptrace.SpanKindServer)
		if customer != "" {
			sp.Attributes().PutStr("genops.customer_id", customer)
		}
	}
	out, err := g.processTraces(context.Background(), td)
	if err != nil {
		t.Fatal(err)
	}
	res := out.ResourceSpans().At(0).Resource().Attributes().AsRaw()
	if res["genops.team"] != "unknown" || res["genops.attribution.source"] != "default" {
		t.Errorf("resource %v", onlyDimensions(res))
	}
	if _, ok := res["genops.customer_id"]; ok {
		t.Errorf("resource carries the customer that one span does not share: %v", onlyDimensions(res))
	}
	for i, want := range []string{"unknown", "cust-42"} {
		a := out.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(i).Attributes().AsRaw()
		if a["genops.customer_id"] != want {
			t.Errorf("span %d: customer %v, want %s", i, a["genops.customer_id"], want)
		}
		if _, ok := a["genops.team"]; ok {
			t.Errorf("span %d carries the shared team", i)
		}
	}
}

// with is m with more's entries over its own.
func with[V any](m, more map[string]V) map[string]V {
	out := maps.Clone(m)
	maps.Copy(out, more)
	return out
}

// Attack: a pod sends its access log over the network with a resource
// that names another team, its cost centre and a customer, and says the
// pod's labels decided them. The resource's attribution is the
// processor's alone: the sender's is replaced by the sender's own pod's.
func TestSharedAttributionReplacesSendersResource(t *testing.T) {
	g := newTestGovernance(t, trustingConfig(), nil)
	ld := podLog(map[string]string{
		"genops.team": "ml-platform", "genops.cost_center": "cc-ai", "genops.customer_id": "victim",
		"genops.attribution.source": "pod_label", "k8s.cluster.name": "west",
	}, map[string]string{"envoy.direction": "inbound", "http.response.status_code": "200"})
	out, err := g.processLogs(from("10.0.0.66"), ld)
	if err != nil {
		t.Fatal(err)
	}
	rl := out.ResourceLogs().At(0)
	got := onlyDimensions(readerView(rl.Resource().Attributes(), rl.ScopeLogs().At(0).LogRecords().At(0).Attributes()))
	want := map[string]any{
		"genops.team": "sandbox-team", "genops.project": "unknown", "genops.customer_id": "unknown",
		"genops.cost_center": "unknown", "genops.customer_tier": "unknown", "genops.environment": "unknown",
		"genops.feature": "unknown", "genops.attribution.source": "namespace_label",
	}
	if !maps.Equal(got, want) {
		t.Errorf("read:\n got %v\nwant %v", got, want)
	}
}

// Attack: with no default among the sources, a dimension no label
// decides has no value. A value the sender put on the resource, or an
// untrusted claim on the record, must not stand in for it; nor may an
// outbound record read its caller's team from the resource when its
// destination has none.
func TestSharedAttributionWithoutDefault(t *testing.T) {
	cfg := trustingConfig()
	cfg.Sources = []string{"namespace_label", "pod_label", "header", "span_tag"}
	g := newTestGovernance(t, cfg, nil)
	ld := podLog(with(llmPod, map[string]string{"genops.customer_id": "victim"}),
		map[string]string{"envoy.direction": "inbound", "network.peer.address": "10.0.0.66", "genops.feature": "free-lunch"},
		// To nolabels-0 in sandbox: sandbox's team, no project.
		map[string]string{"envoy.direction": "outbound", "network.peer.address": "10.0.0.67"},
	)
	out, err := g.processLogs(context.Background(), ld)
	if err != nil {
		t.Fatal(err)
	}
	rl := out.ResourceLogs().At(0)
	res := rl.Resource().Attributes()
	recs := rl.ScopeLogs().At(0).LogRecords()
	inbound := onlyDimensions(readerView(res, recs.At(0).Attributes()))
	if want := map[string]any{
		"genops.team": "ml-platform", "genops.project": "support-bot", "genops.cost_center": "cc-ai",
		"genops.attribution.source": "pod_label",
	}; !maps.Equal(inbound, want) {
		t.Errorf("inbound record reads:\n got %v\nwant %v", inbound, want)
	}
	// No project and no cost centre: none on the record, none on the
	// resource (the inbound record's went onto it).
	outbound := onlyDimensions(readerView(res, recs.At(1).Attributes()))
	if want := map[string]any{
		"genops.team": "sandbox-team", "genops.attribution.source": "namespace_label",
	}; !maps.Equal(outbound, want) {
		t.Errorf("outbound record reads:\n got %v\nwant %v", outbound, want)
	}
}

// A hashed dimension is hashed on the resource as on a record.
func TestSharedAttributionHashed(t *testing.T) {
	cfg := pricedConfig()
	cfg.HashKey = "k"
	team := cfg.Dimensions[DimTeam]
	team.Hash = true
	cfg.Dimensions[DimTeam] = team
	g := newTestGovernance(t, cfg, nil)
	got := attrsOf(t, g, podLog(llmPod, map[string]string{"envoy.direction": "inbound"}))
	if want := hashValue([]byte("k"), "ml-platform"); got["genops.team"] != want {
		t.Errorf("genops.team = %v, want %v", got["genops.team"], want)
	}
}

// Attack (outsider's finding on #20): without Kubernetes, a record sent
// over the network names its own cluster, or an empty one, to label its
// series. The collector's cluster is the only one.
func TestClusterIsTheCollectors(t *testing.T) {
	tt := newTelemetry(t)
	cfg := createDefaultConfig().(*Config)
	cfg.Cluster = "east"
	g := newTestGovernance(t, cfg, tt)
	for _, claim := range []string{"west", ""} {
		ld := podLog(nil, map[string]string{"envoy.direction": "inbound", "http.response.status_code": "200", "k8s.cluster.name": claim})
		if got := attrsFrom(t, g, from("10.0.0.66"), ld)["k8s.cluster.name"]; got != "east" {
			t.Errorf("claim %q: cluster %v, want east", claim, got)
		}
	}
	if n := rejected(t, tt, "workload", "forged"); n != 2 {
		t.Errorf("rejected %d cluster claims, want 2", n)
	}
}
