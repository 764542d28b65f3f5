package governanceprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Proxy metrics keep their names and labels and gain the genops labels of
// the destination workload (Istio's destination_workload, Linkerd's
// dst_deployment, or the scraped pod for Linkerd's inbound series) and,
// as source_genops_*, of the source workload.
func TestProxyMetrics(t *testing.T) {
	g := newTestGovernance(t, kubeConfig(), nil)
	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sum := sm.Metrics().AppendEmpty()
	sum.SetName("istio_requests_total")
	points := sum.SetEmptySum().DataPoints()
	add := func(labels map[string]string) {
		dp := points.AppendEmpty()
		for k, v := range labels {
			dp.Attributes().PutStr(k, v)
		}
	}
	add(map[string]string{"reporter": "destination", "destination_workload": "llm", "destination_workload_namespace": "ai",
		"source_workload": "curl-0", "source_workload_namespace": "sandbox", "response_code": "200"})
	add(map[string]string{"direction": "outbound", "dst_deployment": "llm", "dst_namespace": "ai"})
	add(map[string]string{"direction": "inbound", "namespace": "ai", "pod": "llm-5d-abc"})
	add(map[string]string{"destination_workload": "unknown", "destination_workload_namespace": "unknown"})
	// A fake proxy in sandbox reports as the destination and names the
	// llm workload, with genops labels of its own: the series is its own
	// pod's (the scraped one), the labels it wrote are gone.
	add(map[string]string{"reporter": "destination", "destination_workload": "llm", "destination_workload_namespace": "ai",
		"namespace": "sandbox", "pod": "curl-0", "genops_team": "billing", "genops_cost_center": "cc-victim", "source_genops_team": "x"})
	hist := sm.Metrics().AppendEmpty()
	hist.SetName("istio_request_duration_milliseconds")
	hdp := hist.SetEmptyHistogram().DataPoints().AppendEmpty()
	hdp.Attributes().PutStr("destination_workload", "llm")
	hdp.Attributes().PutStr("destination_workload_namespace", "ai")

	out, err := g.processMetrics(context.Background(), md)
	if err != nil {
		t.Fatal(err)
	}
	got := out.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	dest := map[string]any{"genops_team": "ml-platform", "genops_project": "support-bot", "genops_cost_center": "cc-ai"}
	for i, want := range []map[string]any{
		{"genops_team": "ml-platform", "genops_project": "support-bot", "genops_cost_center": "cc-ai", "source_genops_team": "sandbox-team", "response_code": "200"},
		dest, dest, {},
		{"genops_team": "sandbox-team", "genops_cost_center": nil, "source_genops_team": nil},
	} {
		attrs := got.At(0).Sum().DataPoints().At(i).Attributes().AsRaw()
		for k, v := range want {
			if attrs[k] != v {
				t.Errorf("point %d: %s = %v, want %v (%v)", i, k, attrs[k], v, attrs)
			}
		}
		if _, ok := attrs["genops_team"]; len(want) == 0 && ok {
			t.Errorf("point %d: an unknown workload got a team: %v", i, attrs)
		}
		if _, ok := attrs["genops_customer_id"]; ok {
			t.Errorf("point %d: metrics have no customer: %v", i, attrs)
		}
	}
	if v, _ := got.At(1).Histogram().DataPoints().At(0).Attributes().Get("genops_team"); v.Str() != "ml-platform" {
		t.Errorf("histogram point: team %q", v.Str())
	}
	if got.At(0).Name() != "istio_requests_total" {
		t.Error("the metric was renamed")
	}
}
