package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/jaegertest"
)

type tracedCall struct {
	name, service, team, customer, project string
	duration                               time.Duration
}

// sendTraces sends one SERVER span per call through the OpenTelemetry Go
// SDK over OTLP/gRPC, as instrumented services would, and returns the
// trace id of each call by name.
func sendTraces(t *testing.T, endpoint string, calls []tracedCall) map[string]string {
	t.Helper()
	ctx := context.Background()
	ids := map[string]string{}
	start := time.Now().Add(-2 * time.Minute)
	for _, c := range calls {
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
		if err != nil {
			t.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
			sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", c.service))))
		attrs := []attribute.KeyValue{attribute.String("genops.team", c.team), attribute.String("genops.customer_id", c.customer)}
		if c.project != "" {
			attrs = append(attrs, attribute.String("genops.project", c.project))
		}
		_, span := tp.Tracer("genopsctl-test").Start(ctx, "POST /v1/chat/completions",
			trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start), trace.WithAttributes(attrs...))
		ids[c.name] = span.SpanContext().TraceID().String()
		span.End(trace.WithTimestamp(start.Add(c.duration)))
		if err := tp.Shutdown(ctx); err != nil { // flushes
			t.Fatal(err)
		}
	}
	return ids
}

// genopsctl traces against a real Jaeger, fed by the distribution: spans
// from the OpenTelemetry SDK go through the collector's governance
// processor to Jaeger over OTLP, and each filter finds exactly its traces
// through Jaeger's api_v2 gRPC query service.
func TestTracesCommand(t *testing.T) {
	j := jaegertest.Start(t)
	health, otlp := collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	col := collectortest.StartConfigs(t, map[string]string{"E2E_HEALTH": health, "E2E_OTLP": otlp, "E2E_JAEGER": j.OTLP},
		"testdata/collector/traces.yaml", "../../test/e2e/testdata/trust-every-claim.yaml", "../../test/e2e/testdata/no-telemetry.yaml")
	col.WaitHealthy(t, health)

	ids := sendTraces(t, otlp, []tracedCall{
		{"A", "support-bot", "ml-platform", "cust-1", "support-bot", 3 * time.Second},
		{"B", "support-bot", "ml-platform", "cust-2", "", 100 * time.Millisecond},
		{"C", "search-api", "ml-platform", "cust-1", "", 500 * time.Millisecond},
		{"D", "billing-api", "billing", "cust-1", "", time.Second},
	})
	query := func(args ...string) []traceSummary {
		t.Helper()
		out, err := run(t, append([]string{"traces", "--jaeger", j.Query, "--ui", "http://" + j.UI, "-o", "json"}, args...)...)
		if err != nil {
			t.Fatalf("genopsctl traces %v: %v\n%s", args, err, out)
		}
		var found []traceSummary
		if err := json.Unmarshal([]byte(out), &found); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return found
	}
	names := func(found []traceSummary) string {
		byID := map[string]string{}
		for n, id := range ids {
			byID[id] = n
		}
		var out []string
		for _, f := range found {
			out = append(out, byID[f.TraceID])
		}
		sort.Strings(out)
		return strings.Join(out, "")
	}
	// Spans reach Jaeger asynchronously (batches on both sides): wait for
	// all four, then every query is exact.
	col.Eventually(t, 60*time.Second, func() error {
		if got := names(query("--team", "ml-platform")) + names(query("--team", "billing")); got != "ABCD" {
			return fmt.Errorf("traces in Jaeger so far: %q", got)
		}
		return nil
	})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--team", "ml-platform"}, "ABC"},
		{[]string{"--team", "ml-platform", "--customer", "cust-1"}, "AC"},
		{[]string{"--team", "ml-platform", "--min-duration", "2s"}, "A"},
		{[]string{"--team", "ml-platform", "--service", "search-api"}, "C"},
		{[]string{"--project", "support-bot"}, "A"},
		{[]string{"--customer", "cust-1"}, "ACD"},
		{[]string{"--team", "nobody"}, ""},
	} {
		if got := names(query(tc.args...)); got != tc.want {
			t.Errorf("%v: found %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := query("--customer", "cust-1", "--limit", "1"); len(got) != 1 {
		t.Errorf("--limit 1 gave %d traces", len(got))
	}

	a := query("--project", "support-bot")[0]
	if a.Service != "support-bot" || a.Team != "ml-platform" || a.Customer != "cust-1" || a.DurationMS != 3000 ||
		a.Link != "http://"+j.UI+"/trace/"+ids["A"] {
		t.Errorf("summary of A: %+v", a)
	}
	out, err := run(t, "traces", "--jaeger", j.Query, "--team", "billing")
	if err != nil || !strings.Contains(out, ids["D"]) || !strings.Contains(out, "billing-api") || !strings.Contains(out, "1 trace(s)") {
		t.Errorf("table: %v\n%s", err, out)
	}
	for _, bad := range [][]string{{"traces"}, {"traces", "--team", "x", "-o", "yaml"}, {"traces", "--team", "x", "--limit", "0"}} {
		if out, err := run(t, bad...); err == nil {
			t.Errorf("%v accepted:\n%s", bad, out)
		}
	}
}
