package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genops-mesh/otelcol-genops/test/ledgertest"
	"github.com/genops-mesh/otelcol-genops/test/pgtest"
)

// The ledger of TestChargeback against a provider export: matching days
// pass, a day priced at half the provider's price is flagged as a price
// table mistake (same tokens), an unpriced day and a day the ledger never
// saw are flagged; rows of one day add up. Golden, on both engines.
func TestReconcile(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
			if engine == "postgres" {
				dsn = pgtest.Start(t).DSN
			}
			ledgertest.Fill(t, dsn, ledgertest.November)
			out, err := run(t, "reconcile", "--dsn", dsn, "--usage", filepath.Join("testdata", "usage-openai.csv"))
			if err == nil || !strings.Contains(err.Error(), "3 days and models beyond 1% or on one side only") {
				t.Errorf("want 3 differing days and models, got %v", err)
			}
			checkGolden(t, "reconcile-openai.txt", out, engine == "sqlite")
			// Anthropic's column names; a day that matches.
			out, err = run(t, "reconcile", "--dsn", dsn, "--usage", filepath.Join("testdata", "usage-anthropic.csv"))
			if err != nil || !strings.Contains(out, "1 days and models, 0 differ") {
				t.Errorf("anthropic shape: %v\n%s", err, out)
			}
		})
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("when,what\n2026-11-01,x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "reconcile", "--dsn", "sqlite:x.db", "--usage", bad); err == nil || !strings.Contains(out+err.Error(), "no date column") {
		t.Errorf("an export without a date column: %v %s", err, out)
	}
}

// Anthropic's Messages Usage Report flattened to CSV: cache writes split
// by cache lifetime add up, rows of two service tiers add up, and an
// amount in cents is read as cents.
func TestReadUsageAnthropicReport(t *testing.T) {
	file := filepath.Join(t.TempDir(), "report.csv")
	csv := "starting_at,model,service_tier,uncached_input_tokens,cache_creation.ephemeral_5m_input_tokens,cache_creation.ephemeral_1h_input_tokens,cache_read_input_tokens,output_tokens,amount_cents\n" +
		"2026-11-01T00:00:00Z,claude-sonnet-4-20250514,standard,1500,500,1000,200,500,123.45\n" +
		"2026-11-01T00:00:00Z,claude-sonnet-4-20250514,batch,10,0,5,0,1,0.005\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readUsage(file)
	if err != nil {
		t.Fatal(err)
	}
	u := got[usageKey{"2026-11-01", "claude-sonnet-4-20250514"}]
	if u == nil || len(got) != 1 {
		t.Fatalf("%v", got)
	}
	// 123.45 + 0.005 cents = 1.23455 USD; 0.005 cents is 50,000 nanos.
	if *u != (usageRow{input: 1510, cached: 200, cacheWrite: 1505, output: 501, costNanos: 1_234_550_000, hasCost: true}) {
		t.Errorf("%+v", *u)
	}
}

// An export without a cost column cannot show a price table mistake:
// reconcile says so instead of reporting that nothing differs, unless
// told to compare tokens alone, when token drift is what it flags.
// "Cost (USD)" is a cost column.
func TestReconcileWithoutCost(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "ledger.db")
	ledgertest.Fill(t, dsn, ledgertest.November)
	noCost := filepath.Join(t.TempDir(), "usage.csv")
	if err := os.WriteFile(noCost, []byte("start_time,model,input_tokens,input_cached_tokens,output_tokens,batch\n1793491200,gpt-4o-mini,1,0,1,false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "reconcile", "--dsn", dsn, "--usage", noCost); err == nil || !strings.Contains(err.Error(), "no cost column") {
		t.Errorf("an export without cost: %v", err)
	}
	out, err := run(t, "reconcile", "--dsn", dsn, "--usage", noCost, "--tokens-only")
	if err == nil || !strings.Contains(out, "tokens ") {
		t.Errorf("--tokens-only with other token counts than the ledger: %v\n%s", err, out)
	}
	if got := columnName("Cost (USD)"); got != "cost_usd" {
		t.Errorf("columnName: %q", got)
	}
}
