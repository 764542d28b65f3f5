package sliconnector

import (
	"context"
	"flag"
	"fmt"
	"github.com/genops-mesh/otelcol-genops/test/golden"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/genops-mesh/otelcol-genops/connector/sliconnector/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/internal/accesslog"
	"github.com/genops-mesh/otelcol-genops/internal/fixtures"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var testID = 0

// newTestConnector returns a started connector and the sink its metrics go
// to. Each gets its own component id: instances are shared by id.
func newTestConnector(t *testing.T, cfg *Config) (*sliConnector, *consumertest.MetricsSink) {
	t.Helper()
	testID++
	set := connectortest.NewNopSettings(metadata.Type)
	set.ID = component.MustNewIDWithName("sli", strconv.Itoa(testID))
	sink := new(consumertest.MetricsSink)
	c, err := NewFactory().CreateLogsToMetrics(context.Background(), set, cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	return c.(instance).Unwrap(), sink
}

// testClock is a clock the test moves: set it as a connector's now.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// render flushes and returns every emitted series as sorted text lines,
// Prometheus style: histograms as cumulative _bucket{le=...}, _count, _sum.
func render(t *testing.T, c *sliConnector, sink *consumertest.MetricsSink) []string {
	t.Helper()
	sink.Reset()
	if err := c.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return golden.Series(sink.AllMetrics()...)
}

func compareGolden(t *testing.T, name string, got []string) {
	t.Helper()
	golden.Compare(t, filepath.Join("testdata", "golden", name+".txt"), got, *update)
}

// logsFromLines parses access log lines as the mesh_access_log receiver
// does, under a resource naming the pod whose sidecar wrote them.
func logsFromLines(t *testing.T, format string, lines []string, resource map[string]any, extra map[string]any) plog.Logs {
	t.Helper()
	p, err := accesslog.New(format, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	if err := rl.Resource().Attributes().FromRaw(resource); err != nil {
		t.Fatal(err)
	}
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	var fields accesslog.Fields
	for _, l := range lines {
		if err := p.Parse(l, &fields); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		lr := lrs.AppendEmpty()
		if err := p.WriteRecord(&fields, lr); err != nil {
			t.Fatal(err)
		}
		for k, v := range extra {
			_ = lr.Attributes().PutEmpty(k).FromRaw(v)
		}
	}
	return ld
}

// sided gives every record without one the side the governance
// processor gives a sidecar's record (processor/governanceprocessor,
// identity.go): the caller's for an outbound record, else the
// destination's. The connector counts records by it and decides nothing.
func sided(ld plog.Logs) plog.Logs {
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				a := lr.Attributes()
				if _, ok := a.Get(semconv.AttrSide); ok {
					continue
				}
				side := semconv.SideDestination
				if d, _ := a.Get(semconv.AttrEnvoyDirection); d.Str() == semconv.DirectionOutbound {
					side = semconv.SideSource
				}
				a.PutStr(semconv.AttrSide, side)
			}
		}
	}
	return ld
}

// sidedSpans gives SERVER and CLIENT spans without one the side the
// governance processor gives them.
func sidedSpans(td ptrace.Traces) ptrace.Traces {
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				a := span.Attributes()
				if _, ok := a.Get(semconv.AttrSide); ok {
					continue
				}
				switch span.Kind() {
				case ptrace.SpanKindServer:
					a.PutStr(semconv.AttrSide, semconv.SideDestination)
				case ptrace.SpanKindClient:
					a.PutStr(semconv.AttrSide, semconv.SideSource)
				}
			}
		}
	}
	return td
}

func fixtureLines(t *testing.T, file string) []string {
	return fixtures.Lines(t, "envoy-access-logs", file)
}

// The exact series emitted for the real sample lines, for each reporter
// setting. istio-io-access-log-task.log holds one request logged by both
// sidecars: by default it counts once.
func TestFixtureSeries(t *testing.T) {
	for _, tc := range []struct {
		name, file, reporter string
		resource             map[string]any
		hostService          bool
	}{
		{"access-log-task-destination", "istio-io-access-log-task.log", ReporterDestination,
			map[string]any{"k8s.namespace.name": "foo", "app": "httpbin", "version": "v1", "service.name": "httpbin"}, false},
		{"access-log-task-both", "istio-io-access-log-task.log", ReporterBoth,
			map[string]any{"k8s.namespace.name": "foo", "app": "httpbin", "version": "v1", "service.name": "httpbin"}, false},
		// Outbound records (these lines' shape) from a client's sidecar:
		// the service is the one their Host header names (these name no
		// port, and no service in the cluster).
		{"outbound-source", "istio-io-egress-gateway-default.log", ReporterSource,
			map[string]any{"k8s.namespace.name": "sleep", "app": "curl"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.Reporter = tc.reporter
			c, sink := newTestConnector(t, cfg)
			ld := logsFromLines(t, "istio", fixtureLines(t, tc.file), tc.resource, nil)
			if tc.hostService {
				for _, lr := range ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().All() {
					if host, ok := lr.Attributes().Get("server.address"); ok {
						lr.Attributes().PutStr("service.name", host.Str())
					}
				}
			}
			if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
				t.Fatal(err)
			}
			compareGolden(t, tc.name, render(t, c, sink))
		})
	}
}

// Hand-checked: the inbound record of the sample, counted once.
func TestOnceOnly(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	ld := logsFromLines(t, "istio", fixtureLines(t, "istio-io-access-log-task.log"),
		map[string]any{"k8s.namespace.name": "foo", "app": "httpbin", "service.name": "httpbin"}, nil)
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(render(t, c, sink), "\n")
	want := `genops.requests{app="httpbin",availability="good",namespace="foo",reporter="destination",response_code_class="4xx",route="default",service="httpbin"} 1`
	if !strings.Contains(got, want) {
		t.Fatalf("missing\n%s\nin\n%s", want, got)
	}
	if strings.Contains(got, `reporter="source"`) {
		t.Fatalf("the client sidecar's record was counted:\n%s", got)
	}
}

// ztunnel's L4 records (ambient mode) are connections, not HTTP
// requests: the whole real sample makes no request series, and its bytes
// count in genops.tcp.bytes, each way, once (the destination's ztunnel,
// direction inbound, by default).
func TestZtunnelRecordsCountBytesNotRequests(t *testing.T) {
	lines := fixtureLines(t, "kiali-ztunnel.log")
	var wantSent, wantReceived float64
	for _, l := range lines {
		if !strings.Contains(l, `direction="inbound"`) {
			continue
		}
		for _, kv := range strings.Fields(l) {
			if v, ok := strings.CutPrefix(kv, "bytes_sent="); ok {
				n, _ := strconv.ParseFloat(v, 64)
				wantSent += n
			}
			if v, ok := strings.CutPrefix(kv, "bytes_recv="); ok {
				n, _ := strconv.ParseFloat(v, 64)
				wantReceived += n
			}
		}
	}
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	if err := c.ConsumeLogs(context.Background(), sided(logsFromLines(t, "ztunnel", lines, nil, nil))); err != nil {
		t.Fatal(err)
	}
	rendered := render(t, c, sink)
	var sent, received float64
	for _, line := range rendered {
		if strings.HasPrefix(line, "genops.requests{") {
			t.Fatalf("L4 connection counted as a request: %s", line)
		}
		if !strings.HasPrefix(line, "genops.tcp.bytes{") {
			continue
		}
		if !strings.Contains(line, `reporter="destination"`) || !strings.Contains(line, `namespace="`) {
			t.Errorf("series %s", line)
		}
		v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		switch {
		case strings.Contains(line, `direction="sent"`):
			sent += v
		case strings.Contains(line, `direction="received"`):
			received += v
		}
	}
	if wantSent == 0 || sent != wantSent || received != wantReceived {
		t.Errorf("bytes sent %v received %v, want %v and %v:\n%s", sent, received, wantSent, wantReceived, strings.Join(rendered, "\n"))
	}
}

func TestAvailability(t *testing.T) {
	def := createDefaultConfig().(*Config)
	withClasses := createDefaultConfig().(*Config)
	withClasses.Availability.ClientSide, withClasses.Availability.Policy, withClasses.Availability.InjectedFaults, withClasses.Availability.Count429 = true, true, true, true
	for _, tc := range []struct {
		status       int64
		flags        string
		bad, badWith bool
	}{
		{200, "-", false, false},
		{503, "-", true, true},
		{503, "UF,URX", true, true},
		{0, "UF", true, true},
		{200, "UT", true, true},
		{0, "DC", false, true},
		{400, "DPE", false, true},
		{429, "RL", false, true},
		{403, "UAEX", false, true},
		{503, "FI", true, true},
		{200, "DI", false, true},
		{429, "-", false, true},
		{404, "NR", true, true},
		{200, "RFCF", false, false},
	} {
		for _, x := range []struct {
			cfg  *Config
			want bool
		}{{def, tc.bad}, {withClasses, tc.badWith}} {
			c := classifier{failureFlags: x.cfg.Availability.failureSet(), count429: x.cfg.Availability.Count429}
			if got := c.bad(tc.status, tc.flags); got != x.want {
				t.Errorf("status %d flags %q (classes %v): bad=%v, want %v", tc.status, tc.flags, x.cfg.Availability.ClientSide, got, x.want)
			}
		}
	}
}

func genopsRecord(ld plog.Logs, attrs map[string]any) {
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty()
	_ = lr.Attributes().FromRaw(attrs)
}

func emptyLogs() plog.Logs {
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	return ld
}

// Cost and tokens from the governance attributes, with the contract's
// labels; absent labels are left out, never "unknown".
func TestCostAndTokens(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	ld := emptyLogs()
	for i, team := range []string{"ml-platform", "ml-platform", "search"} {
		genopsRecord(ld, map[string]any{
			"envoy.direction": "inbound", "http.response.status_code": 200, "envoy.duration_ms": 1500,
			"genops.team": team, "genops.customer_id": fmt.Sprintf("cust-%d", i%2), "genops.cost.total": 0.25,
			"genops.cost.currency": "USD", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
			"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 20, "service.name": "llm",
		})
	}
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(render(t, c, sink), "\n")
	for _, want := range []string{
		`genops.cost{currency="USD",genops_customer_id="cust-0",genops_team="ml-platform",model="gpt-4o-mini",provider="openai"} 0.25`,
		`genops.cost{currency="USD",genops_customer_id="cust-1",genops_team="ml-platform",model="gpt-4o-mini",provider="openai"} 0.25`,
		`genops.cost{currency="USD",genops_customer_id="cust-0",genops_team="search",model="gpt-4o-mini",provider="openai"} 0.25`,
		`genops.tokens{genops_customer_id="cust-0",genops_team="ml-platform",model="gpt-4o-mini",provider="openai",token_type="input"} 100`,
		`genops.tokens{genops_customer_id="cust-0",genops_team="search",model="gpt-4o-mini",provider="openai",token_type="output"} 20`,
		`genops.request.duration_bucket{genops_team="ml-platform",le="1",reporter="destination",service="llm"} 0`,
		`genops.request.duration_bucket{genops_team="ml-platform",le="2.5",reporter="destination",service="llm"} 2`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(got, "unknown") {
		t.Error("an absent label became a value")
	}
	if t.Failed() {
		t.Log(got)
	}
}

// 1,500 customers with a cap of 1,000: the first 1,000 keep their series,
// the rest fold into __overflow__, and the fold is counted per metric and
// label. A metric at max_series folds whole series.
func TestCardinalityCaps(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Cardinality.MaxSeries = 2_000
	c, sink := newTestConnector(t, cfg)
	ld := emptyLogs()
	for i := range 1_500 {
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "genops.customer_id": fmt.Sprintf("c%04d", i), "genops.cost.total": 1.0})
	}
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	if n := c.requests.Len(); n != 1_001 {
		t.Errorf("requests has %d series, want 1,000 customers and __overflow__", n)
	}
	got := strings.Join(render(t, c, sink), "\n")
	for _, want := range []string{
		`genops.requests{availability="good",genops_customer_id="__overflow__",reporter="destination",response_code_class="2xx"} 500`,
		`genops.series.overflow{label="genops_customer_id",metric="genops.requests"} 500`,
		`genops.series.overflow{label="genops_customer_id",metric="genops.cost"} 500`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s", want)
		}
	}

	cfg = createDefaultConfig().(*Config)
	cfg.Cardinality.MaxSeries = 10
	c, sink = newTestConnector(t, cfg)
	ld = emptyLogs()
	for i := range 25 {
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "genops.team": fmt.Sprintf("team-%d", i)})
	}
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	if n := c.requests.Len(); n != 11 {
		t.Errorf("requests has %d series, want 10 and one overflow series", n)
	}
	got = strings.Join(render(t, c, sink), "\n")
	if !strings.Contains(got, `genops.series.overflow{label="__all__",metric="genops.requests"} 15`) {
		t.Errorf("series overflow not counted:\n%s", got)
	}
}

// Counters stay cumulative across flushes with a fixed start time; an
// expired series that comes back starts again from zero, later.
func TestCumulativeAndExpiry(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Expiry = 5 * time.Minute
	c, sink := newTestConnector(t, cfg)
	clock := newTestClock()
	c.agg.SetClock(clock.Now)
	send := func() {
		ld := emptyLogs()
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "genops.team": "a", "envoy.route_name": "/r"})
		if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
			t.Fatal(err)
		}
	}
	point := func() pmetric.NumberDataPoint {
		sink.Reset()
		if err := c.flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, md := range sink.AllMetrics() {
			ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
			for _, m := range ms.All() {
				if m.Name() == "genops.requests" {
					return m.Sum().DataPoints().At(0)
				}
			}
		}
		t.Fatal("no genops.requests point")
		return pmetric.NumberDataPoint{}
	}
	send()
	first := point()
	clock.Advance(time.Minute)
	send()
	second := point()
	if first.IntValue() != 1 || second.IntValue() != 2 || second.StartTimestamp() != first.StartTimestamp() || first.StartTimestamp() == 0 ||
		second.Timestamp() <= first.Timestamp() {
		t.Fatalf("not cumulative: %d@%v(start %v) then %d@%v(start %v)", first.IntValue(), first.Timestamp(), first.StartTimestamp(), second.IntValue(), second.Timestamp(), second.StartTimestamp())
	}
	clock.Advance(5*time.Minute + time.Nanosecond) // idle for longer than the expiry
	sink.Reset()
	if err := c.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.requests.Len() != 0 {
		t.Fatal("the idle series did not expire")
	}
	clock.Advance(time.Second)
	send()
	again := point()
	if again.IntValue() != 1 || again.StartTimestamp() <= second.StartTimestamp() {
		t.Fatalf("a series that came back must restart: %d, start %v (before %v)", again.IntValue(), again.StartTimestamp(), second.StartTimestamp())
	}
}

func TestExemplarsAndSLOBuckets(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.SLOFile = filepath.Join("..", "..", "config", "slo.yaml")
	cfg.Histogram.Buckets = []time.Duration{time.Second}
	c, sink := newTestConnector(t, cfg)
	if got := fmt.Sprint(c.durations.Bounds()); got != "[0.5 1 2]" {
		t.Errorf("bounds %s, want the SLO file's 500ms and 2s added to 1s", got)
	}
	ld := emptyLogs()
	genopsRecord(ld, map[string]any{"http.response.status_code": 200, "envoy.duration_ms": 700})
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	lr.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	found := 0
	for name, exs := range firstPointExemplars(t, c, sink) {
		if exs.Len() != 1 || exs.At(0).TraceID() != lr.TraceID() {
			t.Errorf("%s: exemplars %d", name, exs.Len())
		}
		found++
	}
	if found != 2 {
		t.Errorf("%d metrics with exemplars", found)
	}
}

// firstPointExemplars flushes c and returns the exemplars of the first
// point of genops.requests and genops.request.duration.
func firstPointExemplars(t *testing.T, c *sliConnector, sink *consumertest.MetricsSink) map[string]pmetric.ExemplarSlice {
	t.Helper()
	sink.Reset()
	if err := c.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := map[string]pmetric.ExemplarSlice{}
	for _, m := range sink.AllMetrics()[0].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().All() {
		switch m.Name() {
		case "genops.requests":
			out[m.Name()] = m.Sum().DataPoints().At(0).Exemplars()
		case "genops.request.duration":
			out[m.Name()] = m.Histogram().DataPoints().At(0).Exemplars()
		}
	}
	return out
}

// A record without a trace leaves the series' exemplar as it was, and
// with exemplars off no point has one.
func TestExemplarsOnlyWithTrace(t *testing.T) {
	traced := pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	for _, enabled := range []bool{true, false} {
		cfg := createDefaultConfig().(*Config)
		cfg.Exemplars.Enabled = enabled
		c, sink := newTestConnector(t, cfg)
		ld := emptyLogs()
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "envoy.duration_ms": 700})
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "envoy.duration_ms": 800})
		ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).SetTraceID(traced)
		if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
			t.Fatal(err)
		}
		points := firstPointExemplars(t, c, sink)
		if len(points) != 2 {
			t.Errorf("%d metrics, want genops.requests and genops.request.duration", len(points))
		}
		for name, exs := range points {
			switch {
			case !enabled && exs.Len() != 0:
				t.Errorf("exemplars off: %s has %d exemplars", name, exs.Len())
			case enabled && (exs.Len() != 1 || exs.At(0).TraceID() != traced):
				t.Errorf("%s: %d exemplars, want the traced record's", name, exs.Len())
			}
		}
	}
}

// SERVER spans count for the destination; an ERROR status or a 5xx is bad;
// CLIENT spans count only when the source side is on.
func TestSpans(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Reporter = ReporterBoth
	c, sink := newTestConnector(t, cfg)
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	rs.Resource().Attributes().PutStr("k8s.namespace.name", "shop")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	start := time.Unix(1_700_000_000, 0)
	add := func(kind ptrace.SpanKind, status int64, errStatus bool, d time.Duration) {
		s := spans.AppendEmpty()
		s.SetKind(kind)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(d)))
		s.Attributes().PutInt("http.response.status_code", status)
		s.Attributes().PutStr("genops.team", "payments")
		if errStatus {
			s.Status().SetCode(ptrace.StatusCodeError)
		}
	}
	add(ptrace.SpanKindServer, 200, false, 30*time.Millisecond)
	add(ptrace.SpanKindServer, 200, true, 30*time.Millisecond)
	add(ptrace.SpanKindServer, 502, false, 3*time.Second)
	add(ptrace.SpanKindClient, 200, false, 40*time.Millisecond)
	add(ptrace.SpanKindInternal, 200, false, time.Millisecond)
	if err := c.ConsumeTraces(context.Background(), sidedSpans(td)); err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "spans", render(t, c, sink))
}

// One configured connector used in a logs and a traces pipeline is one
// instance: both feed the same series.
func TestSharedAcrossSignals(t *testing.T) {
	set := connectortest.NewNopSettings(metadata.Type)
	set.ID = component.MustNewIDWithName("sli", "shared")
	sink := new(consumertest.MetricsSink)
	cfg := createDefaultConfig()
	logs, err := NewFactory().CreateLogsToMetrics(context.Background(), set, cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	traces, err := NewFactory().CreateTracesToMetrics(context.Background(), set, cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if logs.(instance).Unwrap() != traces.(instance).Unwrap() {
		t.Fatal("two connectors for one id")
	}
	for _, c := range []component.Component{logs, traces} {
		if err := c.Start(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	ld := emptyLogs()
	genopsRecord(ld, map[string]any{"http.response.status_code": 200})
	_ = logs.ConsumeLogs(context.Background(), sided(ld))
	if err := logs.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sink.DataPointCount() != 0 {
		t.Fatal("flushed before the last user stopped")
	}
	if err := traces.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sink.DataPointCount() == 0 {
		t.Fatal("nothing flushed at the last shutdown")
	}
	// A new pipeline with the same id (a config reload) gets a new one.
	again, err := NewFactory().CreateLogsToMetrics(context.Background(), set, cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = again.Shutdown(context.Background()) }()
	if again.(instance).Unwrap() == logs.(instance).Unwrap() {
		t.Fatal("a stopped connector was handed out again")
	}
}

// A gateway's records (genops.side=gateway: the governance processor
// knows its workloads) are not requests by default, even with both
// reporters on (the destination's sidecar logs the same request), and
// count as the destination's with gateways.count: destination.
func TestGateways(t *testing.T) {
	gatewayLogs := func() plog.Logs {
		return logsFromLines(t, "istio", fixtureLines(t, "istio-io-egress-gateway-default.log"),
			map[string]any{"k8s.namespace.name": "istio-system", "app": "istio-egressgateway"},
			map[string]any{"genops.side": "gateway", "service.name": "edition.cnn.com"})
	}
	cfg := createDefaultConfig().(*Config)
	cfg.Reporter = ReporterBoth
	c, sink := newTestConnector(t, cfg)
	if err := c.ConsumeLogs(context.Background(), gatewayLogs()); err != nil {
		t.Fatal(err)
	}
	if got := render(t, c, sink); len(got) != 0 {
		t.Errorf("gateway records were counted by default:\n%s", strings.Join(got, "\n"))
	}

	cfg = createDefaultConfig().(*Config)
	cfg.Gateways.Count = GatewayDestination
	c, sink = newTestConnector(t, cfg)
	if err := c.ConsumeLogs(context.Background(), gatewayLogs()); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(render(t, c, sink), "\n")
	if !strings.Contains(got, `genops.requests{app="istio-egressgateway",availability="good",namespace="istio-system",reporter="destination",response_code_class="3xx",route="default.forward-cnn-from-egress-gateway.0",service="edition.cnn.com"} 1`) {
		t.Errorf("gateway records as the destination's:\n%s", got)
	}
}

// The connector decides no side: a record without genops.side, or with a
// value that is no side, is not counted, and the first is warned about.
func TestNoSideNoCount(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	ld := emptyLogs()
	genopsRecord(ld, map[string]any{"http.response.status_code": 200, "envoy.direction": "inbound", "genops.team": "a"})
	genopsRecord(ld, map[string]any{"http.response.status_code": 200, "genops.side": "client", "genops.team": "a"})
	if err := c.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	if got := render(t, c, sink); len(got) != 0 {
		t.Errorf("records without a side were counted:\n%s", strings.Join(got, "\n"))
	}
	if !c.unsided {
		t.Error("no warning")
	}
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetKind(ptrace.SpanKindServer)
	span.Attributes().PutInt("http.response.status_code", 200)
	if err := c.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if got := render(t, c, sink); len(got) != 0 {
		t.Errorf("a SERVER span without a side was counted:\n%s", strings.Join(got, "\n"))
	}
}

// The optional exponential histogram: buckets at the fixed scale hold the
// values they should, and only the span in use is sent.
func TestExponentialHistogram(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Histogram.Exponential.Enabled = true
	c, sink := newTestConnector(t, cfg)
	ld := emptyLogs()
	for _, ms := range []int64{100, 100, 1000, 2500} {
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "envoy.duration_ms": ms})
	}
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	sink.Reset()
	if err := c.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	found := false
	base := math.Exp2(math.Exp2(-3))
	for _, m := range sink.AllMetrics()[0].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().All() {
		if m.Name() != "genops.request.duration.exponential" {
			continue
		}
		found = true
		dp := m.ExponentialHistogram().DataPoints().At(0)
		if dp.Count() != 4 || dp.Scale() != 3 || math.Abs(dp.Sum()-3.7) > 1e-9 {
			t.Errorf("count %d scale %d sum %v", dp.Count(), dp.Scale(), dp.Sum())
		}
		counts := dp.Positive().BucketCounts().AsRaw()
		var total uint64
		for i, n := range counts {
			total += n
			if n == 0 {
				continue
			}
			idx := int(dp.Positive().Offset()) + i
			lo, hi := math.Pow(base, float64(idx)), math.Pow(base, float64(idx+1))
			holds := false
			for _, v := range []float64{0.1, 1, 2.5} {
				if v > lo && v <= hi {
					holds = true
				}
			}
			if !holds {
				t.Errorf("bucket %d (%v, %v] holds %d values that are none of the recorded ones", idx, lo, hi, n)
			}
		}
		if total != 4 || counts[0] != 2 {
			t.Errorf("buckets %v", counts)
		}
	}
	if !found {
		t.Fatal("no exponential histogram")
	}
}

// Tokens of a call that nothing priced are counted as unpriced, by model,
// provider and type; a priced call's are not. Twice, so that the second
// pass goes through the combination cache.
func TestUnpricedTokens(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	for range 2 {
		ld := emptyLogs()
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "genops.team": "ml", "gen_ai.request.model": "my-llama",
			"gen_ai.provider.name": "self", "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 7})
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "genops.team": "ml", "gen_ai.request.model": "gpt-4o",
			"gen_ai.provider.name": "openai", "gen_ai.usage.input_tokens": 50, "genops.cost.total": 0.001, "genops.cost.currency": "USD"})
		if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Join(render(t, c, sink), "\n")
	for _, want := range []string{
		`genops.unpriced_tokens{genops_team="ml",model="my-llama",provider="self",token_type="input"} 200`,
		`genops.unpriced_tokens{genops_team="ml",model="my-llama",provider="self",token_type="output"} 14`,
		`genops.tokens{genops_team="ml",model="gpt-4o",provider="openai",token_type="input"} 100`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(got, `genops.unpriced_tokens{genops_team="ml",model="gpt-4o"`) {
		t.Error("a priced call's tokens counted as unpriced")
	}
	if t.Failed() {
		t.Log(got)
	}
}
