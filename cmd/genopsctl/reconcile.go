package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
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

// usageColumns: for each quantity a provider usage export carries, the
// column names it goes by (compared lower-case, spaces as underscores).
// Every export names the day and the model; the rest are optional.
var usageColumns = map[string][]string{
	"date":        {"date", "day", "usage_date_utc", "usage_date", "start_time", "bucket_start", "starting_at"},
	"model":       {"model", "model_name", "model_version", "snapshot_id"},
	"input":       {"input_tokens", "uncached_input_tokens", "prompt_tokens", "n_context_tokens_total"},
	"cached":      {"cached_tokens", "input_cached_tokens", "cache_read_input_tokens", "cache_read_tokens"},
	"cache_write": {"cache_creation_input_tokens", "cache_write_tokens", "cache_creation_tokens"},
	"output":      {"output_tokens", "completion_tokens", "n_generated_tokens_total"},
	"cost":        {"cost", "cost_usd", "amount", "amount_usd", "total_cost"},
	// Anthropic's Cost API reports amounts in cents.
	"cost_cents": {"cost_cents", "amount_cents"},
}

// usageParts: a quantity an export splits over several columns, summed
// when it has no column of the whole. Anthropic's Messages Usage Report
// splits cache writes by cache lifetime (its JSON's cache_creation
// object, flattened: cache_creation.ephemeral_5m_input_tokens).
var usageParts = map[string][]string{
	"cache_write": {"cache_creation_ephemeral_5m_input_tokens", "cache_creation_ephemeral_1h_input_tokens"},
}

// usageRow is one day and model: the provider's numbers or the ledger's.
type usageRow struct {
	input, cached, cacheWrite, output int64
	costNanos                         int64
	hasCost                           bool
}

type usageKey struct{ day, model string }

func newReconcile() *cobra.Command {
	var dsn, usage string
	var tolerance float64
	var tokensOnly bool
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Compare the cost ledger with a provider's usage export, per day and model",
		Long: `Reads a provider usage export (CSV with a header; the columns are found by
name, see docs/ledger.md) and the cost ledger for the same days, and prints
per day and model the tokens and cost on each side and the drift. A price
table mistake shows up as a cost drift with no token drift, the day it
starts. Exits non-zero when a cost differs by more than --tolerance
percent, or a day and model is on one side only.`,
		Example: `  genopsctl reconcile --dsn "$GENOPS_LEDGER_DSN" --usage openai-usage-2026-11.csv
  genopsctl reconcile --dsn sqlite:genops-ledger.db --usage anthropic-usage.csv --tolerance 0.5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			export, err := readUsage(usage)
			if err != nil {
				return err
			}
			if len(export) == 0 {
				return fmt.Errorf("%s: no rows", usage)
			}
			withCost := false
			for _, u := range export {
				withCost = withCost || u.hasCost
			}
			if !withCost && !tokensOnly {
				// Without the provider's cost a price table mistake cannot
				// show: say so rather than report that nothing differs.
				return fmt.Errorf("%s: no cost column (one of %s, or %s in cents): a price table mistake cannot show; pass --tokens-only to compare the token counts alone",
					usage, strings.Join(usageColumns["cost"], ", "), strings.Join(usageColumns["cost_cents"], ", "))
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ours, err := ledgerUsage(ctx, dsn, export)
			if err != nil {
				return err
			}
			bad := writeReconcile(cmd.OutOrStdout(), export, ours, tolerance)
			if bad > 0 {
				return fmt.Errorf("%d days and models beyond %g%% or on one side only", bad, tolerance)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dsn, "dsn", "sqlite:genops-ledger.db", "the ledger: postgres://… or sqlite:PATH")
	cmd.Flags().StringVar(&usage, "usage", "", "the provider's usage export (CSV)")
	cmd.Flags().Float64Var(&tolerance, "tolerance", 1, "cost drift (token drift with --tokens-only), in percent, above which a day and model is reported as differing")
	cmd.Flags().BoolVar(&tokensOnly, "tokens-only", false, "accept an export without a cost column and compare the token counts")
	_ = cmd.MarkFlagRequired("usage")
	return cmd
}

// readUsage reads an export into per day and model sums.
func readUsage(path string) (map[usageKey]*usageRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	parts := map[string][]int{}
	for i, h := range header {
		name := columnName(h)
		for q, aliases := range usageColumns {
			for _, a := range aliases {
				if _, seen := col[q]; name == a && !seen {
					col[q] = i
				}
			}
		}
		for q, names := range usageParts {
			if slices.Contains(names, name) {
				parts[q] = append(parts[q], i)
			}
		}
	}
	if _, ok := col["cost"]; ok {
		delete(col, "cost_cents")
	}
	for _, q := range []string{"date", "model"} {
		if _, ok := col[q]; !ok {
			return nil, fmt.Errorf("%s: no %s column (one of %s)", path, q, strings.Join(usageColumns[q], ", "))
		}
	}
	out := map[usageKey]*usageRow{}
	line := 1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		field := func(i int) string {
			if i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		get := func(q string) string {
			if i, ok := col[q]; ok {
				return field(i)
			}
			return ""
		}
		day, err := dayOf(get("date"))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		k := usageKey{day, get("model")}
		u := out[k]
		if u == nil {
			u = &usageRow{}
			out[k] = u
		}
		for _, t := range []struct {
			q   string
			dst *int64
		}{{"input", &u.input}, {"cached", &u.cached}, {"cache_write", &u.cacheWrite}, {"output", &u.output}} {
			values := []string{get(t.q)}
			if _, whole := col[t.q]; !whole {
				values = values[:0]
				for _, i := range parts[t.q] {
					values = append(values, field(i))
				}
			}
			for _, s := range values {
				if s == "" {
					continue
				}
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("%s:%d: %s %q is not a token count", path, line, t.q, s)
				}
				*t.dst += n
			}
		}
		for _, q := range []string{"cost", "cost_cents"} {
			s := strings.TrimPrefix(get(q), "$")
			if s == "" {
				continue
			}
			n, err := pricing.ParseNanos(s)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %w", path, line, q, err)
			}
			if q == "cost_cents" {
				n = centsToNanos(n)
			}
			u.costNanos += n
			u.hasCost = true
		}
	}
	return out, nil
}

// columnName is a header as the column lists name it: lower case, every
// run of other characters than letters and digits one underscore, none at
// the ends ("Cost (USD)" is cost_usd, "cache_creation.ephemeral_5m_input_tokens"
// cache_creation_ephemeral_5m_input_tokens).
func columnName(h string) string {
	h = strings.ToLower(strings.TrimPrefix(h, "\ufeff"))
	var b strings.Builder
	gap := false
	for _, c := range h {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(c)
			gap = false
		} else {
			gap = true
		}
	}
	return b.String()
}

// centsToNanos: an amount in cents, read as nano-cents, in nano-units
// of the currency (divided by 100, rounded half to even: a cents amount
// with more than seven decimals has digits finer than a nano-unit).
func centsToNanos(n int64) int64 { return pricing.DivHalfEven(n, 100) }

// dayOf takes the day of a date or timestamp column.
func dayOf(s string) (string, error) {
	for _, layout := range []string{time.DateOnly, time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.DateOnly), nil
		}
	}
	if t, err := strconv.ParseInt(s, 10, 64); err == nil { // unix seconds
		return time.Unix(t, 0).UTC().Format(time.DateOnly), nil
	}
	return "", fmt.Errorf("date %q: use YYYY-MM-DD or RFC 3339", s)
}

// ledgerUsage sums the ledger per day and model over the export's days.
func ledgerUsage(ctx context.Context, dsn string, export map[usageKey]*usageRow) (map[usageKey]*usageRow, error) {
	first, last := "9999-12-31", "0000-01-01"
	for k := range export {
		first, last = min(first, k.day), max(last, k.day)
	}
	from, _ := time.Parse(time.DateOnly, first)
	to, _ := time.Parse(time.DateOnly, last)
	db, engine, err := ledger.Open(dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, ledger.Rebind(engine, `SELECT day, model, SUM(input_tokens), SUM(cache_read_tokens), SUM(cache_write_tokens),
			SUM(output_tokens), COALESCE(SUM(cost_nanos), 0), COUNT(cost_nanos)
		FROM genops_cost_daily WHERE day >= ? AND day <= ? GROUP BY day, model`),
		from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("reading the ledger: %w", err)
	}
	defer rows.Close()
	out := map[usageKey]*usageRow{}
	for rows.Next() {
		var day any
		var model string
		var u usageRow
		var priced int64
		if err := rows.Scan(&day, &model, &u.input, &u.cached, &u.cacheWrite, &u.output, &u.costNanos, &priced); err != nil {
			return nil, err
		}
		var d string
		switch v := day.(type) {
		case time.Time:
			d = v.Format(time.DateOnly)
		case string:
			d = v
		case []byte:
			d = string(v)
		}
		u.hasCost = priced > 0
		out[usageKey{d, model}] = &u
	}
	return out, rows.Err()
}

// writeReconcile prints each day and model with both sides and the drift,
// and returns how many differ beyond tolerance or are on one side only.
func writeReconcile(w io.Writer, export, ours map[usageKey]*usageRow, tolerance float64) int {
	keys := map[usageKey]bool{}
	for k := range export {
		keys[k] = true
	}
	for k := range ours {
		keys[k] = true
	}
	sorted := make([]usageKey, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].day != sorted[j].day {
			return sorted[i].day < sorted[j].day
		}
		return sorted[i].model < sorted[j].model
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "day\tmodel\tinput (ledger/export)\tcached\toutput\tcost ledger\tcost export\tdrift\t\t\n")
	bad := 0
	for _, k := range sorted {
		l, e := ours[k], export[k]
		note := ""
		switch {
		case l == nil:
			l, note = &usageRow{}, "only in the export"
			bad++
		case e == nil:
			e, note = &usageRow{}, "only in the ledger"
			bad++
		case e.hasCost:
			drift := float64(l.costNanos-e.costNanos) / float64(max(e.costNanos, 1)) * 100
			if math.Abs(drift) > tolerance {
				note = fmt.Sprintf("cost %+.2f%%", drift)
				if l.input == e.input && l.cached == e.cached && l.output == e.output {
					note += ": same tokens, check the price table"
				}
				bad++
			}
		default:
			// No cost in the export (--tokens-only): the tokens decide.
			ledgerTokens, exportTokens := l.input+l.cached+l.output, e.input+e.cached+e.output
			if drift := float64(ledgerTokens-exportTokens) / float64(max(exportTokens, 1)) * 100; math.Abs(drift) > tolerance {
				note = fmt.Sprintf("tokens %+.2f%%", drift)
				bad++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%d/%d\t%d/%d\t%s\t%s\t%s\t%s\t\n", k.day, k.model, l.input, e.input, l.cached, e.cached,
			l.output, e.output, pricing.FormatNanos(l.costNanos), pricing.FormatNanos(e.costNanos),
			pricing.FormatNanos(l.costNanos-e.costNanos), note)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\n%d days and models, %d differ (tolerance %g%% of cost)\n", len(sorted), bad, tolerance)
	return bad
}
