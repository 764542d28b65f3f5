// Package ledgertest fills a cost ledger for tests through the real
// cost_ledger exporter (no queue: each call is written before Fill
// returns), with a month of calls that the reports and dashboards over
// the ledger are checked against.
package ledgertest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/genops-mesh/otelcol-genops/exporter/costledgerexporter"
)

// Call is one governed access log record of an AI call (model
// gpt-4o-mini), output tokens a tenth of the input.
type Call struct {
	At             string // RFC 3339
	Team, Customer string
	In, Cached     int64
	Nanos          int64 // the cost in nano-units; -1: unpriced
}

// November: five priced calls and one unpriced in November 2026, one call
// just before and one just after the month (which no November report may
// count), amounts that exercise rounding to the cent (1.5 and 2.5 cents,
// half a cent).
var November = []Call{
	{"2026-10-31T23:59:59Z", "ml", "acme", 1000, 0, 999_000_000_000},
	{"2026-11-01T00:00:00Z", "ml", "acme", 1000, 200, 1_234_567_890},
	{"2026-11-15T12:00:00Z", "ml", "globex", 500, 0, 15_000_000},
	{"2026-11-30T23:59:59Z", "search", "acme", 2000, 1000, 5_000_000},
	{"2026-11-20T08:00:00Z", "search", "initech", 100, 0, 25_000_000},
	{"2026-11-21T08:00:00Z", "search", "initech", 300, 0, -1},
	{"2026-12-01T00:00:00Z", "ml", "acme", 1000, 0, 999_000_000_000},
}

// Fill writes calls into the ledger at dsn.
func Fill(t testing.TB, dsn string, calls []Call) {
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
		at, err := time.Parse(time.RFC3339, c.At)
		if err != nil {
			t.Fatal(err)
		}
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(at))
		a := lr.Attributes()
		a.PutStr("envoy.request_id", fmt.Sprintf("req-%d", i))
		a.PutStr("envoy.direction", "inbound")
		a.PutStr("genops.team", c.Team)
		a.PutStr("genops.customer_id", c.Customer)
		a.PutStr("gen_ai.request.model", "gpt-4o-mini")
		a.PutInt("gen_ai.usage.input_tokens", c.In)
		a.PutInt("gen_ai.usage.cache_read.input_tokens", c.Cached)
		a.PutInt("gen_ai.usage.output_tokens", c.In/10)
		if c.Nanos >= 0 {
			a.PutDouble("genops.cost.total", float64(c.Nanos)/1e9)
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
