package sliconnector

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/connector/spanmetricsconnector"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/genops-mesh/otelcol-genops/connector/sliconnector/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

const benchBatch = 10_000

// benchSpans is one batch of SERVER spans carrying the full label set,
// over a bounded set of values (so that, after the first batch, every
// series exists: the steady state).
func benchSpans() ptrace.Traces {
	td := ptrace.NewTraces()
	for svc := range 4 {
		rs := td.ResourceSpans().AppendEmpty()
		res := rs.Resource().Attributes()
		res.PutStr("service.name", fmt.Sprintf("svc-%d", svc))
		res.PutStr("k8s.namespace.name", "ai")
		res.PutStr("app", fmt.Sprintf("svc-%d", svc))
		res.PutStr("version", "v1")
		res.PutStr("k8s.cluster.name", "prod-eu")
		spans := rs.ScopeSpans().AppendEmpty().Spans()
		start := time.Unix(1_700_000_000, 0)
		for i := range benchBatch / 4 {
			s := spans.AppendEmpty()
			s.SetName("POST /v1/chat/completions")
			s.SetKind(ptrace.SpanKindServer)
			s.SetTraceID(pcommon.TraceID{byte(i), byte(i >> 8), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14})
			s.SetSpanID(pcommon.SpanID{byte(i), 1, 2, 3, 4, 5, 6, 7})
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(i%2000) * time.Millisecond)))
			a := s.Attributes()
			a.PutInt("http.response.status_code", []int64{200, 200, 200, 404, 503}[i%5])
			a.PutStr("http.route", []string{"/v1/chat/completions", "/v1/embeddings"}[i%2])
			a.PutStr("genops.team", fmt.Sprintf("team-%d", i%5))
			a.PutStr("genops.project", fmt.Sprintf("project-%d", i%3))
			a.PutStr("genops.customer_id", fmt.Sprintf("customer-%d", i%50))
			a.PutStr("genops.cost_center", fmt.Sprintf("cc-%d", i%4))
			a.PutStr("genops.customer_tier", []string{"free", "pro", "enterprise"}[i%3])
		}
	}
	return td
}

// spanMetricsYAML configures contrib's span_metrics with dimensions
// equivalent to genops_requests_total's labels and a latency histogram.
const spanMetricsYAML = `
metrics_flush_interval: 1h
histogram:
  unit: s
  explicit:
    buckets: [5ms, 10ms, 25ms, 50ms, 100ms, 250ms, 500ms, 1s, 2500ms, 5s, 10s, 30s, 60s]
dimensions:
  - name: http.response.status_code
  - name: http.route
  - name: genops.team
  - name: genops.project
  - name: genops.customer_id
  - name: genops.cost_center
  - name: genops.customer_tier
  - name: k8s.namespace.name
  - name: app
  - name: version
  - name: k8s.cluster.name
`

// BenchmarkSpansToMetrics aggregates the same batches of 10,000 spans at
// steady state with this connector and with contrib's span_metrics
// configured with equivalent dimensions, in one run (benchstat -col /impl).
func BenchmarkSpansToMetrics(b *testing.B) {
	td := benchSpans()
	impls := []struct {
		name    string
		factory connector.Factory
		cfg     func() component.Config
	}{
		{"sli", NewFactory(), func() component.Config {
			cfg := createDefaultConfig().(*Config)
			cfg.FlushInterval = time.Hour
			return cfg
		}},
		{"span_metrics", spanmetricsconnector.NewFactory(), func() component.Config {
			f := spanmetricsconnector.NewFactory()
			cfg := f.CreateDefaultConfig()
			retrieved, err := confmap.NewRetrievedFromYAML([]byte(spanMetricsYAML))
			if err != nil {
				b.Fatal(err)
			}
			conf, err := retrieved.AsConf()
			if err != nil {
				b.Fatal(err)
			}
			if err := conf.Unmarshal(cfg); err != nil {
				b.Fatal(err)
			}
			return cfg
		}},
	}
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			set := connectortest.NewNopSettings(impl.factory.Type())
			set.ID = component.MustNewIDWithName(impl.factory.Type().String(), "bench")
			c, err := impl.factory.CreateTracesToMetrics(context.Background(), set, impl.cfg(), consumertest.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Start(context.Background(), componenttest.NewNopHost()); err != nil {
				b.Fatal(err)
			}
			defer func() { _ = c.Shutdown(context.Background()) }()
			if err := c.ConsumeTraces(context.Background(), sidedSpans(td)); err != nil { // create every series
				b.Fatal(err)
			}
			b.ReportAllocs()
			meter := collectortest.StartMeter()
			b.ResetTimer()
			for b.Loop() {
				if err := c.ConsumeTraces(context.Background(), td); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			records := float64(benchBatch) * float64(b.N)
			b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(records/meter.CPU().Seconds(), "records/cpu-s")
			meter.ReportSteal(b)
		})
	}
}

// BenchmarkAccessLogRecords is the steady-state cost per access log record
// with the full label set (the mesh_access_log path): no allocation once
// the series exist. usage=none records are ordinary requests (requests and
// duration series); usage=cost_tokens records are priced AI calls, which
// also update the cost and both token series (five series per record).
func BenchmarkAccessLogRecords(b *testing.B) {
	for _, usage := range []string{"none", "cost_tokens"} {
		b.Run("usage="+usage, func(b *testing.B) {
			ld := accessLogBatch(usage == "cost_tokens")
			c := newBenchLogsConnector(b, "bench-logs")
			defer func() { _ = c.Shutdown(context.Background()) }()
			_ = c.ConsumeLogs(context.Background(), sided(ld))
			b.ReportAllocs()
			meter := collectortest.StartMeter()
			b.ResetTimer()
			for b.Loop() {
				_ = c.ConsumeLogs(context.Background(), ld)
			}
			b.StopTimer()
			records := float64(benchBatch) * float64(b.N)
			b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(records/meter.CPU().Seconds(), "records/cpu-s")
			meter.ReportSteal(b)
		})
	}
}

// newBenchLogsConnector is a logs-to-metrics connector with the default
// configuration that does not flush while a benchmark runs.
func newBenchLogsConnector(b *testing.B, name string) connector.Logs {
	cfg := createDefaultConfig().(*Config)
	cfg.FlushInterval = time.Hour
	set := connectortest.NewNopSettings(metadata.Type)
	set.ID = component.MustNewIDWithName("sli", name)
	c, err := NewFactory().CreateLogsToMetrics(context.Background(), set, cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// accessLogBatch is benchBatch inbound access log records, attributed as
// the governance processor leaves them; with usage, priced AI calls.
func accessLogBatch(usage bool) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("k8s.namespace.name", "ai")
	rl.Resource().Attributes().PutStr("app", "llm")
	rl.Resource().Attributes().PutStr("service.name", "llm")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := range benchBatch {
		lr := lrs.AppendEmpty()
		a := lr.Attributes()
		a.PutInt("http.response.status_code", []int64{200, 200, 503}[i%3])
		a.PutStr("envoy.response_flags", []string{"-", "-", "UF"}[i%3])
		a.PutStr("envoy.direction", "inbound")
		a.PutStr("genops.side", "destination")
		a.PutInt("envoy.duration_ms", int64(i%3000))
		a.PutStr("envoy.route_name", "default")
		a.PutStr("server.address", "llm.ai.svc.cluster.local:8080")
		a.PutStr("genops.team", fmt.Sprintf("team-%d", i%5))
		a.PutStr("genops.project", fmt.Sprintf("project-%d", i%3))
		a.PutStr("genops.customer_id", fmt.Sprintf("customer-%d", i%50))
		a.PutStr("genops.customer_tier", "pro")
		if usage {
			a.PutDouble("genops.cost.total", 0.001)
			a.PutStr("genops.cost.currency", "USD")
			a.PutInt("gen_ai.usage.input_tokens", 100)
			a.PutInt("gen_ai.usage.output_tokens", 20)
		}
	}
	return ld
}

// BenchmarkDistinctLabelSets feeds 1,000,000 records whose customer ids,
// teams and routes are all distinct and reports the series the connector
// keeps and the memory it holds: the caps bound both.
func BenchmarkDistinctLabelSets(b *testing.B) {
	const records = 1_000_000
	for b.Loop() {
		c := newBenchLogsConnector(b, "bench-distinct")
		for batch := range records / benchBatch {
			ld := plog.NewLogs()
			lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
			for i := range benchBatch {
				n := batch*benchBatch + i
				a := lrs.AppendEmpty().Attributes()
				a.PutInt("http.response.status_code", 200)
				a.PutInt("envoy.duration_ms", 12)
				a.PutStr("genops.customer_id", fmt.Sprintf("customer-%d", n))
				a.PutStr("genops.team", fmt.Sprintf("team-%d", n))
				a.PutStr("envoy.route_name", fmt.Sprintf("route-%d", n))
			}
			_ = c.ConsumeLogs(context.Background(), sided(ld))
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		sc := c.(instance).Unwrap()
		series := 0
		for _, f := range sc.agg.Families() {
			series += f.Len()
		}
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		b.ReportMetric(float64(series), "series")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MiB")
		_ = c.Shutdown(context.Background())
	}
}
