package governanceprocessor

import (
	"context"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/genops-mesh/otelcol-genops/internal/accesslog"
	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// benchLine is an inbound access log line in the istio_genops format,
// from the caller pod 10.0.0.2, with every governance header and the AI
// response headers: what the receiver hands the processor. The headers
// agree with the labels (team, cost centre), as they do but for attacks
// or mistakes; a disagreement is counted per record.
const benchLine = `[2026-11-20T10:00:00.000Z] "POST /v1/chat/completions HTTP/2" 200 - via_upstream - "-" 512 2048 1234 1200 "-" "python-httpx/0.27.0" "3c1f0b9e-1111-2222-3333-444455556666" "llm.ai.svc.cluster.local:8080" "10.0.0.7:8080" inbound|8080|| 127.0.0.6:51515 10.0.0.7:8080 10.0.0.2:40000 outbound_.8080_._.llm.ai.svc.cluster.local default ` +
	`"ml-platform" "support-bot" "cust-42" "cc-ai" "gold" "production" "chat" "gpt-4o" "openai" "1200" "300" "-"`

// pricedConfig is kubeConfig with the repository's price table, the
// callers in api-gateway trusted and the llm workload allowed to state
// its tokens: every header of benchLine is read and checked.
func pricedConfig() *Config {
	cfg := kubeConfig()
	cfg.PricingFile = "../../config/pricing.yaml"
	cfg.TrustedSources.Namespaces = []string{"api-gateway"}
	cfg.AIWorkloads = []string{"ai/llm"}
	return cfg
}

// plainLine is the same request in Istio's default TEXT format: no
// governance header, so every dimension comes from the pod's labels, its
// namespace's or the default, the same for every record of the pod.
const plainLine = `[2026-11-20T10:00:00.000Z] "POST /v1/chat/completions HTTP/2" 200 - via_upstream - "-" 512 2048 1234 1200 "-" "python-httpx/0.27.0" "3c1f0b9e-1111-2222-3333-444455556666" "llm.ai.svc.cluster.local:8080" "10.0.0.7:8080" inbound|8080|| 127.0.0.6:51515 10.0.0.7:8080 10.0.0.2:40000 outbound_.8080_._.llm.ai.svc.cluster.local default`

// parsedBatch is n records parsed from benchLine, written by the llm pod's
// sidecar (the resource), as the receiver hands them over: parsed, with
// no line left in the body.
func parsedBatch(tb testing.TB, n int) plog.Logs {
	return parsedLines(tb, n, "istio_genops", benchLine)
}

// parsedLines is n records parsed from line in format, as parsedBatch.
func parsedLines(tb testing.TB, n int, format, line string) plog.Logs {
	tb.Helper()
	parser, err := accesslog.New(format, "", nil)
	if err != nil {
		tb.Fatal(err)
	}
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("k8s.namespace.name", "ai")
	rl.Resource().Attributes().PutStr("k8s.pod.name", "llm-5d-abc")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	var fields accesslog.Fields
	for range n {
		lr := lrs.AppendEmpty()
		lr.Body().SetStr(line)
		if err := accesslog.StructureRecord(parser, lr, &fields); err != nil {
			tb.Fatal(err)
		}
		lr.Body().SetEmptyBytes()
	}
	return ld
}

// BenchmarkAttribution: a 10,000-record batch of parsed inbound access log
// records (line=genops: about 30 attributes each, every governance header;
// line=istio: Istio's default format, no header), the caller
// looked up by IP in the informer cache, every dimension resolved, tokens
// priced. state=steady processes the same batch again (every attribute
// the processor writes exists and is compared, not written); state=fresh
// processes records as the receiver delivers them (≈20 attributes added
// to each). Time is CPU time per record: on a shared VM the hypervisor's
// steal time would otherwise be counted as the processor's.
func BenchmarkAttribution(b *testing.B) {
	for _, line := range []struct{ name, format, line string }{
		{"genops", "istio_genops", benchLine},
		{"istio", "istio", plainLine},
	} {
		b.Run("line="+line.name, func(b *testing.B) {
			benchmarkAttribution(b, parsedLines(b, 10_000, line.format, line.line))
		})
	}
}

func benchmarkAttribution(b *testing.B, template plog.Logs) {
	g := newTestGovernance(b, pricedConfig(), nil)
	n := template.LogRecordCount()
	report := func(b *testing.B, cpu time.Duration) {
		b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "records/cpu-s")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/record")
		b.ReportMetric(0, "ns/op")
	}
	b.Run("state=steady", func(b *testing.B) {
		ld := plog.NewLogs()
		template.CopyTo(ld)
		_, _ = g.processLogs(context.Background(), ld) // attributes exist from here on
		b.ReportAllocs()
		b.ResetTimer()
		meter := collectortest.StartMeter()
		for b.Loop() {
			_, _ = g.processLogs(context.Background(), ld)
		}
		b.StopTimer()
		report(b, meter.CPU())
		meter.ReportSteal(b)
	})
	b.Run("state=fresh", func(b *testing.B) {
		ld := plog.NewLogs()
		b.ReportAllocs()
		var cpu time.Duration
		meter := collectortest.StartMeter()
		for b.Loop() {
			b.StopTimer()
			template.CopyTo(ld)
			cpuStart := collectortest.CPUTime()
			b.StartTimer()
			_, _ = g.processLogs(context.Background(), ld)
			b.StopTimer()
			cpu += collectortest.CPUTime() - cpuStart
			b.StartTimer()
		}
		report(b, cpu)
		meter.ReportSteal(b)
	})
}

// BenchmarkConcurrentBatches: the pipeline calls the processor from
// several goroutines (the batch processor's shards, several receivers);
// each processes its own 1,000-record batch of steady records. No lock
// serializes batches, so with -cpu 1,2 the records per wall second
// should double: go test -run '^$' -bench ConcurrentBatches -cpu 1,2.
func BenchmarkConcurrentBatches(b *testing.B) {
	g := newTestGovernance(b, pricedConfig(), nil)
	const n = 1_000
	template := parsedBatch(b, n)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ld := plog.NewLogs()
		template.CopyTo(ld)
		for pb.Next() {
			_, _ = g.processLogs(context.Background(), ld)
		}
	})
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDistinctCustomers feeds 1,000,000 records whose customer ids are
// all distinct (a hostile or simply large tenant base) and reports the heap
// the processor holds afterwards and the process's peak RSS: its own state
// (the validated-value caches) is bounded, whatever the number of values.
func BenchmarkDistinctCustomers(b *testing.B) {
	const records, batch = 1_000_000, 10_000
	for b.Loop() {
		g := newTestGovernance(b, createDefaultConfig().(*Config), nil)
		for n := 0; n < records; n += batch {
			ld := plog.NewLogs()
			lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
			for i := range batch {
				a := lrs.AppendEmpty().Attributes()
				a.PutStr("http.request.header.x-genops-team", "ml-platform")
				a.PutStr("http.request.header.x-genops-customer-id", "customer-"+strconv.Itoa(n+i))
			}
			_, _ = g.processLogs(context.Background(), ld)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		cached := 0
		for _, d := range g.dims {
			cached += int(d.nVerdicts.Load())
		}
		b.ReportMetric(float64(cached), "cached-values")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MiB")
	}
}
