package costledgerexporter

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/genops-mesh/otelcol-genops/exporter/costledgerexporter/internal/metadata"
	ledgerdb "github.com/genops-mesh/otelcol-genops/internal/ledger"
	"github.com/genops-mesh/otelcol-genops/test/pgtest"
)

// backends runs a test once on an SQLite file and once on a real
// PostgreSQL server: the same suite for both.
func backends(t *testing.T, test func(t *testing.T, dsn string, pg *pgtest.Server)) {
	t.Run("sqlite", func(t *testing.T) {
		test(t, "sqlite:"+filepath.Join(t.TempDir(), "ledger.db"), nil)
	})
	t.Run("postgres", func(t *testing.T) {
		pg := pgtest.Start(t)
		test(t, pg.DSN, pg)
	})
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, _, err := ledgerdb.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func startLedger(t *testing.T, dsn, reporter string) *ledger {
	t.Helper()
	return startLedgerWith(t, dsn, reporter, exportertest.NewNopSettings(metadata.Type))
}

// measuredLedger starts a ledger (default reporter) whose own telemetry
// the test reads.
func measuredLedger(t *testing.T, dsn string) (*ledger, *componenttest.Telemetry) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	return startLedgerWith(t, dsn, createDefaultConfig().(*Config).Reporter, set), tel
}

func startLedgerWith(t *testing.T, dsn, reporter string, set exporter.Settings) *ledger {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.DSN, cfg.Reporter = dsn, reporter
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	l, err := newLedger(cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.shutdown(context.Background()) })
	return l
}

var t0 = time.Date(2026, 11, 3, 10, 15, 0, 0, time.UTC)

// call is one governed access log record.
type call struct {
	requestID string
	at        time.Time
	direction string
	team      string
	customer  string
	in, out   int64
	cached    int64
	nanos     int64 // -1: unpriced
}

func accessLogs(calls ...call) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("k8s.namespace.name", "ai")
	rl.Resource().Attributes().PutStr("k8s.deployment.name", "llm")
	rl.Resource().Attributes().PutStr("service.name", "llm")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, c := range calls {
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(c.at))
		a := lr.Attributes()
		a.PutStr("envoy.request_id", c.requestID)
		a.PutStr("envoy.direction", c.direction)
		a.PutStr("network.peer.address", "10.0.0.2")
		a.PutStr("genops.team", c.team)
		a.PutStr("genops.customer_id", c.customer)
		a.PutStr("gen_ai.request.model", "gpt-4o-mini")
		a.PutStr("gen_ai.provider.name", "openai")
		if c.in > 0 {
			a.PutInt("gen_ai.usage.input_tokens", c.in)
		}
		if c.cached > 0 {
			a.PutInt("gen_ai.usage.cache_read.input_tokens", c.cached)
		}
		if c.out > 0 {
			a.PutInt("gen_ai.usage.output_tokens", c.out)
		}
		if c.nanos >= 0 {
			a.PutDouble("genops.cost.total", float64(c.nanos)/1e9)
			a.PutStr("genops.cost.currency", "USD")
			a.PutStr("genops.cost.price_row", "gpt-4o-mini*")
		}
	}
	return ld
}

func count(t *testing.T, db *sql.DB, q string) int64 {
	t.Helper()
	var n sql.NullInt64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}

// N priced calls are N rows; the same records again (a retry, a replay)
// change nothing; the rollups equal the ledger's sum to the nano-unit.
func TestLedgerIsExactAndIdempotent(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, _ *pgtest.Server) {
		l := startLedger(t, dsn, ReporterDestination)
		var calls []call
		var want int64
		for i := range 250 {
			nanos := int64(150_000 + i*7) // odd amounts: float sums would drift
			calls = append(calls, call{requestID: fmt.Sprintf("req-%d", i), at: t0.Add(time.Duration(i) * time.Minute),
				direction: "inbound", team: []string{"ml", "search"}[i%2], customer: fmt.Sprintf("cust-%d", i%7), in: 1000, out: 10, cached: 200, nanos: nanos})
			want += nanos
		}
		calls = append(calls,
			call{requestID: "unpriced", at: t0, direction: "inbound", team: "ml", in: 500, nanos: -1},
			call{requestID: "client-side", at: t0, direction: "outbound", team: "ml", in: 500, nanos: 1},         // source: not this ledger's
			call{requestID: "no-ai", at: t0, direction: "inbound", team: "ml", nanos: -1},                        // no tokens, no cost: no row
			call{requestID: "req-0", at: t0.Add(time.Second), direction: "inbound", team: "ml", in: 1, nanos: 5}, // a reused request id: another call
		)
		want += 5
		for range 3 {
			if err := l.pushLogs(context.Background(), accessLogs(calls...)); err != nil {
				t.Fatal(err)
			}
		}
		db := openDB(t, dsn)
		if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger"); n != 252 {
			t.Errorf("%d rows, want 250 priced + 1 unpriced + 1 reused request id", n)
		}
		if n := count(t, db, "SELECT SUM(cost_nanos) FROM genops_cost_ledger"); n != want {
			t.Errorf("ledger sum %d nanos, want %d", n, want)
		}
		if n := count(t, db, "SELECT SUM(cost_nanos) FROM genops_cost_hourly"); n != want {
			t.Errorf("hourly rollup %d nanos, want %d", n, want)
		}
		if n := count(t, db, "SELECT SUM(cost_nanos) FROM genops_cost_daily"); n != want {
			t.Errorf("daily rollup %d nanos, want %d", n, want)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_hourly"); n < 5 {
			t.Errorf("%d hourly rows: 250 minutes by team and customer should span several hours", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger WHERE cost_nanos IS NULL AND price_row IS NULL AND input_tokens = 500"); n != 1 {
			t.Errorf("unpriced call: %d rows with NULL cost", n)
		}
		if n := count(t, db, "SELECT SUM(cache_read_tokens) FROM genops_cost_ledger"); n != 250*200 {
			t.Errorf("cache read tokens %d", n)
		}
		// Customers are never capped here: every one has its row.
		if n := count(t, db, "SELECT COUNT(DISTINCT customer_id) FROM genops_cost_ledger WHERE customer_id LIKE 'cust-%'"); n != 7 {
			t.Errorf("%d customers", n)
		}
	})
}

// reporter: source takes the other side; both takes each.
func TestLedgerReporter(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, _ *pgtest.Server) {
		for _, tc := range []struct {
			reporter string
			want     int64
		}{{ReporterSource, 1}, {ReporterBoth, 2}} {
			l := startLedger(t, dsn, tc.reporter)
			db := openDB(t, dsn)
			if _, err := db.Exec("DELETE FROM genops_cost_ledger"); err != nil {
				t.Fatal(err)
			}
			ld := accessLogs(call{requestID: "r", at: t0, direction: "inbound", team: "a", in: 1, nanos: 1},
				call{requestID: "r", at: t0, direction: "outbound", team: "a", in: 1, nanos: 1})
			if err := l.pushLogs(context.Background(), ld); err != nil {
				t.Fatal(err)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger"); n != tc.want {
				t.Errorf("reporter %s: %d rows, want %d", tc.reporter, n, tc.want)
			}
		}
	})
}

// Spans: SERVER spans are the destination's rows, keyed by trace and span
// id and start time; a span sent twice is one row.
func TestLedgerSpans(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, _ *pgtest.Server) {
		l := startLedger(t, dsn, ReporterDestination)
		td := ptrace.NewTraces()
		spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
		for i, kind := range []ptrace.SpanKind{ptrace.SpanKindServer, ptrace.SpanKindClient, ptrace.SpanKindInternal, ptrace.SpanKindServer} {
			s := spans.AppendEmpty()
			s.SetKind(kind)
			s.SetTraceID(pcommon.TraceID{1, byte(i)})
			s.SetSpanID(pcommon.SpanID{2, byte(i)})
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(t0))
			s.Attributes().PutInt("gen_ai.usage.input_tokens", 10)
			s.Attributes().PutDouble("genops.cost.total", 0.000001)
		}
		for range 2 {
			if err := l.pushTraces(context.Background(), td); err != nil {
				t.Fatal(err)
			}
		}
		db := openDB(t, dsn)
		if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger"); n != 2 {
			t.Errorf("%d rows, want the 2 SERVER spans", n)
		}
		if n := count(t, db, "SELECT SUM(cost_nanos) FROM genops_cost_ledger"); n != 2000 {
			t.Errorf("%d nanos", n)
		}
	})
}

// A span's request record (what a tiered agent forwards for a span,
// connector/requestlogconnector) is billed as the span: the record and
// the span are one row, whichever arrives first and however often; a
// record whose side is neither end bills nothing.
func TestLedgerSpanRecords(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, _ *pgtest.Server) {
		l := startLedger(t, dsn, ReporterDestination)
		td := ptrace.NewTraces()
		span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetKind(ptrace.SpanKindServer)
		span.SetTraceID(pcommon.TraceID{1, 1})
		span.SetSpanID(pcommon.SpanID{2, 1})
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(t0))
		span.Attributes().PutInt("gen_ai.usage.input_tokens", 10)
		span.Attributes().PutDouble("genops.cost.total", 0.000001)
		ld := plog.NewLogs()
		lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		for _, side := range []string{"destination", "gateway"} {
			lr := lrs.AppendEmpty()
			lr.SetTraceID(span.TraceID())
			lr.SetSpanID(span.SpanID())
			lr.SetTimestamp(span.StartTimestamp())
			span.Attributes().CopyTo(lr.Attributes())
			lr.Attributes().PutStr("genops.side", side)
			lr.Attributes().PutBool("genops.request.error", false)
			lr.Attributes().PutDouble("genops.request.duration_ms", 12.5)
		}
		if err := l.pushLogs(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
		if err := l.pushTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
		db := openDB(t, dsn)
		if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger"); n != 1 {
			t.Errorf("%d rows, want 1: the span and its record are one call", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger WHERE request_id = '01010000000000000000000000000000'"); n != 1 {
			t.Errorf("the row's request id is not the span's trace id")
		}
	})
}

// Two exporters (the logs and the traces pipelines) starting at once
// migrate once; a database with a newer schema is refused, not altered.
func TestLedgerSchema(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, _ *pgtest.Server) {
		done := make(chan error, 2)
		for range 2 {
			go func() {
				s, err := openStore(context.Background(), dsn)
				if err == nil {
					err = s.ready(context.Background())
					s.close()
				}
				done <- err
			}()
		}
		for range 2 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		db := openDB(t, dsn)
		if n := count(t, db, "SELECT COUNT(*) FROM genops_ledger_schema"); n != schemaVersion {
			t.Errorf("%d schema versions applied, want each of %d once", n, schemaVersion)
		}
		if _, err := db.Exec("INSERT INTO genops_ledger_schema (version) VALUES (99)"); err != nil {
			t.Fatal(err)
		}
		s, err := openStore(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		if err := s.ready(context.Background()); err == nil {
			t.Error("a newer schema was accepted")
		}
	})
}

// A ledger written at schema version 1 (the idempotency key alone as
// primary key) is upgraded in place: its rows and totals are kept, the
// records it holds replayed after the upgrade are still conflicts, and
// new calls are written.
func TestLedgerSchemaUpgrade(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, _ *pgtest.Server) {
		var calls []call
		for i := range 40 {
			calls = append(calls, call{requestID: fmt.Sprintf("req-%d", i), at: t0.Add(time.Duration(i) * time.Minute),
				direction: "inbound", team: "ml", customer: "c", in: 100, out: 10, nanos: int64(1000 + i)})
		}
		// The old build: a ledger on a store migrated to version 1 only.
		old, err := newLedger(createDefaultConfig().(*Config), nopSettings())
		if err != nil {
			t.Fatal(err)
		}
		s, err := openStore(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.migrate(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		s.migrated = true
		old.store = s
		t.Cleanup(func() { _ = old.shutdown(context.Background()) })
		if err := old.pushLogs(context.Background(), accessLogs(calls[:30]...)); err != nil {
			t.Fatal(err)
		}
		db := openDB(t, dsn)
		if n := count(t, db, "SELECT MAX(version) FROM genops_ledger_schema"); n != 1 {
			t.Fatalf("set up at version %d", n)
		}

		l := startLedger(t, dsn, ReporterDestination)
		if n := count(t, db, "SELECT MAX(version) FROM genops_ledger_schema"); n != schemaVersion {
			t.Fatalf("version %d after the upgrade, want %d", n, schemaVersion)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger"); n != 30 {
			t.Errorf("%d rows kept, want 30", n)
		}
		if err := l.pushLogs(context.Background(), accessLogs(calls...)); err != nil {
			t.Fatal(err)
		}
		var want int64
		for _, c := range calls {
			want += c.nanos
		}
		if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger"); n != 40 {
			t.Errorf("%d rows after replaying 30 and adding 10, want 40", n)
		}
		if n := count(t, db, "SELECT SUM(cost_nanos) FROM genops_cost_daily"); n != want {
			t.Errorf("daily rollup %d nanos, want %d", n, want)
		}
	})
}

// The queries in docs/ledger.md run on both engines and answer what the
// page says.
func TestDocsQueries(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("..", "..", "docs", "ledger.md"))
	if err != nil {
		t.Fatal(err)
	}
	var queries []string
	for _, part := range strings.Split(string(page), "```sql\n")[1:] {
		q, _, _ := strings.Cut(part, "```")
		queries = append(queries, q)
	}
	if len(queries) < 2 {
		t.Fatalf("%d sql blocks in docs/ledger.md", len(queries))
	}
	backends(t, func(t *testing.T, dsn string, _ *pgtest.Server) {
		l := startLedger(t, dsn, ReporterDestination)
		if err := l.pushLogs(context.Background(), accessLogs(
			call{requestID: "a", at: t0, direction: "inbound", team: "ml", in: 10, nanos: 1_234_567_890},
			call{requestID: "b", at: t0, direction: "inbound", team: "ml", in: 10, nanos: 1_000_000_000},
			call{requestID: "c", at: t0, direction: "inbound", team: "ml", in: 10, nanos: -1},
		)); err != nil {
			t.Fatal(err)
		}
		db := openDB(t, dsn)
		// November by team and model: 2.23 USD, 3 calls, 1 unpriced.
		var team, model string
		var currency sql.NullString
		var cost sql.NullFloat64
		var calls, unpriced int64
		rows, err := db.Query(queries[0])
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		found := false
		for rows.Next() {
			if err := rows.Scan(&team, &model, &currency, &cost, &calls, &unpriced); err != nil {
				t.Fatal(err)
			}
			if currency.String == "USD" && (cost.Float64 != 2.23 || calls != 2 || unpriced != 0) {
				t.Errorf("priced: %v %v %v %v %v", team, model, cost, calls, unpriced)
			}
			if !currency.Valid && (calls != 1 || unpriced != 1 || cost.Valid) {
				t.Errorf("unpriced: %v %v", calls, unpriced)
			}
			found = true
		}
		if !found {
			t.Error("the monthly query found nothing")
		}
		var n, in, out int64
		if err := db.QueryRow(queries[1]).Scan(&model, &team, &n, &in, &out); err != nil || n != 1 || in != 10 {
			t.Errorf("unpriced query: %v %d %d", err, n, in)
		}
	})
}

func nopSettings() exporter.Settings { return exportertest.NewNopSettings(metadata.Type) }

// Hostile text from a request (a NUL byte, invalid UTF-8, a megabyte
// model name) is cleaned before it reaches the database, counted, and
// never holds back the other rows of its batch: PostgreSQL refuses a NUL
// in text, and a batch refused on every retry would stop all billing.
func TestLedgerHostileText(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, pg *pgtest.Server) {
		l, tel := measuredLedger(t, dsn)
		calls := []call{
			{requestID: "good-1", at: t0, direction: "inbound", team: "ml", customer: "c", in: 10, nanos: 1},
			{requestID: "nul", at: t0, direction: "inbound", team: "ml", customer: "c", in: 10, nanos: 2},
			{requestID: "good-2", at: t0, direction: "inbound", team: "ml", customer: "c", in: 10, nanos: 4},
		}
		ld := accessLogs(calls...)
		recs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		recs.At(1).Attributes().PutStr("gen_ai.response.model", "gpt-4o\x00-mini\xff"+strings.Repeat("x", 1<<20))
		ld.ResourceLogs().At(0).Resource().Attributes().PutStr("k8s.cluster.name", "east\x00")
		if err := l.pushLogs(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
		db := openDB(t, dsn)
		if n := count(t, db, "SELECT SUM(cost_nanos) FROM genops_cost_ledger"); n != 7 {
			t.Errorf("%d nanos: every row of the batch is written", n)
		}
		var model, cluster string
		if err := db.QueryRow("SELECT model, cluster FROM genops_cost_ledger WHERE cost_nanos = 2").Scan(&model, &cluster); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(model, "gpt-4o-mini") || len(model) > maxText || cluster != "east" {
			t.Errorf("stored model %q (%d bytes), cluster %q", model[:min(20, len(model))], len(model), cluster)
		}
		if got := sumOf(t, tel, "genops.ledger.cleaned_values"); got != 4 {
			t.Errorf("cleaned values counted %d, want 4 (one model, three clusters)", got)
		}
		if pg == nil {
			return
		}
		// Should a value the database refuses still get through, its row
		// alone is dropped (counted, logged), not the batch.
		rows := []row{{ts: t0, key: "k1", reporter: "destination", model: "m"}, {ts: t0, key: "k2", reporter: "destination", model: "bad\x00"},
			{ts: t0, key: "k3", reporter: "destination", model: "m"}}
		if _, err := l.store.insert(context.Background(), rows); !dataError(err) {
			t.Fatalf("a NUL in text: %v, want a data error", err)
		}
		if err := l.writeEach(context.Background(), rows); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger WHERE idempotency_key IN ('k1', 'k3')"); n != 2 {
			t.Errorf("%d of the 2 good rows written", n)
		}
		if got := sumOf(t, tel, "genops.ledger.refused"); got != 1 {
			t.Errorf("refused rows counted %d, want 1", got)
		}
	})
}

func sumOf(t *testing.T, tel *componenttest.Telemetry, name string) int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var n int64
	if s, ok := m.Data.(metricdata.Sum[int64]); ok {
		for _, dp := range s.DataPoints {
			n += dp.Value
		}
	}
	return n
}

// What makes two records one call (a replay) or two: a request id reused
// in the same millisecond on one connection for other calls is two rows;
// a span another workload sends first with a victim's ids does not drop
// the victim's call; spans without ids are told apart by their content.
func TestLedgerKeys(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, _ *pgtest.Server) {
		l := startLedger(t, dsn, ReporterDestination)
		reused := accessLogs(
			call{requestID: "same", at: t0, direction: "inbound", team: "ml", in: 1_000_000, out: 10, nanos: 100},
			call{requestID: "same", at: t0, direction: "inbound", team: "ml", in: 10, out: 10, nanos: 1},
		)
		spans := func(service string, ids bool, tokens int64) ptrace.Traces {
			td := ptrace.NewTraces()
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", service)
			rs.Resource().Attributes().PutStr("k8s.deployment.name", service)
			s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
			s.SetKind(ptrace.SpanKindServer)
			if ids {
				s.SetTraceID(pcommon.TraceID{7})
				s.SetSpanID(pcommon.SpanID{8})
			}
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(t0))
			s.Attributes().PutInt("gen_ai.usage.input_tokens", tokens)
			s.Attributes().PutDouble("genops.cost.total", float64(tokens)/1e9)
			return td
		}
		for range 2 { // everything twice: the replay adds nothing
			if err := l.pushLogs(context.Background(), reused); err != nil {
				t.Fatal(err)
			}
			for _, td := range []ptrace.Traces{spans("evil", true, 1), spans("victim", true, 1000), spans("a", false, 3), spans("a", false, 5)} {
				if err := l.pushTraces(context.Background(), td); err != nil {
					t.Fatal(err)
				}
			}
		}
		db := openDB(t, dsn)
		if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger WHERE request_id = 'same'"); n != 2 {
			t.Errorf("a reused request id: %d rows, want 2", n)
		}
		if n := count(t, db, "SELECT SUM(cost_nanos) FROM genops_cost_ledger WHERE service IN ('evil', 'victim')"); n != 1001 {
			t.Errorf("the pre-empted span: %d nanos, want both calls (1001)", n)
		}
		if n := count(t, db, "SELECT SUM(cost_nanos) FROM genops_cost_ledger WHERE service = 'a'"); n != 8 {
			t.Errorf("spans without ids: %d nanos, want both (8)", n)
		}
	})
}

// A call is billed at the time the governance processor priced it
// (genops.cost.time), not at the time the record states: a sender that
// claims last month does not move its call out of this month's bill. The
// stated time stays in call_ts, where the key needs it.
func TestLedgerBillingTime(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, _ *pgtest.Server) {
		l := startLedger(t, dsn, ReporterDestination)
		claimed := t0.AddDate(0, -1, 0)
		ld := accessLogs(call{requestID: "backdated", at: claimed, direction: "inbound", team: "ml", in: 10, nanos: 5})
		ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutInt("genops.cost.time", t0.UnixNano())
		for range 2 {
			if err := l.pushLogs(context.Background(), ld); err != nil {
				t.Fatal(err)
			}
		}
		db := openDB(t, dsn)
		if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger"); n != 1 {
			t.Fatalf("%d rows", n)
		}
		var ts, callTS any
		if err := db.QueryRow("SELECT ts, call_ts FROM genops_cost_ledger").Scan(&ts, &callTS); err != nil {
			t.Fatal(err)
		}
		asTime := func(v any) time.Time {
			switch x := v.(type) {
			case time.Time:
				return x.UTC()
			case string:
				tt, _ := time.Parse(ledgerdb.TSLayout, x)
				return tt
			}
			return time.Time{}
		}
		if !asTime(ts).Equal(t0) || !asTime(callTS).Equal(claimed) {
			t.Errorf("ts %v (want the priced time %v), call_ts %v (want the stated %v)", ts, t0, callTS, claimed)
		}
		if n := count(t, db, "SELECT SUM(cost_nanos) FROM genops_cost_daily WHERE day = '2026-11-03'"); n != 5 {
			t.Errorf("the daily rollup bills it on %d nanos of the priced day", n)
		}
	})
}

// A record without ids is keyed by its content; an array nested 200,000
// deep in it (or in a log body) is hashed by type and size, never walked
// by recursion: the stack is small for this test, and walking it would
// crash the test as it crashed the collector (second outside attempt).
func TestContentKeyOfDeepValues(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(1 << 20))
	m := pcommon.NewMap()
	s := m.PutEmptySlice("deep")
	for range 200_000 {
		s = s.AppendEmpty().SetEmptySlice()
	}
	a := contentKey("span-content", 1, m)
	m.PutStr("other", "x")
	if b := contentKey("span-content", 1, m); a == b || len(a) != 32 || contentKey("span-content", 1, m, "ns-a") == contentKey("span-content", 1, m, "ns-b") {
		t.Errorf("keys %q and %q", a, b)
	}
	body := pcommon.NewValueEmpty()
	body.SetEmptySlice().AppendEmpty().SetEmptySlice()
	if got := scalar(body); got != "\x00slice[1]" {
		t.Errorf("scalar of a nested body: %q", got)
	}
}

// A log record that states no time (an ALS entry whose start time was out
// of range) is keyed without one, not by its arrival: the same entry sent
// again is the same row (second outside attempt: each replay was a row).
func TestLedgerRecordWithoutTime(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, _ *pgtest.Server) {
		l := startLedger(t, dsn, ReporterDestination)
		for i := range 3 {
			ld := accessLogs(call{requestID: "no-time", direction: "inbound", team: "ml", in: 10, nanos: 7})
			lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
			lr.SetTimestamp(0)
			lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(i) * time.Minute)))
			if err := l.pushLogs(context.Background(), ld); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, openDB(t, dsn), "SELECT COUNT(*) FROM genops_cost_ledger"); n != 1 {
			t.Errorf("%d rows for one entry sent three times", n)
		}
	})
}

// A record with neither a time nor ids is keyed by its content; the
// processor's genops.cost.* (its arrival time among them) is not content:
// the same request retried is the same row (third outside attempt).
func TestLedgerRetryWithoutTimeOrIDs(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, _ *pgtest.Server) {
		l := startLedger(t, dsn, ReporterDestination)
		for i := range 3 {
			td := ptrace.NewTraces()
			s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
			s.SetKind(ptrace.SpanKindServer)
			s.Attributes().PutInt("gen_ai.usage.input_tokens", 1000)
			s.Attributes().PutDouble("genops.cost.total", 0.0025)
			s.Attributes().PutInt("genops.cost.time", t0.Add(time.Duration(i)*time.Second).UnixNano())
			if err := l.pushTraces(context.Background(), td); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, openDB(t, dsn), "SELECT COUNT(*) FROM genops_cost_ledger"); n != 1 {
			t.Errorf("%d rows for one span retried three times", n)
		}
	})
}

// A log record without a request id is keyed by its content and the
// serving workload: an identical record sent first by another workload
// does not drop it (fourth outside attempt); a model given as an array
// is not a model name in the ledger.
func TestLedgerContentKeyHasTheWorkload(t *testing.T) {
	backends(t, func(t *testing.T, dsn string, _ *pgtest.Server) {
		l := startLedger(t, dsn, ReporterDestination)
		for _, ns := range []string{"evil-ns", "victim-ns", "victim-ns"} {
			ld := accessLogs(call{at: t0, direction: "inbound", team: "ml", in: 1000, nanos: 2500})
			ld.ResourceLogs().At(0).Resource().Attributes().PutStr("k8s.namespace.name", ns)
			a := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
			a.Remove("envoy.request_id")
			a.PutEmptySlice("gen_ai.response.model").AppendEmpty().SetStr("x")
			if err := l.pushLogs(context.Background(), ld); err != nil {
				t.Fatal(err)
			}
		}
		db := openDB(t, dsn)
		if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger"); n != 2 {
			t.Errorf("%d rows, want one per workload", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM genops_cost_ledger WHERE model = 'gpt-4o-mini'"); n != 2 {
			t.Errorf("%d rows with the request model", n)
		}
	})
}
