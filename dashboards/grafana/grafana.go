// Package grafana generates the GenOps Grafana dashboards — cost by team,
// service SLOs, mesh traffic by team — with grafana-foundation-sdk's
// builders, from the SLO model and the metric contract. Datasources are
// variables (no hard-coded UIDs) and dashboard UIDs are stable, so a
// regenerated dashboard replaces the old one in place.
package grafana

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/genops-mesh/otelcol-genops/dashboards/promrules"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
	"github.com/genops-mesh/otelcol-genops/internal/slo"
)

// Stable dashboard UIDs.
const (
	CostUID    = "genops-cost-by-team"
	SLOUID     = "genops-service-slos"
	TrafficUID = "genops-mesh-traffic"
	PolicyUID  = "genops-policy-enforcement"
)

func ptr[T any](v T) *T { return &v }

// promDS refers to the Prometheus datasource chosen in the dashboard's
// "datasource" variable.
func promDS() common.DataSourceRef {
	return common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${datasource}")}
}

func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend).Datasource(promDS())
}

func instant(expr, refID string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).Instant().Format(prometheus.PromQueryFormatTable).RefId(refID).Datasource(promDS())
}

func datasourceVar(name, label, pluginType string) *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder(name).Label(label).Type(pluginType)
}

// labelVar is a multi-value variable over a label's values, "All" matching
// every value including none.
func labelVar(name, label, metric, promLabel string) *dashboard.QueryVariableBuilder {
	q := fmt.Sprintf("label_values(%s, %s)", metric, promLabel)
	return dashboard.NewQueryVariableBuilder(name).Label(label).
		Query(dashboard.StringOrMap{String: ptr(q)}).Definition(q).
		Datasource(promDS()).Multi(true).IncludeAll(true).AllValue(".*").
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc)
}

// filter is the label matchers every panel of a dashboard applies.
func filter(withCustomer bool) string {
	f := `cluster=~"$cluster",namespace=~"$namespace",genops_team=~"$team",genops_project=~"$project"`
	if withCustomer {
		f += `,genops_customer_id=~"$customer"`
	}
	return f
}

func base(uid, title, description string, tags ...string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).Uid(uid).Description(description).
		Tags(append([]string{"genops"}, tags...)).Editable().Refresh("1m").Time("now-24h", "now").
		Timezone(common.TimeZoneBrowser).
		WithVariable(datasourceVar("datasource", "Prometheus", "prometheus"))
}

// commonVars adds the cluster, namespace, team and project variables, and
// a customer variable over customerFrom's values unless it is "".
func commonVars(b *dashboard.DashboardBuilder, customerFrom string) *dashboard.DashboardBuilder {
	b = b.WithVariable(labelVar("cluster", "Cluster", semconv.PromRequestsTotal, "cluster")).
		WithVariable(labelVar("namespace", "Namespace", semconv.PromRequestsTotal, "namespace")).
		WithVariable(labelVar("team", "Team", semconv.PromRequestsTotal, "genops_team")).
		WithVariable(labelVar("project", "Project", semconv.PromRequestsTotal, "genops_project"))
	if customerFrom != "" {
		b = b.WithVariable(labelVar("customer", "Customer", customerFrom, "genops_customer_id"))
	}
	return b
}

func timeseriesPanel(title, unit string, span uint32, targets ...cog.Builder[variantsDataquery]) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Title(title).Unit(unit).Span(span).Height(8).Datasource(promDS())
	for _, t := range targets {
		p = p.WithTarget(t)
	}
	return p
}

// Cost returns the "Cost by team" dashboard.
func Cost() (dashboard.Dashboard, error) {
	f := filter(true)
	costRate := func(by string) string {
		return fmt.Sprintf(`sum by (%s) (rate(%s{%s}[$__rate_interval]))`, by, semconv.PromCostTotal, f)
	}
	costPeriod := func(by string) string {
		return fmt.Sprintf(`sum by (%s) (increase(%s{%s}[$__range]))`, by, semconv.PromCostTotal, f)
	}
	fReq := filter(false)
	b := commonVars(base(CostUID, "GenOps: cost by team",
		"AI cost, tokens and requests by team, project, customer, cost centre and model, from genops_cost_total, genops_tokens_total and genops_requests_total.", "cost"), semconv.PromCostTotal).
		WithRow(dashboard.NewRowBuilder("Cost")).
		WithPanel(timeseriesPanel("Cost rate by team (per second)", "currencyUSD", 12, query(costRate("genops_team"), "{{genops_team}}"))).
		WithPanel(timeseriesPanel("Cost rate by project (per second)", "currencyUSD", 12, query(costRate("genops_project"), "{{genops_project}}"))).
		WithPanel(stat.NewPanelBuilder().Title("Cost over the period by team").Unit("currencyUSD").Span(8).Height(8).Datasource(promDS()).
			WithTarget(query(costPeriod("genops_team"), "{{genops_team}}").Instant())).
		WithPanel(stat.NewPanelBuilder().Title("Cost over the period by cost centre").Unit("currencyUSD").Span(8).Height(8).Datasource(promDS()).
			WithTarget(query(costPeriod("genops_cost_center"), "{{genops_cost_center}}").Instant())).
		WithPanel(stat.NewPanelBuilder().Title("Cost over the period by model").Unit("currencyUSD").Span(8).Height(8).Datasource(promDS()).
			WithTarget(query(costPeriod("provider, model"), "{{provider}} {{model}}").Instant())).
		WithPanel(table.NewPanelBuilder().Title("Top 10 customers by cost over the period").Span(12).Height(8).Datasource(promDS()).
			WithTarget(instant(fmt.Sprintf(`topk(10, %s)`, costPeriod("genops_customer_id, genops_team")), "A"))).
		WithRow(dashboard.NewRowBuilder("Tokens and requests")).
		WithPanel(timeseriesPanel("Tokens by type (per second)", "short", 12,
			query(fmt.Sprintf(`sum by (token_type) (rate(%s{%s}[$__rate_interval]))`, semconv.PromTokensTotal, f), "{{token_type}}"))).
		WithPanel(timeseriesPanel("Requests by customer tier (per second)", "reqps", 12,
			query(fmt.Sprintf(`sum by (genops_customer_tier) (rate(%s{%s}[$__rate_interval]))`, semconv.PromRequestsTotal, fReq), "{{genops_customer_tier}}"))).
		WithPanel(table.NewPanelBuilder().Title("Teams: cost, requests and error rate over the period").Span(24).Height(8).Datasource(promDS()).
			WithTarget(instant(costPeriod("genops_team"), "Cost")).
			WithTarget(instant(fmt.Sprintf(`sum by (genops_team) (increase(%s{%s}[$__range]))`, semconv.PromRequestsTotal, fReq), "Requests")).
			WithTarget(instant(fmt.Sprintf(`sum by (genops_team) (increase(%s{%s,availability="bad"}[$__range])) / sum by (genops_team) (increase(%s{%s}[$__range]) > 0)`,
				semconv.PromRequestsTotal, fReq, semconv.PromRequestsTotal, fReq), "ErrorRate")))
	return b.Build()
}

// SLOs returns the "Service SLOs" dashboard: one row per SLO of the file.
func SLOs(f *slo.File) (dashboard.Dashboard, error) {
	b := base(SLOUID, "GenOps: service SLOs",
		"For each SLO of the SLO file: current SLI, objective, error budget left and its history, burn rates, firing alerts, and latency percentiles with exemplars that open the trace in Jaeger.", "slo").
		WithVariable(datasourceVar("jaeger", "Jaeger", "jaeger"))
	for _, s := range f.SLOs {
		sel := promrules.IDSelector(s) // namespace, service and name: SLO names repeat across services
		window := promrules.WindowString(s.Window)
		long := promrules.ErrorRatioRecord(window)
		src := promrules.SourceOf(s) // the SLO's own events: access logs, Istio's or Linkerd's metrics
		b = b.WithRow(dashboard.NewRowBuilder(fmt.Sprintf("%s — %s of %s, %s%% over %s", s.Name, s.Kind(), s.Service, fmtFloat(s.Objective), window))).
			WithPanel(stat.NewPanelBuilder().Title("SLI over " + window).Unit("percentunit").Decimals(3).Span(4).Height(6).Datasource(promDS()).
				WithTarget(query(fmt.Sprintf(`1 - %s{%s}`, long, sel), "SLI"))).
			WithPanel(stat.NewPanelBuilder().Title("Objective").Unit("percentunit").Decimals(3).Span(4).Height(6).Datasource(promDS()).
				WithTarget(query(fmt.Sprintf(`%s{%s}`, promrules.ObjectiveRecord, sel), "objective"))).
			WithPanel(gauge.NewPanelBuilder().Title("Error budget left").Unit("percentunit").Min(0).Max(1).Span(4).Height(6).Datasource(promDS()).
				WithTarget(query(fmt.Sprintf(`clamp_min(%s{%s}, 0)`, promrules.BudgetRemainingRecord, sel), "budget left"))).
			WithPanel(timeseriesPanel("Error budget left over time", "percentunit", 12,
				query(fmt.Sprintf(`%s{%s}`, promrules.BudgetRemainingRecord, sel), "budget left"))).
			WithPanel(timeseriesPanel("Burn rate by window (1 = the budget lasts exactly the window)", "short", 12, burnTargets(s, sel)...)).
			WithPanel(table.NewPanelBuilder().Title("Firing alerts").Span(12).Height(6).Datasource(promDS()).
				WithTarget(instant(fmt.Sprintf(`ALERTS{%s,alertstate="firing"}`, sel), "A"))).
			WithPanel(timeseriesPanel("Latency percentiles (exemplars open the trace)", "s", 12,
				latencyTarget(0.5, src), latencyTarget(0.95, src), latencyTarget(0.99, src)).
				DataLinks([]cog.Builder[dashboard.DashboardLink]{
					dashboard.NewDashboardLinkBuilder("Open the trace in Jaeger").Type(dashboard.DashboardLinkTypeLink).
						Url(`/explore?left={"datasource":"${jaeger}","queries":[{"refId":"A","query":"${__data.fields.trace_id}"}]}`).TargetBlank(true),
				}))
	}
	return b.Build()
}

func burnTargets(s slo.SLO, sel string) []cog.Builder[variantsDataquery] {
	budget := s.ErrorBudget()
	if budget == 0 {
		return []cog.Builder[variantsDataquery]{query(fmt.Sprintf(`%s{%s}`, promrules.ErrorRatioRecord("1h"), sel), "error ratio 1h (no budget at 100%)")}
	}
	var out []cog.Builder[variantsDataquery]
	for _, w := range []string{"5m", "1h", "6h", "1d", "3d"} {
		out = append(out, query(fmt.Sprintf(`%s{%s} / %s`, promrules.ErrorRatioRecord(w), sel, fmtFloat(budget)), w))
	}
	return out
}

// latencyTarget is a latency percentile in seconds from the SLO source's
// histogram (the proxies' are in milliseconds).
func latencyTarget(q float64, src promrules.Source) cog.Builder[variantsDataquery] {
	expr := fmt.Sprintf(`histogram_quantile(%s, sum by (le) (rate(%s_bucket{%s}[$__rate_interval])))`, fmtFloat(q), src.Duration, src.Selector())
	if src.PerSecond != 1 {
		expr += " / " + fmtFloat(src.PerSecond)
	}
	return query(expr, fmt.Sprintf("p%s", strings.TrimPrefix(fmtFloat(q*100), "0."))).Exemplar(true)
}

// Traffic returns the "Mesh traffic by team" dashboard, from genops_* and
// from the istio_* series the governance processor labels with genops_team.
func Traffic() (dashboard.Dashboard, error) {
	f := filter(false)
	istio := `reporter="destination",genops_team=~"$team"`
	b := commonVars(base(TrafficUID, "GenOps: mesh traffic by team",
		"Request rate, errors by response code class and Envoy response flags, and latency percentiles by team and service.", "mesh"), "").
		WithRow(dashboard.NewRowBuilder("Requests")).
		WithPanel(timeseriesPanel("Request rate by team", "reqps", 12,
			query(fmt.Sprintf(`sum by (genops_team) (rate(%s{%s}[$__rate_interval]))`, semconv.PromRequestsTotal, f), "{{genops_team}}"))).
		WithPanel(timeseriesPanel("Error rate by response code class", "percentunit", 12,
			query(fmt.Sprintf(`sum by (response_code_class) (rate(%s{%s,availability="bad"}[$__rate_interval])) / scalar(sum(rate(%s{%s}[$__rate_interval])) > 0)`,
				semconv.PromRequestsTotal, f, semconv.PromRequestsTotal, f), "{{response_code_class}}"))).
		WithPanel(timeseriesPanel("Istio requests by response flags (enriched istio_requests_total)", "reqps", 12,
			query(fmt.Sprintf(`sum by (response_flags) (rate(istio_requests_total{%s,response_flags!="-"}[$__rate_interval]))`, istio), "{{response_flags}}"))).
		WithPanel(timeseriesPanel("Istio request rate by team (enriched istio_requests_total)", "reqps", 12,
			query(fmt.Sprintf(`sum by (genops_team) (rate(istio_requests_total{%s}[$__rate_interval]))`, istio), "{{genops_team}}"))).
		WithRow(dashboard.NewRowBuilder("Latency"))
	for _, q := range []float64{0.5, 0.95, 0.99} {
		b = b.WithPanel(timeseriesPanel(fmt.Sprintf("p%s latency by team and service", strings.TrimPrefix(fmtFloat(q*100), "0.")), "s", 8,
			query(fmt.Sprintf(`histogram_quantile(%s, sum by (genops_team, service, le) (rate(%s_bucket{%s}[$__rate_interval])))`, fmtFloat(q), semconv.PromRequestDurationSeconds, f),
				"{{genops_team}} {{service}}").Exemplar(true)))
	}
	return b.Build()
}

// Policy returns the "Policy enforcement" dashboard: which customers and
// teams the mesh's controls act on (rate limits, authorization denials,
// circuit breakers, retries, timeouts, injected faults), from
// genops_policy_events_total and genops_upstream_attempts_total.
func Policy() (dashboard.Dashboard, error) {
	f := filter(true)
	events := func(extra, by string, fn string) string {
		return fmt.Sprintf(`sum by (%s) (%s(%s{%s%s}[%s]))`, by, fn, semconv.PromPolicyEventsTotal, f, extra,
			map[string]string{"rate": "$__rate_interval", "increase": "$__range"}[fn])
	}
	b := commonVars(base(PolicyUID, "GenOps: policy enforcement",
		"Requests the mesh's controls acted on (rate limited, denied and by which RBAC policy, circuit open, retries exhausted, timed out, fault injected) by customer, team and service, and the upstream attempts retries cost; from genops_policy_events_total and genops_upstream_attempts_total.", "policy"),
		// a customer rate limited may have no AI cost: its requests name it
		semconv.PromRequestsTotal).
		WithRow(dashboard.NewRowBuilder("Rate limits")).
		WithPanel(timeseriesPanel("Rate-limited requests by customer (per second)", "reqps", 12,
			query(events(`,policy="rate_limited"`, "genops_customer_id, genops_team", "rate"), "{{genops_customer_id}} ({{genops_team}})"))).
		WithPanel(table.NewPanelBuilder().Title("Customers rate limited over the period: requests and share of theirs").Span(12).Height(8).Datasource(promDS()).
			WithTarget(instant(events(`,policy="rate_limited"`, "genops_customer_id, genops_team", "increase"), "RateLimited")).
			// per reporter, then the larger: with reporter both each
			// request is counted twice, its rate limit once
			WithTarget(instant(fmt.Sprintf(`max by (genops_customer_id, genops_team) (%s / sum by (genops_customer_id, genops_team, reporter) (increase(%s{%s}[$__range]) > 0))`,
				events(`,policy="rate_limited"`, "genops_customer_id, genops_team, reporter", "increase"), semconv.PromRequestsTotal, f), "Share"))).
		WithRow(dashboard.NewRowBuilder("Authorization")).
		WithPanel(table.NewPanelBuilder().Title("Top denied callers by policy over the period").Span(12).Height(8).Datasource(promDS()).
			WithTarget(instant(fmt.Sprintf(`topk(20, %s)`, events(`,policy="denied"`, "genops_team, genops_customer_id, service, policy_name", "increase")), "A"))).
		WithPanel(timeseriesPanel("Denied requests by team (per second)", "reqps", 12,
			query(events(`,policy="denied"`, "genops_team", "rate"), "{{genops_team}}"))).
		WithRow(dashboard.NewRowBuilder("Resilience")).
		WithPanel(timeseriesPanel("Circuit breaker, timeout, retries exhausted and injected faults by service (per second)", "reqps", 12,
			query(events(`,policy=~"circuit_open|timeout|retry_exhausted|fault_injected"`, "service, policy", "rate"), "{{service}} {{policy}}"))).
		WithPanel(timeseriesPanel("Retries by calling team and service (upstream attempts beyond the first, per second)", "reqps", 12,
			query(fmt.Sprintf(`sum by (genops_team, service) (rate(%s{%s}[$__rate_interval]))`, semconv.PromUpstreamRetriesTotal, f), "{{genops_team}} {{service}}")))
	return b.Build()
}
