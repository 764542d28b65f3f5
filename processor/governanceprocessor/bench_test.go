package governanceprocessor

import (
	"context"
	"runtime"
	"strconv"
	"syscall"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
)

// BenchmarkAttribution: a 10,000-record batch of inbound access log records
// with governance headers and a caller looked up by IP in the informer
// cache, every dimension resolved. Reports records/s and allocs per record.
func BenchmarkAttribution(b *testing.B) {
	g := newTestGovernance(b, kubeConfig(), nil)
	const n = 10_000
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("k8s.namespace.name", "ai")
	rl.Resource().Attributes().PutStr("k8s.pod.name", "llm-5d-abc")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for range n {
		a := lrs.AppendEmpty().Attributes()
		a.PutStr("envoy.direction", "inbound")
		a.PutStr("network.peer.address", "10.0.0.2")
		a.PutStr("http.request.header.x-genops-team", "ml-platform")
		a.PutStr("http.request.header.x-genops-customer-id", "cust-42")
		a.PutStr("http.request.header.x-genops-project", "support-bot")
	}
	_, _ = g.processLogs(context.Background(), ld) // attributes exist from here on: the steady state
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_, _ = g.processLogs(context.Background(), ld)
	}
	b.StopTimer()
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
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
			cached += len(d.verdicts)
		}
		b.ReportMetric(float64(cached), "cached-values")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MiB")
	}
}
