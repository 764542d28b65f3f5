package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genops-mesh/otelcol-genops/test/ledgertest"
	"github.com/genops-mesh/otelcol-genops/test/pgtest"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

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
			ledgertest.Fill(t, dsn, ledgertest.November)
			for _, tc := range []struct{ by, output string }{
				{"team", "table"}, {"customer", "table"}, {"team", "csv"}, {"customer", "json"},
			} {
				out, err := run(t, "chargeback", "--dsn", dsn, "--month", "2026-11", "--by", tc.by, "-o", tc.output)
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				checkGolden(t, "chargeback-"+tc.by+"."+map[string]string{"table": "txt", "csv": "csv", "json": "json"}[tc.output], out, engine == "sqlite")
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

// checkGolden compares out with testdata/name; -update rewrites the file
// (from one engine's run: the others must then agree with it).
func checkGolden(t *testing.T, name, out string, writer bool) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *updateGolden && writer {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("differs from %s:\n%s", golden, out)
	}
}
