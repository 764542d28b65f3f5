package sliconnector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/genops-mesh/otelcol-genops/connector/sliconnector/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// Envoy durations are whole milliseconds and SLO thresholds are bucket
// bounds: a request that took exactly a bound is within it (le is "less
// than or equal"), one millisecond more is not.
func TestDurationOnEachBound(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.SLOFile = filepath.Join("..", "..", "config", "slo.yaml")
	cfg.Histogram.Buckets = []time.Duration{250 * time.Millisecond, time.Second}
	c, sink := newTestConnector(t, cfg)
	ld := emptyLogs()
	for _, ms := range []int{250, 251, 500, 501, 1000, 1001, 2000, 2001} {
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "envoy.duration_ms": ms})
	}
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range render(t, c, sink) {
		if strings.HasPrefix(l, "genops.request.duration_bucket") {
			got = append(got, l)
		}
	}
	want := []string{
		`genops.request.duration_bucket{le="+Inf",reporter="destination"} 8`,
		`genops.request.duration_bucket{le="0.25",reporter="destination"} 1`,
		`genops.request.duration_bucket{le="0.5",reporter="destination"} 3`,
		`genops.request.duration_bucket{le="1",reporter="destination"} 5`,
		`genops.request.duration_bucket{le="2",reporter="destination"} 7`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Between two flushes a series keeps the latest traced record's exemplar:
// the one a person clicking the panel wants to see.
func TestLatestExemplar(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	ld := emptyLogs()
	for i := range byte(3) {
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "envoy.duration_ms": 700})
		ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(int(i)).SetTraceID(pcommon.TraceID{i + 1})
	}
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	for name, exs := range firstPointExemplars(t, c, sink) {
		if exs.Len() != 1 || exs.At(0).TraceID() != (pcommon.TraceID{3}) {
			t.Errorf("%s: exemplar %v, want the third record's trace", name, exs.At(0).TraceID())
		}
	}
}

// Each failure flag by name makes a 200 bad; flags outside the set
// (client-side, policy, injected faults) do not.
func TestEachFailureFlag(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	c := classifier{failureFlags: cfg.Availability.failureSet()}
	for _, f := range []string{"UH", "UF", "UO", "UT", "LR", "UR", "UC", "URX", "NC", "NR", "DF", "DO", "OM", "UPE", "UMSDR", "DT", "RLSE", "LH"} {
		if !c.bad(200, f) || !c.bad(200, "DC,"+f) {
			t.Errorf("flag %s is not a failure", f)
		}
	}
	if len(semconv.FailureFlags) != 18 {
		t.Errorf("semconv.FailureFlags has %d flags; this test names 18", len(semconv.FailureFlags))
	}
	for _, f := range []string{"-", "DC", "DPE", "IH", "SI", "RL", "UAEX", "FI", "DI", "RFCF"} {
		if c.bad(200, f) {
			t.Errorf("flag %s is a failure by default", f)
		}
	}
	if c.bad(499, "-") || !c.bad(500, "-") || !c.bad(599, "-") || c.bad(600, "-") {
		t.Error("only 500 to 599 are bad by status")
	}
}

func Example_failureFlags() {
	fmt.Println(strings.Join(semconv.FailureFlags, " "))
	// Output: UH UF UO UT LR UR UC URX NC NR DF DO OM UPE UMSDR DT RLSE LH
}

// A request of an hour or more lands in the exponential histogram's last
// bucket (durations are clamped to 1h), which exists.
func TestExponentialLongestRequest(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Histogram.Exponential.Enabled = true
	c, sink := newTestConnector(t, cfg)
	ld := emptyLogs()
	for _, ms := range []int64{3_600_000, 7_200_000} {
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "envoy.duration_ms": ms})
	}
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range render(t, c, sink) {
		found = found || strings.HasPrefix(l, "genops.requests{")
	}
	if !found {
		t.Error("no request counted")
	}
}

// A label value of exactly cardinality.max_value_length bytes is kept;
// one byte more is folded.
func TestValueLengthLimit(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Cardinality.MaxValueLength = 8
	c, sink := newTestConnector(t, cfg)
	ld := emptyLogs()
	genopsRecord(ld, map[string]any{"http.response.status_code": 200, "genops.team": "abcdefgh"})
	genopsRecord(ld, map[string]any{"http.response.status_code": 200, "genops.team": "abcdefghi"})
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(render(t, c, sink), "\n")
	if !strings.Contains(got, `genops_team="abcdefgh"`) || strings.Contains(got, `genops_team="abcdefghi"`) {
		t.Errorf("limit 8:\n%s", got)
	}
}

// Status codes on each bound of a class.
func TestCodeClassBounds(t *testing.T) {
	for status, want := range map[int64]string{99: "0xx", 100: "1xx", 199: "1xx", 200: "2xx", 599: "5xx", 600: "0xx", 0: "0xx"} {
		if got := codeClasses[codeClassIndex(status)]; got != want {
			t.Errorf("status %d: %s, want %s", status, got, want)
		}
	}
}

// The exponential histogram sends only the span of buckets in use: its
// first and last buckets hold requests.
func TestExponentialSpanTrimmed(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Histogram.Exponential.Enabled = true
	c, sink := newTestConnector(t, cfg)
	ld := emptyLogs()
	for _, ms := range []int64{100, 2500} {
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "envoy.duration_ms": ms})
	}
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	sink.Reset()
	if err := c.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, m := range sink.AllMetrics()[0].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().All() {
		if m.Name() != "genops.request.duration.exponential" {
			continue
		}
		counts := m.ExponentialHistogram().DataPoints().At(0).Positive().BucketCounts().AsRaw()
		if len(counts) < 2 || counts[0] == 0 || counts[len(counts)-1] == 0 {
			t.Errorf("buckets %v: the span is not trimmed to the buckets in use", counts)
		}
		return
	}
	t.Error("no exponential histogram")
}

// Records that state only output tokens (no input, no cost) keep their
// model apart in the combination cache.
func TestOutputTokensOnlyByModel(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	ld := emptyLogs()
	for _, model := range []string{"model-a", "model-b", "model-a"} {
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "service.name": "llm",
			"gen_ai.provider.name": "self", "gen_ai.response.model": model, "gen_ai.usage.output_tokens": 5})
	}
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(render(t, c, sink), "\n")
	for _, want := range []string{`model="model-a"`, `model="model-b"`} {
		if !strings.Contains(got, want) {
			t.Errorf("%s missing:\n%s", want, got)
		}
	}
}

// Each bound of the connector's settings, on both sides.
func TestConfigBounds(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Histogram.Exponential.Scale = 0 }, ""},
		{func(c *Config) { c.Histogram.Exponential.Scale = 5 }, ""},
		{func(c *Config) { c.Histogram.Exponential.Scale = -1 }, "histogram.exponential.scale: -1 is outside 0 to 5"},
		{func(c *Config) { c.Histogram.Exponential.Scale = 6 }, "histogram.exponential.scale: 6 is outside 0 to 5"},
		{func(c *Config) { c.Cardinality.MaxSeries = 1 }, ""},
		{func(c *Config) { c.Cardinality.MaxSeries = 0 }, "cardinality.max_series: must be at least 1, got 0"},
		{func(c *Config) { c.Cardinality.MaxSeriesPerNamespace = 0 }, ""},
		{func(c *Config) { c.Cardinality.MaxSeriesPerNamespace = -1 }, "cardinality.max_series_per_namespace: must not be negative"},
		{func(c *Config) { c.Cardinality.MaxValueLength = 0 }, ""},
		{func(c *Config) { c.Cardinality.MaxValueLength = -1 }, "cardinality.max_value_length: must not be negative"},
		{func(c *Config) { c.Cardinality.Labels = map[string]int{"genops_customer_id": 1} }, ""},
		{func(c *Config) { c.Cardinality.Labels = map[string]int{"genops_customer_id": 0} }, "cardinality.labels.genops_customer_id: must be at least 1, got 0"},
		{func(c *Config) { c.Expiry = 0 }, ""},
		{func(c *Config) { c.Expiry = -time.Second }, "expiry: must not be negative"},
	} {
		cfg := createDefaultConfig().(*Config)
		tc.edit(cfg)
		err := cfg.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
}

// A request of 0 ms is a duration (the fastest bucket); a cost given as
// text is a cost; the resource's version is the version.
func TestEdgeValues(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	ld := emptyLogs()
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr("version", "v7")
	genopsRecord(ld, map[string]any{"http.response.status_code": 200, "envoy.duration_ms": 0, "service.name": "llm",
		"genops.cost.total": "0.5", "genops.cost.currency": "USD", "gen_ai.provider.name": "self", "gen_ai.response.model": "m"})
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(render(t, c, sink), "\n")
	for _, want := range []string{`genops.request.duration_count{`, `genops.cost{`, `version="v7"`} {
		if !strings.Contains(got, want) {
			t.Errorf("%s missing:\n%s", want, got)
		}
	}
	if !strings.Contains(got, `} 0.5`) {
		t.Errorf("the cost 0.5 given as text is not counted:\n%s", got)
	}
}

// With expiry 0 series never expire: they are sent on every flush.
func TestNoExpiry(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Expiry = 0
	c, sink := newTestConnector(t, cfg)
	clock := newTestClock()
	c.agg.SetClock(clock.Now)
	ld := emptyLogs()
	genopsRecord(ld, map[string]any{"http.response.status_code": 200, "service.name": "llm"})
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	first := render(t, c, sink)
	clock.Advance(24 * time.Hour)
	if second := render(t, c, sink); len(second) == 0 || len(second) != len(first) {
		t.Errorf("with expiry 0 a flush lost series: %d, then %d", len(first), len(second))
	}
}

// A zero is no traffic: a connection that received nothing makes no
// received-bytes series, a call with no input tokens no input-token
// series (a series of zeros would show a team in a chart it never used).
func TestZeroMakesNoSeries(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	ld := emptyLogs()
	genopsRecord(ld, map[string]any{"network.transport": "tcp", "envoy.direction": "inbound", "genops.team": "a",
		"envoy.bytes_sent": 100, "envoy.bytes_received": 0})
	genopsRecord(ld, map[string]any{"http.response.status_code": 200, "genops.team": "a", "genops.cost.total": 0.25,
		"gen_ai.usage.input_tokens": 0, "gen_ai.usage.output_tokens": 5, "gen_ai.response.model": "m"})
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(render(t, c, sink), "\n")
	for _, want := range []string{`direction="sent"`, `token_type="output"`} {
		if !strings.Contains(got, want) {
			t.Errorf("no %s series:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{`direction="received"`, `token_type="input"`} {
		if strings.Contains(got, unwanted) {
			t.Errorf("a %s series for a zero:\n%s", unwanted, got)
		}
	}
}

// A span whose end is its start took 0 s: it is observed in the first
// bucket; a span without a start time has no duration.
func TestZeroLengthSpan(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	at := pcommon.NewTimestampFromTime(time.Unix(1_700_000_000, 0))
	for _, start := range []pcommon.Timestamp{at, 0} {
		s := spans.AppendEmpty()
		s.SetKind(ptrace.SpanKindServer)
		s.SetStartTimestamp(start)
		s.SetEndTimestamp(at)
		s.Attributes().PutInt("http.response.status_code", 200)
	}
	if err := c.ConsumeTraces(context.Background(), sidedSpans(td)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(render(t, c, sink), "\n")
	for _, want := range []string{
		`genops.requests{availability="good",reporter="destination",response_code_class="2xx",service="checkout"} 2`,
		`genops.request.duration_count{reporter="destination",service="checkout"} 1`,
		`genops.request.duration_bucket{le="0.005",reporter="destination",service="checkout"} 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s:\n%s", want, got)
		}
	}
}

// A stated cost is counted from 0 to the largest finite value; below
// zero or not finite it is no cost.
func TestCostBounds(t *testing.T) {
	for _, tc := range []struct {
		cost    float64
		counted bool
	}{{0, true}, {math.MaxFloat64, true}, {-0.01, false}, {math.Inf(1), false}, {math.NaN(), false}} {
		c, sink := newTestConnector(t, createDefaultConfig().(*Config))
		ld := emptyLogs()
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "genops.team": "a", "genops.cost.total": tc.cost})
		if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(render(t, c, sink), "\n")
		if strings.Contains(got, "genops.cost{") != tc.counted {
			t.Errorf("cost %v counted %v, want %v:\n%s", tc.cost, !tc.counted, tc.counted, got)
		}
	}
}

// A flush the next consumer refuses is logged as a warning and the loop
// goes on: the series stay and are sent again on the next flush.
func TestFlushLoopLogsRefusal(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	set := connectortest.NewNopSettings(metadata.Type)
	set.ID = component.MustNewIDWithName("sli", "refused")
	set.Logger = zap.New(core)
	cfg := createDefaultConfig().(*Config)
	cfg.FlushInterval = 10 * time.Millisecond
	refusing := consumertest.NewErr(errors.New("queue full"))
	c, err := NewFactory().CreateLogsToMetrics(context.Background(), set, cfg, refusing)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Shutdown(context.Background()) }()
	ld := emptyLogs()
	genopsRecord(ld, map[string]any{"http.response.status_code": 200, "service.name": "llm"})
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second) // a bound on waiting for two 10 ms ticks, not a performance threshold
	for logs.FilterMessage("sending SLI metrics failed").Len() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no two warnings of refused flushes: %v", logs.All())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if e := logs.FilterMessage("sending SLI metrics failed").All()[0]; e.ContextMap()["error"] != "queue full" {
		t.Errorf("warning without the error: %v", e.ContextMap())
	}
}
