package grafana

import (
	"github.com/grafana/grafana-foundation-sdk/go/barchart"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// ChargebackUID is the "Chargeback" dashboard's UID.
const ChargebackUID = "genops-chargeback"

// ledgerDS refers to the PostgreSQL datasource of the cost ledger chosen
// in the dashboard's "ledger" variable.
func ledgerDS() common.DataSourceRef {
	return common.DataSourceRef{Type: ptr(postgresPlugin), Uid: ptr("${ledger}")}
}

// postgresPlugin is Grafana's core PostgreSQL datasource.
const postgresPlugin = "grafana-postgresql-datasource"

// sqlQuery is a PostgreSQL datasource target. grafana-foundation-sdk
// v0.0.12 has no builder for SQL datasources, so the target is the
// datasource's own JSON model (rawSql, format, code editor), which the
// SDK carries as an unknown dataquery.
type sqlQuery struct{ q variants.UnknownDataquery }

func sqlTarget(refID, format, rawSQL string) sqlQuery {
	return sqlQuery{variants.UnknownDataquery{
		"refId": refID, "datasource": map[string]any{"type": postgresPlugin, "uid": "${ledger}"},
		"rawQuery": true, "editorMode": "code", "format": format, "rawSql": rawSQL,
	}}
}

func (s sqlQuery) Build() (variants.Dataquery, error) { return s.q, nil }

// RawSQL is the SQL of a chargeback panel's target (docs and tests).
func RawSQL(q variants.Dataquery) (string, bool) {
	u, ok := q.(variants.UnknownDataquery)
	if !ok {
		if p, isPtr := q.(*variants.UnknownDataquery); isPtr {
			u, ok = *p, true
		}
	}
	if !ok {
		return "", false
	}
	s, ok := u["rawSql"].(string)
	return s, ok
}

// The chargeback queries, over the time picker's range ($__timeFilter);
// the dashboard opens on "this month so far". Costs are exact nano-unit
// sums divided once.
const (
	sqlCostByTeam = `SELECT team AS "team", currency AS "currency", SUM(cost_nanos) / 1e9 AS "cost"
FROM genops_cost_ledger
WHERE $__timeFilter(ts) AND cost_nanos IS NOT NULL
GROUP BY team, currency
ORDER BY 3 DESC`
	sqlTotal = `SELECT SUM(cost_nanos) / 1e9 AS "cost"
FROM genops_cost_ledger
WHERE $__timeFilter(ts)`
	sqlTopCustomers = `SELECT customer_id AS "customer", team AS "team", currency AS "currency",
  COUNT(*) AS "calls", SUM(cost_nanos) / 1e9 AS "cost"
FROM genops_cost_ledger
WHERE $__timeFilter(ts) AND cost_nanos IS NOT NULL
GROUP BY customer_id, team, currency
ORDER BY 5 DESC
LIMIT 10`
	sqlCostPerModel = `SELECT hour AS "time", model AS "metric", SUM(cost_nanos) / 1e9 AS "cost"
FROM genops_cost_hourly
WHERE $__timeFilter(hour) AND cost_nanos IS NOT NULL
GROUP BY 1, 2
ORDER BY 1`
	sqlUnpriced = `SELECT model AS "model", provider AS "provider", COUNT(*) AS "calls",
  SUM(input_tokens) AS "input tokens", SUM(output_tokens) AS "output tokens"
FROM genops_cost_ledger
WHERE $__timeFilter(ts) AND cost_nanos IS NULL
GROUP BY model, provider
ORDER BY 3 DESC`
)

// Chargeback returns the "Chargeback" dashboard: month to date by team,
// top customers, cost per model and unpriced calls, from the cost ledger
// (exporter/costledgerexporter) in PostgreSQL: exact figures, not
// extrapolated counters.
func Chargeback() (dashboard.Dashboard, error) {
	return dashboard.NewDashboardBuilder("GenOps: chargeback").
		Uid(ChargebackUID).
		Description("AI cost from the cost ledger (PostgreSQL): exact sums of priced calls by team, customer and model, and the calls no price row priced. Opens on this month so far.").
		Tags([]string{"genops", "cost", "chargeback"}).
		Time("now/M", "now").
		Timezone("utc").
		Refresh("5m").
		WithVariable(datasourceVar("ledger", "Cost ledger", postgresPlugin)).
		WithRow(dashboard.NewRowBuilder("Month to date")).
		WithPanel(stat.NewPanelBuilder().Title("Total cost").Unit("currencyUSD").Decimals(2).Span(6).Height(8).Datasource(ledgerDS()).
			WithTarget(sqlTarget("A", "table", sqlTotal))).
		WithPanel(barchart.NewPanelBuilder().Title("Cost by team").Unit("currencyUSD").Decimals(2).Span(18).Height(8).Datasource(ledgerDS()).
			WithTarget(sqlTarget("A", "table", sqlCostByTeam))).
		WithRow(dashboard.NewRowBuilder("Customers and models")).
		WithPanel(table.NewPanelBuilder().Title("Top 10 customers").Span(12).Height(9).Datasource(ledgerDS()).
			WithTarget(sqlTarget("A", "table", sqlTopCustomers))).
		WithPanel(timeseries.NewPanelBuilder().Title("Cost per model, hourly").Unit("currencyUSD").Span(12).Height(9).Datasource(ledgerDS()).
			WithTarget(sqlTarget("A", "time_series", sqlCostPerModel))).
		WithRow(dashboard.NewRowBuilder("Not billed")).
		WithPanel(table.NewPanelBuilder().Title("Unpriced calls (no price row matched: add one)").Span(24).Height(8).Datasource(ledgerDS()).
			WithTarget(sqlTarget("A", "table", sqlUnpriced))).
		Build()
}
