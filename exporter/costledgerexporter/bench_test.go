package costledgerexporter

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/genops-mesh/otelcol-genops/test/pgtest"
)

// BenchmarkLedger: priced calls per second from governed access log
// records into each engine, 1,000 new calls a batch (the collector's batch
// processor default is 8,192 records; a priced call is a fraction of
// them). Reported as calls/s; the ns/op is per batch.
func BenchmarkLedger(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			dsn := "sqlite:" + filepath.Join(b.TempDir(), "ledger.db")
			if engine == "postgres" {
				dsn = pgtest.Start(b).DSN
			}
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
			// The records are built before the clock starts: every batch
			// is new calls (a replay would insert nothing).
			const batch = 1000
			batches := make([]plog.Logs, b.N)
			for j := range batches {
				calls := make([]call, batch)
				for i := range calls {
					n := j*batch + i
					calls[i] = call{requestID: fmt.Sprintf("bench-%d", n), at: t0.Add(time.Duration(n) * time.Millisecond),
						direction: "inbound", team: "ml", customer: fmt.Sprintf("c-%d", n%1000), in: 1000, out: 100, cached: 200, nanos: int64(n)}
				}
				batches[j] = accessLogs(calls...)
			}
			b.ResetTimer()
			for j := 0; j < b.N; j++ {
				if err := l.pushLogs(context.Background(), batches[j]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
