package grafana

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/genops-mesh/otelcol-genops/exporter/costledgerexporter"
	"github.com/genops-mesh/otelcol-genops/internal/ledger"
	"github.com/genops-mesh/otelcol-genops/test/pgtest"
)

// timeFilter is Grafana's $__timeFilter macro, expanded as the PostgreSQL
// datasource does for a fixed range.
var timeFilter = regexp.MustCompile(`\$__timeFilter\(([a-z_]+)\)`)

// The Chargeback dashboard round-trips through the SDK's strict
// unmarshal, is the golden JSON, and every panel's SQL runs on a real
// PostgreSQL holding a ledger the cost_ledger exporter wrote, with the
// figures the ledger says.
func TestChargebackDashboard(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	d, err := Chargeback()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var back dashboard.Dashboard
	if err := back.UnmarshalJSONStrict(b); err != nil {
		t.Fatalf("strict unmarshal: %v", err)
	}
	if err := back.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	golden := filepath.Join("testdata", ChargebackUID+".json")
	if *update {
		if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want, err := os.ReadFile(golden); err != nil || !bytes.Equal(want, append(b, '\n')) {
		t.Errorf("%s is stale (%v): go test ./dashboards/grafana -update, then read the diff", golden, err)
	}

	pg := pgtest.Start(t)
	fillLedger(t, pg.DSN)
	db, _, err := ledger.Open(pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	results := map[string][][]any{}
	for _, p := range back.Panels {
		if p.Panel == nil {
			continue
		}
		for _, target := range p.Panel.Targets {
			raw, ok := RawSQL(target)
			if !ok {
				t.Fatalf("panel %q: not a SQL target: %T", *p.Panel.Title, target)
			}
			q := timeFilter.ReplaceAllString(raw, "$1 >= '2026-11-01T00:00:00Z' AND $1 < '2026-12-01T00:00:00Z'")
			rows, err := db.Query(q)
			if err != nil {
				t.Fatalf("panel %q: %v\n%s", *p.Panel.Title, err, q)
			}
			results[*p.Panel.Title] = scanAll(t, rows)
		}
	}
	for title, want := range map[string]string{
		"Total cost":       "[[1.27956789]]",
		"Cost by team":     "[[ml USD 1.24956789] [search USD 0.03]]",
		"Top 10 customers": "[[acme ml USD 1 1.23456789] [initech search USD 1 0.025] [globex ml USD 1 0.015] [acme search USD 1 0.005]]",
		"Unpriced calls (no price row matched: add one)": "[[gpt-4o-mini  1 300 30]]",
	} {
		if got := fmt.Sprint(results[title]); got != want {
			t.Errorf("%s: %s, want %s", title, got, want)
		}
	}
	if n := len(results["Cost per model, hourly"]); n != 4 {
		t.Errorf("cost per model: %d hourly points, want 4", n)
	}
}

func scanAll(t *testing.T, rows *sql.Rows) [][]any {
	t.Helper()
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			switch x := v.(type) {
			case float64:
				vals[i] = fmt.Sprintf("%g", x)
			case []byte, string:
				// numeric comes as text: compare it as a number.
				str := fmt.Sprint(x)
				if b, ok := x.([]byte); ok {
					str = string(b)
				}
				if f, err := strconv.ParseFloat(str, 64); err == nil {
					vals[i] = fmt.Sprintf("%g", f)
				} else {
					vals[i] = str
				}
			case time.Time:
				vals[i] = x.UTC().Format(time.RFC3339)
			}
		}
		out = append(out, vals)
	}
	return out
}

// fillLedger writes November's calls (and one of October and December)
// through the real cost_ledger exporter.
func fillLedger(t *testing.T, dsn string) {
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
	for i, c := range []struct {
		at, team, customer string
		in, nanos          int64
	}{
		{"2026-10-31T23:59:59Z", "ml", "acme", 1000, 999_000_000_000},
		{"2026-11-01T00:00:00Z", "ml", "acme", 1000, 1_234_567_890},
		{"2026-11-15T12:00:00Z", "ml", "globex", 500, 15_000_000},
		{"2026-11-30T23:59:59Z", "search", "acme", 2000, 5_000_000},
		{"2026-11-20T08:00:00Z", "search", "initech", 100, 25_000_000},
		{"2026-11-21T08:00:00Z", "search", "initech", 300, -1},
		{"2026-12-01T00:00:00Z", "ml", "acme", 1000, 999_000_000_000},
	} {
		at, _ := time.Parse(time.RFC3339, c.at)
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(at))
		a := lr.Attributes()
		a.PutStr("envoy.request_id", fmt.Sprintf("req-%d", i))
		a.PutStr("envoy.direction", "inbound")
		a.PutStr("genops.team", c.team)
		a.PutStr("genops.customer_id", c.customer)
		a.PutStr("gen_ai.request.model", "gpt-4o-mini")
		a.PutInt("gen_ai.usage.input_tokens", c.in)
		a.PutInt("gen_ai.usage.output_tokens", c.in/10)
		if c.nanos >= 0 {
			a.PutDouble("genops.cost.total", float64(c.nanos)/1e9)
			a.PutStr("genops.cost.currency", "USD")
		}
	}
	if err := exp.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
