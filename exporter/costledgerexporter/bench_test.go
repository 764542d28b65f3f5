package costledgerexporter

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/genops-mesh/otelcol-genops/test/pgtest"
)

// BenchmarkLedger: priced calls per second from governed access log
// records into each engine, 1,000 new calls a batch (the collector's batch
// processor default is 8,192 records; a priced call is a fraction of
// them), written by one or by several concurrent writers. In the
// collector the exporter's queue hands batches to num_consumers (default
// 10) concurrent consumers, so writers=1 is the floor and writers=2 (one
// per core here) what a pipeline gets. Each engine starts empty and
// grows through its sub-benchmarks, as a ledger does. Reported as calls/s
// (wall: the database server's work included) and the exporter's own
// allocations; the ns/op is per batch and writer.
func BenchmarkLedger(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			dsn := "sqlite:" + filepath.Join(b.TempDir(), "ledger.db")
			if engine == "postgres" {
				dsn = pgtest.Start(b).DSN
			}
			run := 0
			for _, writers := range []int{1, 2} {
				b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
					run++
					benchmarkWriters(b, dsn, writers, run)
				})
			}
		})
	}
}

func benchmarkWriters(b *testing.B, dsn string, writers, run int) {
	cfg := createDefaultConfig().(*Config)
	cfg.DSN = dsn
	l, err := newLedger(cfg, nopSettings())
	if err != nil {
		b.Fatal(err)
	}
	if err := l.start(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	defer l.shutdown(context.Background())
	// The records are built before the clock starts: every batch is new
	// calls (a replay would insert nothing).
	const batch = 1000
	batches := make([]plog.Logs, b.N*writers)
	for j := range batches {
		calls := make([]call, batch)
		for i := range calls {
			n := j*batch + i
			calls[i] = call{requestID: fmt.Sprintf("bench-%d-%d-%d", run, b.N, n), at: t0.Add(time.Duration(n) * time.Millisecond),
				direction: "inbound", team: "ml", customer: fmt.Sprintf("c-%d", n%1000), in: 1000, out: 100, cached: 200, nanos: int64(n)}
		}
		batches[j] = accessLogs(calls...)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range b.N {
				if err := l.pushLogs(context.Background(), batches[w*b.N+j]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*batch*writers)/b.Elapsed().Seconds(), "calls/s")
}
