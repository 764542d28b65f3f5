package sliconnector

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/genops-mesh/otelcol-genops/connector/sliconnector/internal/seriesstore"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// The connector is the last line before /metrics: whatever reached it, no
// counter goes non-finite or negative, no label carries a control
// character, and a flood of Host values cannot crowd real services out.

// A record that skipped the governance processor (or a future bug in it)
// cannot poison a counter: non-finite and negative costs are not counted,
// nor are negative or non-finite token counts.
func TestPoisonedNumbersAreNotCounted(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	ld := emptyLogs()
	for _, cost := range []any{math.Inf(1), math.NaN(), -1000.0, math.Inf(-1), "Inf", "-5", 0.25} {
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "genops.team": "t", "genops.cost.total": cost, "genops.cost.currency": "USD"})
	}
	for _, tokens := range []any{int64(-1_000_000_000_000), math.NaN(), math.Inf(1), 1e300, int64(7)} {
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "genops.team": "t", "gen_ai.usage.input_tokens": tokens, "gen_ai.request.model": "m"})
	}
	// A negative duration would lower the histogram's sum (read as a
	// counter reset); negative bytes would lower a byte counter
	// (outsider's finding: "duration":"-5000" in an access log line).
	for _, d := range []any{int64(-5000), "-5000", -1e12, int64(40)} {
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "genops.team": "d", "envoy.duration_ms": d})
	}
	for _, b := range []any{int64(-9), "-1", int64(100)} {
		genopsRecord(ld, map[string]any{"network.transport": "tcp", "envoy.direction": "inbound", "genops.team": "b", "envoy.bytes_sent": b, "envoy.bytes_received": b})
	}
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(render(t, c, sink), "\n")
	for _, want := range []string{
		`genops.cost{currency="USD",genops_team="t"} 0.25`,
		`genops.tokens{genops_team="t",model="m",token_type="input"} 7`,
		`genops.request.duration_sum{genops_team="d",reporter="destination"} 0.04`,
		`genops.request.duration_count{genops_team="d",reporter="destination"} 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s", want)
		}
	}
	for _, bad := range []string{"} +Inf", "} Inf", "NaN", "} -"} {
		if strings.Contains(got, bad) {
			t.Errorf("%q on /metrics:\n%s", bad, got)
		}
	}
}

// Control characters and invalid UTF-8 never reach a label, in any label
// (not only the governance dimensions).
func TestControlCharactersInLabels(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	ld := emptyLogs()
	for range 2 { // the second record finds the cleaned series
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "service.name": "n\x00ul\x1b[31m", "envoy.route_name": "r\xff\xfe", "k8s.namespace.name": "\x07"})
	}
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(render(t, c, sink), "\n")
	want := `genops.requests{availability="good",namespace="__overflow__",reporter="destination",response_code_class="2xx",route="r",service="nul[31m"} 2`
	if !strings.Contains(got, want) {
		t.Errorf("missing %s in\n%s", want, got)
	}
}

// One namespace that floods routes, models and series cannot push another
// namespace's new series into __overflow__: caps and the series bound
// count per namespace, and the flooding namespace's surplus lands in its
// own overflow series, namespace kept.
func TestCapsPerNamespace(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Cardinality.MaxSeries = 5_000
	cfg.Cardinality.MaxSeriesPerNamespace = 1_500
	cfg.Cardinality.Labels[semconv.LabelRoute] = 1_000
	c, sink := newTestConnector(t, cfg)
	ld := plog.NewLogs()
	in := func(ns string) plog.LogRecordSlice {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr(semconv.AttrK8sNamespace, ns)
		return rl.ScopeLogs().AppendEmpty().LogRecords()
	}
	flood := in("sandbox")
	for i := range 3_000 {
		// 3,000 routes, and 3,000 teams past the route cap: series too.
		_ = flood.AppendEmpty().Attributes().FromRaw(map[string]any{"http.response.status_code": 200,
			"envoy.route_name": fmt.Sprintf("r%d", i), "genops.team": fmt.Sprintf("t%d", i), "service.name": "x"})
	}
	victim := in("ai")
	_ = victim.AppendEmpty().Attributes().FromRaw(map[string]any{"http.response.status_code": 200,
		"envoy.route_name": "/v1/chat", "genops.team": "ml-platform", "service.name": "llm"})
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(render(t, c, sink), "\n")
	for _, want := range []string{
		`genops.requests{availability="good",genops_team="ml-platform",namespace="ai",reporter="destination",response_code_class="2xx",route="/v1/chat",service="llm"} 1`,
		// sandbox's own overflow: its first 1,500 series, then the rest.
		`genops.requests{app="__overflow__",availability="__overflow__",cluster="__overflow__",genops_cost_center="__overflow__",genops_customer_id="__overflow__",genops_customer_tier="__overflow__",genops_project="__overflow__",genops_team="__overflow__",namespace="sandbox",reporter="__overflow__",response_code_class="__overflow__",route="__overflow__",service="__overflow__",version="__overflow__"} 1500`,
		`genops.series.overflow{label="__all__",metric="genops.requests"} 1500`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s", want)
		}
	}
	n := 0
	c.requests.Each(func(s *seriesstore.Series) {
		if s.Values()[0] == "sandbox" { // requestLabels[0] is namespace
			n++
		}
	})
	if n != 1_501 {
		t.Errorf("sandbox has %d series, want 1,500 and its overflow series", n)
	}
	if t.Failed() {
		t.Log(got[:min(len(got), 2000)])
	}

	// The route cap alone, per namespace: 1,200 routes in sandbox fold 200;
	// ai's first route is still its own.
	cfg = createDefaultConfig().(*Config)
	cfg.Cardinality.Labels[semconv.LabelRoute] = 1_000
	c, sink = newTestConnector(t, cfg)
	ld = plog.NewLogs()
	flood = in("sandbox")
	for i := range 1_200 {
		_ = flood.AppendEmpty().Attributes().FromRaw(map[string]any{"http.response.status_code": 200, "envoy.route_name": fmt.Sprintf("r%d", i), "service.name": "x"})
	}
	victim = in("ai")
	_ = victim.AppendEmpty().Attributes().FromRaw(map[string]any{"http.response.status_code": 200, "envoy.route_name": "/v1/chat", "service.name": "llm"})
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	got = strings.Join(render(t, c, sink), "\n")
	for _, want := range []string{
		`genops.requests{availability="good",namespace="ai",reporter="destination",response_code_class="2xx",route="/v1/chat",service="llm"} 1`,
		`genops.requests{availability="good",namespace="sandbox",reporter="destination",response_code_class="2xx",route="__overflow__",service="x"} 200`,
		`genops.series.overflow{label="route",metric="genops.requests"} 200`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s", want)
		}
	}
}
