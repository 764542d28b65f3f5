package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// Scenario "load": access log lines and spans at a fixed rate for a fixed
// time (60 s; GENOPS_LOAD_SECONDS, GENOPS_LOAD_LINES_PER_S and
// GENOPS_LOAD_SPANS_PER_S change it), over loopback into the daemonset
// pipeline (mesh_access_log + OTLP → governance → sli → Prometheus
// exporter). It reports the collector's CPU, peak RSS and drops; it fails
// only on a drop (a record sent and not counted), never on speed. The
// figures are in BENCHMARKS.md; GENOPS_LOAD_REPORT=FILE appends them there.
func TestLoad(t *testing.T) {
	seconds := envInt("GENOPS_LOAD_SECONDS", 60)
	linesPerS := envInt("GENOPS_LOAD_LINES_PER_S", 2000)
	spansPerS := envInt("GENOPS_LOAD_SPANS_PER_S", 1000)

	dir := t.TempDir()
	podDir := filepath.Join(dir, "pods", "ai_llm-0_5b1c6d9e-1111-2222-3333-444455556666", "istio-proxy")
	if err := os.MkdirAll(podDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(podDir, "0.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	prom, health, telemetry, otlp := collectortest.FreeAddr(t), collectortest.FreeAddr(t), collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	col := collectortest.StartConfigs(t, map[string]string{"E2E_HEALTH": health, "E2E_PROM": prom, "E2E_OTLP": otlp,
		"E2E_LOGS": filepath.Join(dir, "pods"), "E2E_TELEMETRY_PORT": strconv.Itoa(collectortest.Port(t, telemetry))},
		"testdata/load.yaml", "testdata/trust-every-claim.yaml", "testdata/telemetry.yaml")
	col.WaitHealthy(t, health)

	ctx := context.Background()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(otlp), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithMaxQueueSize(4*spansPerS), sdktrace.WithBlocking()),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "support-bot"), attribute.String("k8s.namespace.name", "ai"))))
	tracer := tp.Tracer("genops-load")

	own := func() (cpu, rss float64) {
		f, err := collectortest.Scrape("http://" + telemetry + "/metrics")
		if err != nil {
			return 0, 0
		}
		for _, s := range collectortest.Samples(f["otelcol_process_cpu_seconds_total"]) {
			cpu = s.Value
		}
		for _, s := range collectortest.Samples(f["otelcol_process_memory_rss_bytes"]) {
			rss = s.Value
		}
		return cpu, rss
	}
	cpu0, rss0 := own()
	var peakRSS float64
	lines, spans := 0, 0
	const ticksPerS = 10
	tick := time.NewTicker(time.Second / ticksPerS)
	start := time.Now()
	for i := range seconds * ticksPerS {
		<-tick.C
		for range linesPerS / ticksPerS {
			fmt.Fprintf(logFile, `2026-11-20T10:00:00.000000000Z stdout F [2026-11-20T10:00:00.000Z] "POST /v1/chat/completions HTTP/2" 200 - via_upstream - "-" 512 2048 120 100 "-" "python-httpx/0.27.0" "req-%d" "llm.ai:8080" "10.1.0.7:8080" inbound|8080|| 127.0.0.6:51515 10.1.0.7:8080 10.1.0.66:40000 - default "ml-platform" "support-bot" "cust-%d" "-" "-" "-" "-" "gpt-4o-mini" "openai" "1000" "200" "-"`+"\n", lines, lines%500)
			lines++
		}
		for range spansPerS / ticksPerS {
			_, span := tracer.Start(ctx, "POST /v1/chat/completions", trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("genops.team", "search"), attribute.String("genops.customer_id", fmt.Sprintf("cust-%d", spans%500)),
					attribute.String("gen_ai.request.model", "gpt-4o-mini"), attribute.Int("gen_ai.usage.input_tokens", 1000),
					attribute.Int("gen_ai.usage.output_tokens", 200), attribute.Int("http.response.status_code", 200)))
			span.End()
			spans++
		}
		if i%ticksPerS == 0 {
			if _, rss := own(); rss > peakRSS {
				peakRSS = rss
			}
		}
	}
	tick.Stop()
	elapsed := time.Since(start)
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	var counted float64
	col.Eventually(t, 60*time.Second, func() error {
		f, err := collectortest.Scrape("http://" + prom + "/metrics")
		if err != nil {
			return err
		}
		counted = 0
		for _, s := range collectortest.Samples(f["genops_requests_total"]) {
			counted += s.Value
		}
		if counted != float64(lines+spans) {
			return fmt.Errorf("counted %v of %d records sent", counted, lines+spans)
		}
		return nil
	})
	cpu1, rss1 := own()
	if rss1 > peakRSS {
		peakRSS = rss1
	}
	report := fmt.Sprintf("load: %d s, %d access log lines/s + %d spans/s (%d records) -> counted %.0f, drops %d; collector CPU %.1f s (%.1f%% of one core), RSS %.1f MiB at start, peak %.1f MiB",
		seconds, linesPerS, spansPerS, lines+spans, counted, lines+spans-int(counted), cpu1-cpu0, 100*(cpu1-cpu0)/elapsed.Seconds(), rss0/(1<<20), peakRSS/(1<<20))
	t.Log(report)
	if path := os.Getenv("GENOPS_LOAD_REPORT"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, time.Now().UTC().Format(time.RFC3339), report)
			f.Close()
		}
	}
}
