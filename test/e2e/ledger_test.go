package e2e

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/pgtest"
)

// ledgerPrices: one model, two price periods (one price with four
// decimals, which is no whole nano-unit per token).
const ledgerPrices = `currency: USD
models:
  - {match: "gpt-test*", provider: openai, valid_from: "2026-01-01", per_million: {input: 2.5, cached_input: 0.625, output: 10, reasoning: 12}}
  - {match: "gpt-test*", provider: openai, valid_from: "2026-11-15", per_million: {input: 1.25, cached_input: 0.3125, output: 5, reasoning: 6}}
`

// Tenths of a nano-unit per token in each period: input, cached, output,
// reasoning (0.3125 per million is 312.5 nano-units a token).
var ledgerPeriods = map[bool][4]int64{false: {25000, 6250, 100000, 120000}, true: {12500, 3125, 50000, 60000}}

// Scenario "ledger" (docs/ledger.md): N priced calls, access log lines in
// two price periods (file tail) and spans (OTLP), with cached and
// reasoning tokens, through the built binary into a real PostgreSQL: N
// rows, and the hourly rollup equals the exact expected cost to the
// nano-unit. Half the calls first; then, with PostgreSQL stopped for 60 s,
// the other half and the first half again, the collector SIGKILLed and
// restarted meanwhile on its persistent queue and checkpoints: exactly N
// rows and the exact total, and still after everything is sent once more.
func TestCostLedgerExactThroughCrashAndOutage(t *testing.T) {
	pg := pgtest.Start(t)
	dir := t.TempDir()
	prices := filepath.Join(dir, "pricing.yaml")
	if err := os.WriteFile(prices, []byte(ledgerPrices), 0o600); err != nil {
		t.Fatal(err)
	}
	logs, storage := filepath.Join(dir, "pods"), filepath.Join(dir, "storage")
	for _, d := range []string{logs, storage} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	otlp, health := collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	start := func() *collectortest.Process {
		col := collectortest.StartConfigs(t, map[string]string{"E2E_HEALTH": health, "E2E_STORAGE": storage, "E2E_LOGS": logs,
			"E2E_OTLP": otlp, "E2E_PRICES": prices, "E2E_DSN": pg.DSN}, "testdata/ledger.yaml", "testdata/no-telemetry.yaml")
		col.WaitHealthy(t, health)
		return col
	}
	col := start()

	// Access log lines: call i on 2026-11-10 (first period) or 2026-11-20.
	const nLines, nSpans = 120, 80
	var want, firstHalf int64
	cost := func(late bool, i int) int64 {
		p := ledgerPeriods[late]
		in, cached, out, reasoning := int64(1000+i), int64(200), int64(100+i), int64(30)
		return ((in-cached)*p[0] + cached*p[1] + (out-reasoning)*p[2] + reasoning*p[3]) / 10 // 200 cached tokens: whole nanos
	}
	var lines [2]strings.Builder // the first half, the second half
	for i := range nLines {
		day := "2026-11-10"
		if i%2 == 1 {
			day = "2026-11-20"
		}
		want += cost(i%2 == 1, i)
		if i < nLines/2 {
			firstHalf += cost(i%2 == 1, i)
		}
		fmt.Fprintf(&lines[i*2/nLines], `%sT10:%02d:00.000000000Z stdout F {"start_time":"%sT10:%02d:00.000Z","method":"POST","path":"/v1/chat",`+
			`"protocol":"HTTP/2","response_code":200,"duration":120,"upstream_cluster":"inbound|8080||","request_id":"line-%d",`+
			`"downstream_remote_address":"10.0.0.2:4%04d","genops_team":"ml","genops_customer_id":"cust-%d","genops_model":"gpt-test-1",`+
			`"genops_provider":"openai","genops_tokens_input":"%d","genops_tokens_cache_read":"200","genops_tokens_output":"%d",`+
			`"genops_tokens_reasoning":"30"}`+"\n", day, i%60, day, i%60, i, i, i%5, 1000+i, 100+i)
	}
	logFile := filepath.Join(logs, "ai_llm-0_uid-llm", "istio-proxy", "0.log")
	if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
		t.Fatal(err)
	}
	appendLines := func(half int) {
		f, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(lines[half].String()); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	// Spans: SERVER spans of now (the second period; over the network a
	// call may not be older than an hour).
	now := time.Now()
	var spans [2]strings.Builder
	for h := range spans {
		spans[h].WriteString(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"llm"}}]},"scopeSpans":[{"spans":[`)
	}
	for i := range nSpans {
		h := i * 2 / nSpans
		if i != h*nSpans/2 {
			spans[h].WriteString(",")
		}
		j := nLines + i
		want += cost(true, j)
		if i < nSpans/2 {
			firstHalf += cost(true, j)
		}
		ts := now.Add(-time.Duration(i) * time.Second).UnixNano()
		fmt.Fprintf(&spans[h], `{"traceId":"%032x","spanId":"%016x","name":"chat","kind":2,"startTimeUnixNano":"%d","endTimeUnixNano":"%d","attributes":[`+
			`{"key":"gen_ai.request.model","value":{"stringValue":"gpt-test-1"}},{"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},`+
			`{"key":"gen_ai.usage.input_tokens","value":{"intValue":"%d"}},{"key":"gen_ai.usage.cache_read.input_tokens","value":{"intValue":"200"}},`+
			`{"key":"gen_ai.usage.output_tokens","value":{"intValue":"%d"}},{"key":"gen_ai.usage.reasoning.output_tokens","value":{"intValue":"30"}},`+
			`{"key":"genops.team","value":{"stringValue":"search"}}]}`, 0xabc0+i, 0xdef0+i, ts, ts+1e6, 1000+j, 100+j)
	}
	for h := range spans {
		spans[h].WriteString(`]}]}]}`)
	}
	sendSpans := func(half int) {
		post(t, "http://"+otlp+"/v1/traces", "application/json", spans[half].String())
	}

	db, err := sql.Open("pgx", pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	query := func(q string) (int64, error) {
		var n sql.NullInt64
		err := db.QueryRow(q).Scan(&n)
		return n.Int64, err
	}
	const n = nLines + nSpans
	exact := func(n, want int64) error {
		rows, err := query("SELECT COUNT(*) FROM genops_cost_ledger")
		if err != nil {
			return err
		}
		if rows != n {
			return fmt.Errorf("%d rows, want %d", rows, n)
		}
		for _, view := range []string{"genops_cost_ledger", "genops_cost_hourly", "genops_cost_daily"} {
			if sum, err := query("SELECT SUM(cost_nanos) FROM " + view); err != nil || sum != want {
				return fmt.Errorf("%s: %d nanos (%v), want %d", view, sum, err, want)
			}
		}
		if periods, err := query("SELECT COUNT(DISTINCT price_row) FROM genops_cost_ledger"); err != nil || periods != 2 {
			return fmt.Errorf("%d price rows used (%v), want 2", periods, err)
		}
		return nil
	}

	// The first half of the calls.
	appendLines(0)
	sendSpans(0)
	col.Eventually(t, 60*time.Second, func() error { return exact(n/2, firstHalf) })

	// While PostgreSQL is down: the second half, and the first half
	// again; the collector killed mid-retry and restarted on its queue
	// and checkpoints; PostgreSQL back after 60 s.
	pg.Stop(t)
	down := time.Now()
	appendLines(1)
	appendLines(0)
	sendSpans(1)
	sendSpans(0)
	time.Sleep(2 * time.Second) // retries against the stopped database
	col.Kill(t)
	col = start()
	time.Sleep(time.Until(down.Add(60 * time.Second)))
	pg.StartAgain(t)
	col.Eventually(t, 120*time.Second, func() error { return exact(n, want) })
	// And again, with the database up: nothing changes.
	sendSpans(1)
	appendLines(1)
	time.Sleep(3 * time.Second)
	if err := exact(n, want); err != nil {
		t.Error(err)
	}
	t.Logf("%d calls, %d nanos (%s USD), exact after a SIGKILL and a 60 s PostgreSQL outage", n, want, fmt.Sprintf("%d.%09d", want/1e9, want%1e9))
}
