package costledgerexporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/genops-mesh/otelcol-genops/exporter/costledgerexporter/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/test/pgtest"
)

// The exporter as the collector builds it (queue, retries): PostgreSQL
// stops while calls arrive; they wait in the queue and are retried, and
// when the database is back the ledger holds each call exactly once.
func TestDatabaseOutageLosesAndDuplicatesNothing(t *testing.T) {
	pg := pgtest.Start(t)
	cfg := createDefaultConfig().(*Config)
	cfg.DSN = pg.DSN
	cfg.BackOffConfig.InitialInterval = 50 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 500 * time.Millisecond
	exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	send := func(from, to int) {
		var calls []call
		for i := from; i < to; i++ {
			calls = append(calls, call{requestID: fmt.Sprintf("out-%d", i), at: t0.Add(time.Duration(i) * time.Second),
				direction: "inbound", team: "ml", in: 100, nanos: int64(1000 + i)})
		}
		if err := exp.ConsumeLogs(context.Background(), accessLogs(calls...)); err != nil {
			t.Fatal(err)
		}
	}
	send(0, 100)
	pg.Stop(t)
	send(100, 200)
	send(50, 150)           // a retry of rows of both sides of the outage
	time.Sleep(time.Second) // a few failed attempts
	pg.StartAgain(t)
	db := openDB(t, pg.DSN)
	// The queued batches are retried until they land (a shutdown would
	// stop the retries: a queue that must survive one is file_storage).
	for deadline := time.Now().Add(60 * time.Second); count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger") < 200 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var want int64
	for i := range 200 {
		want += int64(1000 + i)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger"); n != 200 {
		t.Errorf("%d rows after the outage, want 200", n)
	}
	if n := count(t, db, "SELECT SUM(cost_nanos) FROM genops_cost_hourly"); n != want {
		t.Errorf("%d nanos, want %d", n, want)
	}
}
