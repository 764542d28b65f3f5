package grafana

import (
	"bytes"
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

	"github.com/genops-mesh/otelcol-genops/internal/ledger"
	"github.com/genops-mesh/otelcol-genops/test/ledgertest"
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
	ledgertest.Fill(t, pg.DSN, ledgertest.November)
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
