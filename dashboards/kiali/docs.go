package kiali

import (
	"fmt"
	"strings"

	"github.com/kiali/kiali/config/dashboards"
	"gopkg.in/yaml.v3"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// Settings are the Kiali server settings the dashboards need besides
// custom_dashboards: the series are found by their namespace label and
// filtered by app and version. They are Kiali's defaults; a Kiali whose
// settings differ shows the dashboards empty. test/e2e runs a real Kiali
// with exactly these (TestKialiDashboards), and docs/dashboards.md shows
// them (Describe).
func Settings() map[string]any {
	return map[string]any{
		"external_services": map[string]any{
			"custom_dashboards": map[string]any{"enabled": true, "namespace_label": semconv.LabelNamespace},
		},
		"istio_labels": map[string]any{"app_label_name": semconv.LabelApp, "version_label_name": semconv.LabelVersion},
	}
}

// Describe writes the Kiali part of docs/dashboards.md from the
// dashboards themselves: the settings, what Kiali's filters leave on an
// app's and a workload's page, and each chart.
func Describe(ds []dashboards.MonitoringDashboard) string {
	var b strings.Builder
	settings, err := yaml.Marshal(Settings())
	if err != nil {
		panic(err) // a map of strings and bools always marshals
	}
	b.WriteString("## Kiali\n\n")
	b.WriteString("`genopsctl generate` writes the Kiali custom dashboards as a `custom_dashboards` list\n" +
		"(`kiali/" + Name + ".yaml`) and as a Kiali CR fragment to merge into yours\n" +
		"(`kubernetes/kiali-custom-dashboards.yaml`; the chart's `kialiDashboards.enabled`).\n" +
		"`" + Name + "` is always there; `" + Name + "-istio` and `" + Name + "-linkerd` when the SLO file\n" +
		"uses those proxy sources. Kiali runs their PromQL itself: `make test` renders every chart of each\n" +
		"in a real Kiali (v1.89.8, built from its Go module) against a real Prometheus that scrapes the\n" +
		"distribution (`TestKialiDashboards`).\n\n")
	b.WriteString("Kiali needs these settings (its defaults: check that your Kiali CR does not change them):\n\n")
	b.WriteString("```yaml\n" + string(settings) + "```\n\n")
	b.WriteString("A workload shows the dashboards in its tabs when its pods carry the annotation\n" +
		"`kiali.io/dashboards: " + Name + "` (comma-separated for several), or by Kiali's discovery on each\n" +
		"dashboard's `discoverOn` series. Kiali filters every chart by the namespace, and by the labels of\n" +
		"the page it is opened from:\n\n" +
		"- on an **app's** page, `app`: every chart shows data;\n" +
		"- on a **workload's** page, `app` and, when its pods have a `version` label, `version`. Of the\n" +
		"  `genops_*` series only `" + semconv.PromRequestsTotal + "` carries `version` (the metric contract): on\n" +
		"  a versioned workload's page only \"Requests by team\" of `" + Name + "` shows data; open the\n" +
		"  app's page for cost, tokens, latency and policy events. The proxies' series (`-istio`,\n" +
		"  `-linkerd`) get `app` and `version` from the pod's labels in the daemonset's scrape and show\n" +
		"  data on both pages.\n\n")
	for _, d := range ds {
		fmt.Fprintf(&b, "### %s (`%s`)\n\n", d.Title, d.Name)
		fmt.Fprintf(&b, "Runtime \"%s\", discovered on `%s`.\n\n", d.Runtime, d.DiscoverOn)
		b.WriteString("| chart | series | shown as | grouped by | split by |\n| --- | --- | --- | --- | --- |\n")
		for _, it := range d.Items {
			c := it.Chart
			var metrics, splits []string
			for _, m := range c.Metrics {
				metrics = append(metrics, "`"+m.MetricName+"`")
			}
			for _, a := range c.Aggregations {
				splits = append(splits, a.DisplayName+" (`"+a.Label+"`)")
			}
			shown := c.DataType
			if c.UnitScale != 0 {
				shown += fmt.Sprintf(", ×%g", c.UnitScale)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %s |\n", c.Name, strings.Join(metrics, ", "), shown,
				strings.Join(c.GroupLabels, "`, `"), strings.Join(splits, ", "))
		}
		b.WriteString("\n")
	}
	return b.String()
}
