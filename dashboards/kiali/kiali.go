// Package kiali generates the "GenOps governance" Kiali custom dashboard
// — requests, cost and latency of a workload by team, tier and customer —
// with Kiali's own dashboard types, so that what Kiali parses is what is
// generated. Kiali discovers it on genops_requests_total, whose namespace
// and app labels are the destination workload's, as on Istio's metrics.
package kiali

import (
	"github.com/kiali/kiali/config/dashboards"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
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
		},
	}
}

// CR is the part of the Kiali custom resource that adds the dashboard
// (merge it into your Kiali CR's spec).
func CR() map[string]any {
	return map[string]any{
		"apiVersion": "kiali.io/v1alpha1",
		"kind":       "Kiali",
		"metadata":   map[string]any{"name": "kiali", "namespace": "istio-system"},
		"spec": map[string]any{
			"custom_dashboards": []dashboards.MonitoringDashboard{Dashboard()},
		},
	}
}
