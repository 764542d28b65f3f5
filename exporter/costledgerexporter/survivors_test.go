package costledgerexporter

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/genops-mesh/otelcol-genops/exporter/costledgerexporter/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/test/pgtest"
)

// rowOf reads one record (attributes by key) as newRow does.
func rowOf(t *testing.T, rec map[string]any, stated, billed time.Time) (row, bool) {
	t.Helper()
	a := attrs{res: pcommon.NewMap(), rec: pcommon.NewMap()}
	if err := a.rec.FromRaw(rec); err != nil {
		t.Fatal(err)
	}
	return newRow(a, pcommon.NewTimestampFromTime(stated), pcommon.NewTimestampFromTime(billed), "destination")
}

// A cost from 0 (a free call is a priced call) to the 9e9 bound is
// priced; past it, or negative, it is not a cost. A genops.cost.time of 0
// is no time: the row is billed at the record's.
func TestRowCostAndTimeBounds(t *testing.T) {
	for _, tc := range []struct {
		cost   float64
		priced bool
	}{{0, true}, {9e9, true}, {-1e-9, false}, {math.Nextafter(9e9, 10e9), false}} {
		r, ok := rowOf(t, map[string]any{"genops.cost.total": tc.cost, "gen_ai.usage.input_tokens": 1}, t0, t0)
		if !ok || r.priced != tc.priced {
			t.Errorf("cost %v: row %v priced %v, want priced %v", tc.cost, ok, r.priced, tc.priced)
		}
	}
	if _, ok := rowOf(t, map[string]any{"genops.cost.total": 0.0}, t0, t0); !ok {
		t.Error("a free call (cost 0, no tokens) is no row")
	}
	r, _ := rowOf(t, map[string]any{"gen_ai.usage.input_tokens": 1, "genops.cost.time": int64(0)}, t0, t0.Add(time.Second))
	if !r.ts.Equal(t0.Add(time.Second)) {
		t.Errorf("cost time 0 billed the row at %v, want the record's time", r.ts)
	}
	r, _ = rowOf(t, map[string]any{"gen_ai.usage.input_tokens": 1, "genops.cost.time": t0.Add(time.Hour).UnixNano()}, t0, t0)
	if !r.ts.Equal(t0.Add(time.Hour)) {
		t.Errorf("billed at %v, want genops.cost.time", r.ts)
	}
}

// Token counts given as doubles are whole counts; a negative, fractional
// zero or out-of-range one counts nothing.
func TestRowTokensAsDoubles(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want int64
	}{{12, 12}, {0.5, 0}, {-3, 0}, {math.MaxInt64, 0}, {math.Inf(1), 0}} {
		r, ok := rowOf(t, map[string]any{"gen_ai.usage.input_tokens": tc.v, "genops.cost.total": 0.0}, t0, t0)
		if !ok || r.tokens[0] != tc.want {
			t.Errorf("input tokens %v: %d, want %d", tc.v, r.tokens[0], tc.want)
		}
	}
}

// The workload is the most specific name the record has: a StatefulSet's
// when no Deployment is named, the app's, the pod's last.
func TestRowWorkloadKeys(t *testing.T) {
	for _, tc := range []struct {
		rec  map[string]any
		want string
	}{
		{map[string]any{"k8s.statefulset.name": "db", "app": "db-app", "k8s.pod.name": "db-0"}, "db"},
		{map[string]any{"app": "llm", "k8s.pod.name": "llm-0"}, "llm"},
		{map[string]any{"k8s.pod.name": "bare-0"}, "bare-0"},
	} {
		tc.rec["gen_ai.usage.input_tokens"] = 1
		if r, _ := rowOf(t, tc.rec, t0, t0); r.workload != tc.want {
			t.Errorf("%v: workload %q, want %q", tc.rec, r.workload, tc.want)
		}
	}
}

// A value of exactly maxText bytes is stored as it is; a longer one is
// cut at a character boundary (never inside a UTF-8 sequence).
func TestCleanCutsAtCharacters(t *testing.T) {
	r := row{model: strings.Repeat("m", maxText)}
	if n := r.clean(); n != 0 || len(r.model) != maxText {
		t.Errorf("a %d-byte value: changed %d, kept %d bytes", maxText, n, len(r.model))
	}
	r = row{model: strings.Repeat("m", maxText-1) + "é"} // the é's two bytes straddle the limit
	if n := r.clean(); n != 1 || r.model != strings.Repeat("m", maxText-1) {
		t.Errorf("cut inside a character: changed %d, %d bytes, ends %q", n, len(r.model), r.model[len(r.model)-2:])
	}
}

// Two calls without a request id that differ in any attribute (here only
// the customer) are two rows: a record without an id is keyed by all it
// says, never by the few fields an id's key hashes.
func TestCallsWithoutIDsDifferingInCustomer(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	l := startLedger(t, dsn, ReporterDestination)
	ld := accessLogs(call{at: t0, direction: "inbound", team: "ml", customer: "acme", in: 10, nanos: 5},
		call{at: t0, direction: "inbound", team: "ml", customer: "globex", in: 10, nanos: 5})
	for _, lr := range ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().All() {
		lr.Attributes().Remove("envoy.request_id")
	}
	if err := l.pushLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	if n := count(t, openDB(t, dsn), "SELECT COUNT(*) FROM genops_cost_ledger"); n != 2 {
		t.Errorf("%d rows for two customers' calls without request ids, want 2", n)
	}
}

// A batch with nothing to clean counts no cleaned values (no zero series);
// a batch whose one row the database refuses as data writes the others
// through write, the path the exporter takes.
func TestWriteCountsAndRefusesOneRow(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, pg *pgtest.Server) {
		l, tel := measuredLedger(t, dsn)
		if err := l.write(context.Background(), []row{{ts: t0, callTS: t0, key: "clean", reporter: "destination", model: "m"}}); err != nil {
			t.Fatal(err)
		}
		if m, err := tel.GetMetric("genops.ledger.cleaned_values"); err == nil {
			t.Errorf("a cleaned-values series with nothing cleaned: %+v", m.Data)
		}
		if pg == nil {
			return // SQLite stores what PostgreSQL refuses
		}
		// Past clean (which removes NULs): what PostgreSQL still refuses,
		// a time past its timestamp range.
		far := time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)
		rows := []row{{ts: t0, callTS: t0, key: "w1", reporter: "destination", model: "m"}, {ts: far, callTS: far, key: "w2", reporter: "destination", model: "m"},
			{ts: t0, callTS: t0, key: "w3", reporter: "destination", model: "m"}}
		if n, err := l.store.insert(context.Background(), rows); !dataError(err) || n != 0 {
			t.Fatalf("a NUL in text: %d rows, %v; want a data error", n, err)
		}
		if err := l.write(context.Background(), rows[1:2]); err != nil {
			t.Fatalf("one refused row alone: %v, want it dropped and counted", err)
		}
		if err := l.write(context.Background(), rows); err != nil {
			t.Fatal(err)
		}
		db := openDB(t, dsn)
		if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger WHERE idempotency_key IN ('w1', 'w3')"); n != 2 {
			t.Errorf("%d of the 2 good rows written", n)
		}
		if got := sumOf(t, tel, "genops.ledger.refused"); got != 2 {
			t.Errorf("refused rows counted %d, want 2", got)
		}
	})
}

// A database not ready at start is a warning, and the exporter starts:
// its rows wait in the queue.
func TestStartWithDatabaseDown(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	set := exportertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	// startLedgerWith fails the test if start does: a database down is
	// no reason not to start.
	startLedgerWith(t, "postgres://genops@127.0.0.1:1/ledger?connect_timeout=1", createDefaultConfig().(*Config).Reporter, set)
	if logs.FilterMessageSnippet("database not ready at start").Len() != 1 {
		t.Errorf("no warning: %v", logs.All())
	}
}

// A DSN that names no backend is refused by Validate.
func TestValidateRefusesDSN(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.DSN = "mysql://x"
	if err := cfg.Validate(); err == nil {
		t.Error("a mysql DSN validated")
	}
	cfg.DSN = "sqlite:" + filepath.Join(t.TempDir(), "l.db")
	if err := cfg.Validate(); err != nil {
		t.Errorf("a sqlite DSN: %v", err)
	}
}

// A batch of exactly one chunk, and of two, is written whole, and every
// row written is counted as inserted.
func TestInsertWholeChunks(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, _ *pgtest.Server) {
		l, tel := measuredLedger(t, dsn)
		for _, n := range []int{insertChunk, 2 * insertChunk} {
			rows := make([]row, n)
			for i := range rows {
				rows[i] = row{ts: t0, callTS: t0, key: fmt.Sprintf("chunk-%d-%d", n, i), reporter: "destination", model: "m"}
			}
			if err := l.write(context.Background(), rows); err != nil {
				t.Fatalf("%d rows: %v", n, err)
			}
		}
		db := openDB(t, dsn)
		if got := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger"); got != 3*insertChunk {
			t.Errorf("%d rows stored, want %d", got, 3*insertChunk)
		}
		if got := sumOf(t, tel, "genops.ledger.inserted"); got != 3*insertChunk {
			t.Errorf("inserted counted %d, want %d", got, 3*insertChunk)
		}
	})
}
