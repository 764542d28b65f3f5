package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/genops-mesh/otelcol-genops/internal/ledger"
	"github.com/genops-mesh/otelcol-genops/internal/pricing"
)

// chargebackColumns: the --by values and their ledger columns.
var chargebackColumns = map[string]string{
	"team": "team", "project": "project", "customer": "customer_id", "cost_center": "cost_center",
}

// chargebackLine is one line of the report: a --by value in one currency.
type chargebackLine struct {
	Key             string `json:"key"`
	Currency        string `json:"currency"` // "" for calls nothing priced
	Calls           int64  `json:"calls"`
	UnpricedCalls   int64  `json:"unpriced_calls"`
	InputTokens     int64  `json:"input_tokens"`
	CacheReadTokens int64  `json:"cache_read_tokens"`
	OutputTokens    int64  `json:"output_tokens"`
	CostNanos       int64  `json:"cost_nanos"`
	Cost            string `json:"cost"` // to the cent, rounded half to even once
}

type chargebackReport struct {
	Month  string           `json:"month"`
	By     string           `json:"by"`
	Lines  []chargebackLine `json:"lines"`
	Totals []chargebackLine `json:"totals"` // one per currency; Key is "total"
}

func newChargeback() *cobra.Command {
	var dsn, month, by, output string
	cmd := &cobra.Command{
		Use:   "chargeback",
		Short: "An invoice-style report of a month's AI cost from the cost ledger",
		Long: `Reads the cost ledger (the cost_ledger exporter's genops_cost_ledger, in
PostgreSQL or SQLite) and prints one line per team, project, customer or
cost centre and currency for a calendar month (UTC): calls, calls that no
price row priced, tokens, and the cost to the cent. Each line's cost is
the exact sum of its calls' nano-unit costs, rounded half to even once;
the total of each currency is rounded from its exact sum too.`,
		Example: `  genopsctl chargeback --dsn sqlite:genops-ledger.db --month 2026-11 --by team
  genopsctl chargeback --dsn "$GENOPS_LEDGER_DSN" --month 2026-11 --by customer -o csv > november.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			col, ok := chargebackColumns[by]
			if !ok {
				return fmt.Errorf("--by %q: use team, project, customer or cost_center", by)
			}
			start, err := time.Parse("2006-01", month)
			if err != nil {
				return fmt.Errorf("--month %q: use YYYY-MM", month)
			}
			switch output {
			case "table", "csv", "json":
			default:
				return fmt.Errorf("-o %q: use table, csv or json", output)
			}
			r, err := chargeback(cmd.Context(), dsn, col, start)
			if err != nil {
				return err
			}
			r.Month, r.By = month, by
			return writeChargeback(cmd.OutOrStdout(), r, output)
		},
	}
	cmd.Flags().StringVar(&dsn, "dsn", "sqlite:genops-ledger.db", "the ledger: postgres://… or sqlite:PATH")
	cmd.Flags().StringVar(&month, "month", time.Now().UTC().AddDate(0, -1, 0).Format("2006-01"), "calendar month (UTC), YYYY-MM; default: last month")
	cmd.Flags().StringVar(&by, "by", "team", "team, project, customer or cost_center")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, csv or json")
	return cmd
}

func chargeback(ctx context.Context, dsn, col string, start time.Time) (chargebackReport, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	db, engine, err := ledger.Open(dsn)
	if err != nil {
		return chargebackReport{}, err
	}
	defer db.Close()
	q := `SELECT ` + col + `, COALESCE(currency, ''), COUNT(*), COUNT(*) - COUNT(cost_nanos),
		SUM(input_tokens), SUM(cache_read_tokens), SUM(output_tokens), COALESCE(SUM(cost_nanos), 0)
	FROM genops_cost_ledger WHERE ts >= ? AND ts < ?
	GROUP BY ` + col + `, COALESCE(currency, '')`
	rows, err := db.QueryContext(ctx, ledger.Rebind(engine, q), ledger.TimeArg(engine, start), ledger.TimeArg(engine, start.AddDate(0, 1, 0)))
	if err != nil {
		return chargebackReport{}, fmt.Errorf("reading the ledger: %w", err)
	}
	defer rows.Close()
	var r chargebackReport
	totals := map[string]*chargebackLine{}
	for rows.Next() {
		var l chargebackLine
		if err := rows.Scan(&l.Key, &l.Currency, &l.Calls, &l.UnpricedCalls, &l.InputTokens, &l.CacheReadTokens, &l.OutputTokens, &l.CostNanos); err != nil {
			return chargebackReport{}, err
		}
		r.Lines = append(r.Lines, l)
		t := totals[l.Currency]
		if t == nil {
			t = &chargebackLine{Key: "total", Currency: l.Currency}
			totals[l.Currency] = t
		}
		t.Calls += l.Calls
		t.UnpricedCalls += l.UnpricedCalls
		t.InputTokens += l.InputTokens
		t.CacheReadTokens += l.CacheReadTokens
		t.OutputTokens += l.OutputTokens
		t.CostNanos += l.CostNanos
	}
	if err := rows.Err(); err != nil {
		return chargebackReport{}, err
	}
	// Most expensive first; then by key and currency, so equal lines keep
	// one order on both engines.
	sort.Slice(r.Lines, func(i, j int) bool {
		a, b := r.Lines[i], r.Lines[j]
		if a.CostNanos != b.CostNanos {
			return a.CostNanos > b.CostNanos
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.Currency < b.Currency
	})
	for i := range r.Lines {
		r.Lines[i].Cost = cents(r.Lines[i].CostNanos)
	}
	for _, t := range totals {
		t.Cost = cents(t.CostNanos)
		r.Totals = append(r.Totals, *t)
	}
	sort.Slice(r.Totals, func(i, j int) bool { return r.Totals[i].Currency < r.Totals[j].Currency })
	return r, nil
}

// cents renders nano-units to the cent, rounded half to even.
func cents(nanos int64) string {
	c := pricing.DivHalfEven(nanos, 10_000_000) // nano-units per cent
	return fmt.Sprintf("%d.%02d", c/100, c%100)
}

func writeChargeback(w io.Writer, r chargebackReport, output string) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		cw := csv.NewWriter(w)
		// The line column tells a total from a team (or customer) that
		// is named "total".
		_ = cw.Write([]string{"line", r.By, "currency", "calls", "unpriced_calls", "input_tokens", "cache_read_tokens", "output_tokens", "cost_nanos", "cost"})
		for i, l := range append(slices.Clone(r.Lines), r.Totals...) {
			kind, key := "item", l.Key
			if i >= len(r.Lines) {
				kind, key = "total", ""
			}
			_ = cw.Write([]string{kind, key, l.Currency, strconv.FormatInt(l.Calls, 10), strconv.FormatInt(l.UnpricedCalls, 10),
				strconv.FormatInt(l.InputTokens, 10), strconv.FormatInt(l.CacheReadTokens, 10), strconv.FormatInt(l.OutputTokens, 10),
				strconv.FormatInt(l.CostNanos, 10), l.Cost})
		}
		cw.Flush()
		return cw.Error()
	}
	fmt.Fprintf(w, "AI cost by %s, %s (UTC), from the cost ledger\n\n", r.By, r.Month)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tcurrency\tcalls\tunpriced\tinput tokens\tcached\toutput tokens\tcost\t\n", r.By)
	line := func(l chargebackLine) {
		cur := l.Currency
		if cur == "" {
			cur = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t\n", l.Key, cur, l.Calls, l.UnpricedCalls, l.InputTokens, l.CacheReadTokens, l.OutputTokens, l.Cost)
	}
	for _, l := range r.Lines {
		line(l)
	}
	// A rule, then the totals as [total]: a team named "total" is not
	// read as one.
	fmt.Fprintf(tw, "%s\t\t\t\t\t\t\t\t\n", strings.Repeat("-", 8))
	for _, t := range r.Totals {
		t.Key = "[total]"
		line(t)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Lines) == 0 {
		fmt.Fprintln(w, "\nno calls in the ledger for this month")
	}
	return nil
}
