package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/genops-mesh/otelcol-genops/exporter/costledgerexporter"
	"github.com/genops-mesh/otelcol-genops/test/pgtest"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/chargeback-* from the current output")

// ledgerCall is one governed, priced access log record.
type ledgerCall struct {
	at             string
	team, customer string
	in, cached     int64
	nanos          int64 // -1: unpriced
}

// fillLedger writes calls through the real cost_ledger exporter.
func fillLedger(t *testing.T, dsn string, calls []ledgerCall) {
	t.Helper()
	f := costledgerexporter.NewFactory()
	cfg := f.CreateDefaultConfig().(*costledgerexporter.Config)
	cfg.DSN = dsn
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	exp, err := f.CreateLogs(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i, c := range calls {
		at, err := time.Parse(time.RFC3339, c.at)
		if err != nil {
			t.Fatal(err)
		}
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(at))
		a := lr.Attributes()
		a.PutStr("envoy.request_id", fmt.Sprintf("req-%d", i))
		a.PutStr("envoy.direction", "inbound")
		a.PutStr("genops.team", c.team)
		a.PutStr("genops.customer_id", c.customer)
		a.PutStr("gen_ai.request.model", "gpt-4o-mini")
		a.PutInt("gen_ai.usage.input_tokens", c.in)
		a.PutInt("gen_ai.usage.cache_read.input_tokens", c.cached)
		a.PutInt("gen_ai.usage.output_tokens", c.in/10)
		if c.nanos >= 0 {
			a.PutDouble("genops.cost.total", float64(c.nanos)/1e9)
			a.PutStr("genops.cost.currency", "USD")
			a.PutStr("genops.cost.price_row", "gpt-4o-mini*")
		}
	}
	if err := exp.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

var novemberCalls = []ledgerCall{
	{"2026-10-31T23:59:59Z", "ml", "acme", 1000, 0, 999_000_000_000}, // October: not in the report
	{"2026-11-01T00:00:00Z", "ml", "acme", 1000, 200, 1_234_567_890},
	{"2026-11-15T12:00:00Z", "ml", "globex", 500, 0, 15_000_000},      // 1.5 cents
	{"2026-11-30T23:59:59Z", "search", "acme", 2000, 1000, 5_000_000}, // half a cent: to even, 0.00
	{"2026-11-20T08:00:00Z", "search", "initech", 100, 0, 25_000_000}, // 2.5 cents
	{"2026-11-21T08:00:00Z", "search", "initech", 300, 0, -1},         // unpriced
	{"2026-12-01T00:00:00Z", "ml", "acme", 1000, 0, 999_000_000_000},  // December: not in the report
}

// The report of a month, by team and by customer, in each format, is the
// same from SQLite and PostgreSQL and matches the golden files; the
// month's bounds are exact and each line is rounded once, half to even.
func TestChargeback(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
			if engine == "postgres" {
				dsn = pgtest.Start(t).DSN
			}
			fillLedger(t, dsn, novemberCalls)
			for _, tc := range []struct{ by, output string }{
				{"team", "table"}, {"customer", "table"}, {"team", "csv"}, {"customer", "json"},
			} {
				out, err := run(t, "chargeback", "--dsn", dsn, "--month", "2026-11", "--by", tc.by, "-o", tc.output)
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				golden := filepath.Join("testdata", "chargeback-"+tc.by+"."+map[string]string{"table": "txt", "csv": "csv", "json": "json"}[tc.output])
				if *updateGolden && engine == "sqlite" {
					if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if out != string(want) {
					t.Errorf("%s by %s -o %s differs from %s:\n%s", engine, tc.by, tc.output, golden, out)
				}
			}
		})
	}
	// docs/ledger.md shows the team report as it is.
	page, err := os.ReadFile(filepath.Join("..", "..", "docs", "ledger.md"))
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "chargeback-team.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "```\n"+string(golden)+"```") {
		t.Error("docs/ledger.md: the chargeback example is not testdata/chargeback-team.txt")
	}
	if _, err := run(t, "chargeback", "--month", "November", "--dsn", "sqlite:x.db"); err == nil {
		t.Error("a bad --month accepted")
	}
	if _, err := run(t, "chargeback", "--by", "colour", "--dsn", "sqlite:x.db"); err == nil {
		t.Error("a bad --by accepted")
	}
}
