// Package requestlogconnector turns the spans that are requests into log
// records, one per span, that the sli connector counts exactly as it
// counts the spans themselves.
//
// A tiered agent (docs/scaling.md) routes what it attributed to the
// gateway replica that owns the record's series, by a key on each record
// (genops.shard). Contrib's loadbalancing exporter can do that for log
// records, one by one; for spans it routes a whole trace by its first
// span (and sends a trace with several resources to several replicas),
// so a span's series could be counted on two replicas, or twice. No
// contrib component turns spans into log records, hence this one: it
// copies, and decides nothing.
package requestlogconnector

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

type requestLog struct {
	component.StartFunc
	component.ShutdownFunc
	next consumer.Logs
}

func (c *requestLog) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// ConsumeTraces sends one log record per span that has a side
// (semconv.AttrSide): its resource and scope, its attributes, its trace
// and span ids, its start as the record's time and its end as the time
// observed, its duration in milliseconds as the sli connector computes
// it from a span, and whether its status was ERROR. Spans without a side
// are no requests between services and have no record.
func (c *requestLog) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	ld := plog.NewLogs()
	for _, rs := range td.ResourceSpans().All() {
		var rl plog.ResourceLogs
		hasResource := false
		for _, ss := range rs.ScopeSpans().All() {
			var sl plog.ScopeLogs
			hasScope := false
			for _, span := range ss.Spans().All() {
				if side, ok := span.Attributes().Get(semconv.AttrSide); !ok || side.Str() == "" {
					continue
				}
				if !hasResource {
					rl = ld.ResourceLogs().AppendEmpty()
					rs.Resource().CopyTo(rl.Resource())
					rl.SetSchemaUrl(rs.SchemaUrl())
					hasResource = true
				}
				if !hasScope {
					sl = rl.ScopeLogs().AppendEmpty()
					ss.Scope().CopyTo(sl.Scope())
					sl.SetSchemaUrl(ss.SchemaUrl())
					hasScope = true
				}
				record(span, sl.LogRecords().AppendEmpty())
			}
		}
	}
	if ld.LogRecordCount() == 0 {
		return nil
	}
	return c.next.ConsumeLogs(ctx, ld)
}

// record writes span's request record into lr.
func record(span ptrace.Span, lr plog.LogRecord) {
	start, end := span.StartTimestamp(), span.EndTimestamp()
	lr.SetTimestamp(start)
	lr.SetObservedTimestamp(end)
	lr.SetTraceID(span.TraceID())
	lr.SetSpanID(span.SpanID())
	lr.SetFlags(plog.LogRecordFlags(span.Flags() & 0xff))
	attrs := lr.Attributes()
	span.Attributes().CopyTo(attrs)
	attrs.EnsureCapacity(attrs.Len() + 2)
	if end >= start && start != 0 {
		attrs.PutDouble(semconv.AttrRequestDurationMs, float64(end-start)/1e6)
	}
	attrs.PutBool(semconv.AttrRequestError, span.Status().Code() == ptrace.StatusCodeError)
}
