package requestlogconnector

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/genops-mesh/otelcol-genops/connector/requestlogconnector/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/connector/sliconnector"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// spans are attributed spans as the governance processor leaves them:
// SERVER and CLIENT spans of two services with a side, an INTERNAL span
// without one, durations on both sides of bucket bounds (to the
// nanosecond), an ERROR status with a 200, a 503, an AI call with tokens
// and a cost, an HTTP span that says network.transport tcp (a request,
// not an L4 connection), and a span without an end.
func spans() ptrace.Traces {
	td := ptrace.NewTraces()
	base := pcommon.NewTimestampFromTime(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	type span struct {
		kind     ptrace.SpanKind
		side     string
		duration time.Duration
		status   int64
		err      bool
		more     map[string]any
	}
	for i, svc := range []struct {
		ns, app string
		spans   []span
	}{
		{"ai", "llm", []span{
			{ptrace.SpanKindServer, "destination", 250 * time.Millisecond, 200, false, map[string]any{"gen_ai.usage.input_tokens": int64(120), "gen_ai.usage.output_tokens": int64(30), "gen_ai.response.model": "gpt-4o", "gen_ai.provider.name": "openai", "genops.cost.total": 0.0123, "genops.cost.currency": "USD"}},
			{ptrace.SpanKindServer, "destination", 250*time.Millisecond + 1, 200, true, nil},
			{ptrace.SpanKindServer, "destination", 3 * time.Second, 503, false, map[string]any{"network.transport": "tcp"}},
			{ptrace.SpanKindClient, "source", 10 * time.Millisecond, 200, false, map[string]any{"k8s.namespace.name": "search", "app": "ranker", "service.name": "ranker"}},
			{ptrace.SpanKindInternal, "", time.Millisecond, 0, false, nil},
		}},
		{"search", "ranker", []span{
			{ptrace.SpanKindServer, "destination", 0, 200, false, nil},
			{ptrace.SpanKindServer, "destination", -1, 404, false, nil}, // no end
		}},
	} {
		rs := td.ResourceSpans().AppendEmpty()
		ra := rs.Resource().Attributes()
		ra.PutStr(semconv.AttrK8sNamespace, svc.ns)
		ra.PutStr(semconv.AttrApp, svc.app)
		ra.PutStr(semconv.AttrServiceName, svc.app)
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("test")
		for j, s := range svc.spans {
			sp := ss.Spans().AppendEmpty()
			sp.SetKind(s.kind)
			sp.SetTraceID(pcommon.TraceID{byte(i + 1), byte(j + 1)})
			sp.SetSpanID(pcommon.SpanID{byte(i + 1), byte(j + 1)})
			sp.SetStartTimestamp(base)
			if s.duration >= 0 {
				sp.SetEndTimestamp(base + pcommon.Timestamp(s.duration))
			}
			if s.err {
				sp.Status().SetCode(ptrace.StatusCodeError)
			}
			a := sp.Attributes()
			_ = a.FromRaw(s.more)
			if s.side != "" {
				a.PutStr(semconv.AttrSide, s.side)
			}
			if s.status != 0 {
				a.PutInt(semconv.AttrHTTPResponseStatusCode, s.status)
			}
			a.PutStr(semconv.AttrTeam, "team-"+svc.app)
		}
	}
	return td
}

// counted counts td with a fresh sli connector (both sides counted),
// directly or through the request_log connector, and returns what it
// flushes at shutdown.
func counted(t *testing.T, td ptrace.Traces, throughRecords bool) pmetric.Metrics {
	t.Helper()
	ctx, host := context.Background(), componenttest.NewNopHost()
	f := sliconnector.NewFactory()
	cfg := f.CreateDefaultConfig().(*sliconnector.Config)
	cfg.Reporter = sliconnector.ReporterBoth
	sink := &consumertest.MetricsSink{}
	set := connectortest.NewNopSettings(f.Type())
	var sli, first component.Component
	var consume func(context.Context, ptrace.Traces) error
	if throughRecords {
		lc, err := f.CreateLogsToMetrics(ctx, set, cfg, sink)
		if err != nil {
			t.Fatal(err)
		}
		rl, err := NewFactory().CreateTracesToLogs(ctx, connectortest.NewNopSettings(metadata.Type), &Config{}, lc)
		if err != nil {
			t.Fatal(err)
		}
		sli, first, consume = lc, rl, rl.ConsumeTraces
	} else {
		tc, err := f.CreateTracesToMetrics(ctx, set, cfg, sink)
		if err != nil {
			t.Fatal(err)
		}
		sli, first, consume = tc, tc, tc.ConsumeTraces
	}
	for _, c := range []component.Component{sli, first} {
		if err := c.Start(ctx, host); err != nil {
			t.Fatal(err)
		}
	}
	if err := consume(ctx, td); err != nil {
		t.Fatal(err)
	}
	for _, c := range []component.Component{first, sli} {
		if err := c.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(sink.AllMetrics()); n != 1 {
		t.Fatalf("%d flushes, want 1", n)
	}
	return sink.AllMetrics()[0]
}

// A span counted through its request record is counted exactly as the
// span itself: the same series, values, bucket counts and exemplars.
func TestRecordsCountAsSpans(t *testing.T) {
	direct := counted(t, spans(), false)
	records := counted(t, spans(), true)
	if direct.DataPointCount() == 0 {
		t.Fatal("nothing counted")
	}
	zeroExemplarTimes(direct)
	zeroExemplarTimes(records)
	if err := pmetrictest.CompareMetrics(direct, records,
		pmetrictest.IgnoreStartTimestamp(), pmetrictest.IgnoreTimestamp(),
		pmetrictest.IgnoreMetricsOrder(), pmetrictest.IgnoreMetricDataPointsOrder(), pmetrictest.IgnoreResourceMetricsOrder()); err != nil {
		t.Error(err)
	}
}

// zeroExemplarTimes clears the exemplars' times: the connector stamps
// them when it counts, and the two runs count at different instants.
func zeroExemplarTimes(md pmetric.Metrics) {
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				var ex []pmetric.ExemplarSlice
				switch m.Type() {
				case pmetric.MetricTypeSum:
					for _, dp := range m.Sum().DataPoints().All() {
						ex = append(ex, dp.Exemplars())
					}
				case pmetric.MetricTypeHistogram:
					for _, dp := range m.Histogram().DataPoints().All() {
						ex = append(ex, dp.Exemplars())
					}
				case pmetric.MetricTypeExponentialHistogram:
					for _, dp := range m.ExponentialHistogram().DataPoints().All() {
						ex = append(ex, dp.Exemplars())
					}
				}
				for _, es := range ex {
					for _, e := range es.All() {
						e.SetTimestamp(0)
					}
				}
			}
		}
	}
}

// One record per span with a side, carrying its ids, times and
// attributes; spans without one (no requests between services) have none,
// and a batch of only those sends nothing.
func TestOneRecordPerRequest(t *testing.T) {
	sink := &consumertest.LogsSink{}
	c, err := NewFactory().CreateTracesToLogs(context.Background(), connectortest.NewNopSettings(metadata.Type), &Config{}, sink)
	if err != nil {
		t.Fatal(err)
	}
	td := spans()
	if err := c.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if got := sink.LogRecordCount(); got != 6 {
		t.Fatalf("%d records, want 6 (7 spans, one without a side)", got)
	}
	span := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1)
	lr := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(1)
	if lr.TraceID() != span.TraceID() || lr.SpanID() != span.SpanID() || lr.Timestamp() != span.StartTimestamp() || lr.ObservedTimestamp() != span.EndTimestamp() {
		t.Errorf("ids or times differ: %v %v %v %v", lr.TraceID(), lr.SpanID(), lr.Timestamp(), lr.ObservedTimestamp())
	}
	if d, _ := lr.Attributes().Get(semconv.AttrRequestDurationMs); d.Double() != 250.000001 {
		t.Errorf("duration %v ms, want 250.000001", d.Double())
	}
	if e, _ := lr.Attributes().Get(semconv.AttrRequestError); !e.Bool() {
		t.Error("an ERROR span's record says no error")
	}
	if v, _ := lr.Attributes().Get(semconv.AttrTeam); v.Str() != "team-llm" {
		t.Errorf("attributes not copied: %v", lr.Attributes().AsRaw())
	}
	if v, _ := sink.AllLogs()[0].ResourceLogs().At(0).Resource().Attributes().Get(semconv.AttrApp); v.Str() != "llm" {
		t.Error("resource not copied")
	}
	sink.Reset()
	internal := ptrace.NewTraces()
	internal.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetKind(ptrace.SpanKindInternal)
	if err := c.ConsumeTraces(context.Background(), internal); err != nil {
		t.Fatal(err)
	}
	if len(sink.AllLogs()) != 0 {
		t.Error("a batch without requests was sent")
	}
}
