package governanceprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// proxySeries builds one istio_requests_total point per label set (each a
// scraped series: namespace and pod are the target's, set by the scrape
// configuration) and one histogram point.
func proxySeries(points []map[string]string, hist map[string]string) pmetric.Metrics {
	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sum := sm.Metrics().AppendEmpty()
	sum.SetName("istio_requests_total")
	dps := sum.SetEmptySum().DataPoints()
	for _, labels := range points {
		dp := dps.AppendEmpty()
		for k, v := range labels {
			dp.Attributes().PutStr(k, v)
		}
	}
	if hist != nil {
		h := sm.Metrics().AppendEmpty()
		h.SetName("istio_request_duration_milliseconds")
		hdp := h.SetEmptyHistogram().DataPoints().AppendEmpty()
		for k, v := range hist {
			hdp.Attributes().PutStr(k, v)
		}
	}
	return md
}

// checkPoints compares each kept point's labels with want (nil: absent).
func checkPoints(t *testing.T, m pmetric.Metric, want []map[string]any) {
	t.Helper()
	if n := m.Sum().DataPoints().Len(); n != len(want) {
		t.Fatalf("%d points kept, want %d", n, len(want))
	}
	for i, w := range want {
		attrs := m.Sum().DataPoints().At(i).Attributes().AsRaw()
		for k, v := range w {
			if attrs[k] != v {
				t.Errorf("point %d: %s = %v, want %v (%v)", i, k, attrs[k], v, attrs)
			}
		}
		if _, ok := attrs["genops_customer_id"]; ok {
			t.Errorf("point %d: metrics have no customer: %v", i, attrs)
		}
	}
}

// Proxy metrics keep their names and labels and gain the genops labels of
// the destination workload (Istio's destination_workload, Linkerd's
// dst_deployment, or the scraped pod for Linkerd's inbound series) and,
// as source_genops_*, of the source workload; the side named by Istio's
// reporter is the scraped pod.
func TestProxyMetrics(t *testing.T) {
	tt := newTelemetry(t)
	g := newTestGovernance(t, kubeConfig(), tt)
	llm := map[string]string{"namespace": "ai", "pod": "llm-5d-abc"}
	curl := map[string]string{"namespace": "sandbox", "pod": "curl-0"}
	with := func(target map[string]string, labels map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range target {
			out[k] = v
		}
		for k, v := range labels {
			out[k] = v
		}
		return out
	}
	md := proxySeries([]map[string]string{
		with(llm, map[string]string{"reporter": "destination", "destination_workload": "llm", "destination_workload_namespace": "ai",
			"source_workload": "curl-0", "source_workload_namespace": "sandbox", "response_code": "200"}),
		// Linkerd outbound from curl names its destination; inbound names none.
		with(curl, map[string]string{"direction": "outbound", "dst_deployment": "llm", "dst_namespace": "ai"}),
		with(llm, map[string]string{"direction": "inbound"}),
		// The source reports a destination no one knows: only its own side.
		with(curl, map[string]string{"reporter": "source", "destination_workload": "unknown", "destination_workload_namespace": "unknown"}),
		// A real sidecar that reports as the destination but names the llm
		// workload, with genops labels of its own: the series is its own
		// pod's, the labels it wrote are gone.
		with(curl, map[string]string{"reporter": "destination", "destination_workload": "llm", "destination_workload_namespace": "ai",
			"genops_team": "billing", "genops_cost_center": "cc-victim", "source_genops_team": "x"}),
	}, with(llm, map[string]string{"destination_workload": "llm", "destination_workload_namespace": "ai"}))

	out, err := g.processMetrics(context.Background(), md)
	if err != nil {
		t.Fatal(err)
	}
	got := out.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	dest := map[string]any{"genops_team": "ml-platform", "genops_project": "support-bot", "genops_cost_center": "cc-ai"}
	checkPoints(t, got.At(0), []map[string]any{
		{"genops_team": "ml-platform", "genops_project": "support-bot", "genops_cost_center": "cc-ai", "source_genops_team": "sandbox-team", "response_code": "200"},
		dest, dest,
		{"genops_team": nil, "source_genops_team": "sandbox-team"},
		{"genops_team": "sandbox-team", "genops_cost_center": nil, "genops_project": nil, "source_genops_team": nil},
	})
	if v, _ := got.At(1).Histogram().DataPoints().At(0).Attributes().Get("genops_team"); v.Str() != "ml-platform" {
		t.Errorf("histogram point: team %q", v.Str())
	}
	if got.At(0).Name() != "istio_requests_total" {
		t.Error("the metric was renamed")
	}
	// Every series came from a real proxy: no refusal is counted, not
	// even as a zero (a series of zeros says a check ran and refused).
	for _, reason := range []string{"forged", "unverified"} {
		if rejectedSeries(t, tt, "proxy", reason) {
			t.Errorf("a proxy/%s refusal series with nothing refused", reason)
		}
	}
}

// Any pod can serve a port named istio-proxy (or linkerd-proxy) and fill it
// with series that name another team's workload. Only pods whose proxy the
// platform injected are read; the others' series are dropped and counted,
// and a metric left without points is dropped with them.
func TestProxyMetricsOnlyFromRealProxies(t *testing.T) {
	tt := newTelemetry(t)
	g := newTestGovernance(t, kubeConfig(), tt)
	forge := map[string]string{"reporter": "source", "destination_workload": "llm", "destination_workload_namespace": "ai", "response_code": "503"}
	target := func(ns, pod string) map[string]string {
		out := map[string]string{"namespace": ns, "pod": pod}
		for k, v := range forge {
			out[k] = v
		}
		return out
	}
	md := proxySeries([]map[string]string{
		target("sandbox", "rogue-0"), // a container named istio-proxy, no sidecar
		target("byo", "selfmade-0"),  // marks itself, namespace without injection
		target("ai", "gone-0"),       // no such pod
		{"reporter": "destination"},  // no target labels at all
		target("sandbox", "curl-0"),  // a real sidecar: kept
	}, target("sandbox", "rogue-0"))
	out, err := g.processMetrics(context.Background(), md)
	if err != nil {
		t.Fatal(err)
	}
	got := out.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	if got.Len() != 1 {
		t.Fatalf("%d metrics left, want 1 (the histogram had only a forged point)", got.Len())
	}
	checkPoints(t, got.At(0), []map[string]any{{"pod": "curl-0", "source_genops_team": "sandbox-team", "genops_team": "ml-platform"}})
	if n := rejected(t, tt, "proxy", "forged"); n != 3 {
		t.Errorf("rejected proxy/forged = %d, want 3", n)
	}
	if n := rejected(t, tt, "proxy", "unverified"); n != 2 {
		t.Errorf("rejected proxy/unverified = %d, want 2", n)
	}
}

// Over the network (OTLP metrics), the reporting pod is the one at the
// connection's address, whatever namespace and pod the series name.
func TestProxyMetricsOverTheNetwork(t *testing.T) {
	tt := newTelemetry(t)
	g := newTestGovernance(t, kubeConfig(), tt)
	claim := map[string]string{"namespace": "ai", "pod": "llm-5d-abc", "reporter": "destination", "destination_workload": "llm", "destination_workload_namespace": "ai"}
	for _, tc := range []struct {
		from string
		team any // nil: dropped
	}{
		{"10.0.0.66", "sandbox-team"}, // curl-0, a real sidecar
		{"10.0.0.68", nil},            // rogue-0, no sidecar
		{"10.9.9.9", nil},             // no pod
	} {
		out, err := g.processMetrics(from(tc.from), proxySeries([]map[string]string{claim}, nil))
		if err != nil {
			t.Fatal(err)
		}
		ms := out.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
		if tc.team == nil {
			if ms.Len() != 0 {
				t.Errorf("from %s: series kept", tc.from)
			}
			continue
		}
		checkPoints(t, ms.At(0), []map[string]any{{"namespace": "sandbox", "pod": "curl-0", "genops_team": tc.team, "genops_project": nil}})
	}
	if rejected(t, tt, "proxy", "forged") != 1 || rejected(t, tt, "proxy", "unverified") != 1 {
		t.Errorf("refusals not counted: forged %d, unverified %d", rejected(t, tt, "proxy", "forged"), rejected(t, tt, "proxy", "unverified"))
	}
}

// A forged proxy's series are dropped whatever their type: gauges,
// exponential histograms and summaries too, and a metric left without
// points goes with them.
func TestForgedProxyEveryMetricType(t *testing.T) {
	g := newTestGovernance(t, kubeConfig(), nil)
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	rogue := func(attrs pcommon.Map) {
		attrs.PutStr("namespace", "sandbox")
		attrs.PutStr("pod", "rogue-0")
	}
	g1 := ms.AppendEmpty()
	g1.SetName("envoy_server_live")
	rogue(g1.SetEmptyGauge().DataPoints().AppendEmpty().Attributes())
	e := ms.AppendEmpty()
	e.SetName("istio_request_duration_seconds")
	rogue(e.SetEmptyExponentialHistogram().DataPoints().AppendEmpty().Attributes())
	s := ms.AppendEmpty()
	s.SetName("envoy_latency")
	rogue(s.SetEmptySummary().DataPoints().AppendEmpty().Attributes())
	kept := ms.AppendEmpty()
	kept.SetName("envoy_server_uptime")
	dp := kept.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.Attributes().PutStr("namespace", "sandbox")
	dp.Attributes().PutStr("pod", "curl-0")
	out, err := g.processMetrics(context.Background(), md)
	if err != nil {
		t.Fatal(err)
	}
	got := out.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	if got.Len() != 1 || got.At(0).Name() != "envoy_server_uptime" {
		var names []string
		for _, m := range got.All() {
			names = append(names, m.Name())
		}
		t.Errorf("metrics left %v, want only the real proxy's envoy_server_uptime", names)
	}
}
