// Package kiali generates the "GenOps governance" Kiali custom dashboard
// — requests, cost and latency of a workload by team, tier and customer —
// with Kiali's own dashboard types, so that what Kiali parses is what is
// generated. Kiali discovers it on genops_requests_total, whose namespace
// and app labels are the destination workload's, as on Istio's metrics.
package kiali

import (
	"github.com/kiali/kiali/config/dashboards"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
	"github.com/genops-mesh/otelcol-genops/internal/slo"
)

// Name is the dashboard's name: the value of the pod annotation
// kiali.io/dashboards that shows it on a workload.
const Name = "genops-governance"

func chart(name, unit, metric, dataType string, span int, group []string, aggregations ...dashboards.MonitoringDashboardAggregation) dashboards.MonitoringDashboardItem {
	return dashboards.MonitoringDashboardItem{Chart: dashboards.MonitoringDashboardChart{
		Name: name, Unit: unit, Spans: span, DataType: dataType, GroupLabels: group,
		Metrics:      []dashboards.MonitoringDashboardMetric{{MetricName: metric, DisplayName: name}},
		Aggregations: aggregations,
	}}
}

func agg(label, display string) dashboards.MonitoringDashboardAggregation {
	return dashboards.MonitoringDashboardAggregation{Label: label, DisplayName: display}
}

// Dashboard returns the GenOps governance dashboard.
func Dashboard() dashboards.MonitoringDashboard {
	splits := []dashboards.MonitoringDashboardAggregation{
		agg(semconv.LabelGenOpsTeam, "Team"), agg(semconv.LabelGenOpsProject, "Project"),
		agg(semconv.LabelGenOpsTier, "Customer tier"), agg(semconv.LabelGenOpsCustomerID, "Customer"),
	}
	return dashboards.MonitoringDashboard{
		Name:       Name,
		Title:      "GenOps governance",
		Runtime:    "GenOps",
		DiscoverOn: semconv.PromRequestsTotal,
		Items: []dashboards.MonitoringDashboardItem{
			chart("Requests by team", "ops", semconv.PromRequestsTotal, dashboards.Rate, 6, []string{semconv.LabelGenOpsTeam},
				append(splits, agg(semconv.LabelAvailability, "Availability"), agg(semconv.LabelResponseCodeClass, "Response code class"))...),
			chart("Cost by team", "", semconv.PromCostTotal, dashboards.Rate, 6, []string{semconv.LabelGenOpsTeam},
				append(splits, agg(semconv.LabelModel, "Model"), agg(semconv.LabelProvider, "Provider"))...),
			chart("Tokens by type", "", semconv.PromTokensTotal, dashboards.Rate, 6, []string{semconv.LabelTokenType},
				append(splits, agg(semconv.LabelModel, "Model"))...),
			chart("Latency by customer tier", "seconds", semconv.PromRequestDurationSeconds, dashboards.Histogram, 6, []string{semconv.LabelGenOpsTier},
				agg(semconv.LabelGenOpsTeam, "Team"), agg(semconv.LabelRoute, "Route")),
			chart("Policy events (rate limited, denied, circuit open…)", "ops", semconv.PromPolicyEventsTotal, dashboards.Rate, 6, []string{semconv.LabelPolicy},
				agg(semconv.LabelGenOpsTeam, "Team"), agg(semconv.LabelGenOpsCustomerID, "Customer"), agg(semconv.LabelPolicyName, "Policy name")),
		},
	}
}

// meshDashboard is a dashboard over a mesh's own metrics, with the genops
// labels the governance processor adds to them (SLO source istio or
// linkerd). The daemonset's scrape relabels namespace and app onto these
// series, which is what Kiali filters a workload's dashboards by.
func meshDashboard(name, title, requests, latency, outcomeLabel, outcome string) dashboards.MonitoringDashboard {
	splits := []dashboards.MonitoringDashboardAggregation{
		agg(semconv.LabelGenOpsTeam, "Team"), agg(semconv.LabelGenOpsProject, "Project"),
		agg(semconv.LabelGenOpsTier, "Customer tier"), agg("source_"+semconv.LabelGenOpsTeam, "Source team"),
	}
	lat := chart("Latency by team", "seconds", latency, dashboards.Histogram, 6, []string{semconv.LabelGenOpsTeam}, splits...)
	lat.Chart.UnitScale = 0.001 // the proxies' histograms are in milliseconds
	return dashboards.MonitoringDashboard{
		Name:       name,
		Title:      title,
		Runtime:    "GenOps",
		DiscoverOn: requests,
		Items: []dashboards.MonitoringDashboardItem{
			chart("Requests by team", "ops", requests, dashboards.Rate, 6, []string{semconv.LabelGenOpsTeam},
				append(splits, agg(outcomeLabel, outcome))...),
			lat,
		},
	}
}

// Dashboards returns the GenOps governance dashboard and, for each proxy
// source the SLO file uses (istio, linkerd), the same view over that
// mesh's own metrics ("genops-governance-istio", "-linkerd").
func Dashboards(f *slo.File) []dashboards.MonitoringDashboard {
	out := []dashboards.MonitoringDashboard{Dashboard()}
	used := map[string]bool{}
	for _, s := range f.SLOs {
		used[s.Source] = true
	}
	if used[slo.SourceIstio] {
		out = append(out, meshDashboard(Name+"-istio", "GenOps governance (Istio metrics)",
			semconv.PromIstioRequestsTotal, semconv.PromIstioRequestDurationMs, "response_code", "Response code"))
	}
	if used[slo.SourceLinkerd] {
		out = append(out, meshDashboard(Name+"-linkerd", "GenOps governance (Linkerd metrics)",
			semconv.PromLinkerdResponseTotal, semconv.PromLinkerdLatencyMs, "classification", "Classification"))
	}
	return out
}

// CR is the part of the Kiali custom resource that adds the dashboards
// (merge it into your Kiali CR's spec).
func CR(f *slo.File) map[string]any {
	return map[string]any{
		"apiVersion": "kiali.io/v1alpha1",
		"kind":       "Kiali",
		"metadata":   map[string]any{"name": "kiali", "namespace": "istio-system"},
		"spec": map[string]any{
			"custom_dashboards": Dashboards(f),
		},
	}
}
