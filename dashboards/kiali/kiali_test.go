package kiali

import (
	"bytes"
	"slices"
	"testing"

	"github.com/kiali/kiali/config/dashboards"
	"gopkg.in/yaml.v3"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
	"github.com/genops-mesh/otelcol-genops/internal/slo"
)

// The generated CR snippet decodes strictly back into Kiali's own types
// (an unknown or misspelt field fails), and every chart reads a metric of
// the contract that carries the namespace and app labels Kiali filters on.
func TestCRDecodesIntoKialiTypes(t *testing.T) {
	var b bytes.Buffer
	if err := yaml.NewEncoder(&b).Encode(CR(&slo.File{})); err != nil {
		t.Fatal(err)
	}
	var cr struct {
		APIVersion string         `yaml:"apiVersion"`
		Kind       string         `yaml:"kind"`
		Metadata   map[string]any `yaml:"metadata"`
		Spec       struct {
			CustomDashboards []dashboards.MonitoringDashboard `yaml:"custom_dashboards"`
		} `yaml:"spec"`
	}
	dec := yaml.NewDecoder(&b)
	dec.KnownFields(true)
	if err := dec.Decode(&cr); err != nil {
		t.Fatal(err)
	}
	if cr.Kind != "Kiali" || len(cr.Spec.CustomDashboards) != 1 {
		t.Fatalf("%+v", cr)
	}
	d := cr.Spec.CustomDashboards[0]
	if d.Name != Name || d.DiscoverOn != semconv.PromRequestsTotal || len(d.Items) != 5 {
		t.Errorf("dashboard %+v", d)
	}
	contract := []string{semconv.PromRequestsTotal, semconv.PromCostTotal, semconv.PromTokensTotal, semconv.PromRequestDurationSeconds, semconv.PromPolicyEventsTotal}
	for _, it := range d.Items {
		c := it.Chart
		if len(c.Metrics) != 1 || !slices.Contains(contract, c.Metrics[0].MetricName) {
			t.Errorf("chart %q reads %v", c.Name, c.Metrics)
		}
		if c.DataType != dashboards.Rate && c.DataType != dashboards.Histogram {
			t.Errorf("chart %q: data type %q", c.Name, c.DataType)
		}
	}
}

// SLOs over proxy metrics add the same view over the mesh's own series,
// with the genops labels the governance processor puts on them.
func TestMeshDashboardsFollowTheSources(t *testing.T) {
	f := &slo.File{SLOs: []slo.SLO{{Source: slo.SourceIstio}, {Source: slo.SourceLinkerd}, {Source: slo.SourceAccessLogs}}}
	ds := Dashboards(f)
	if len(ds) != 3 || ds[1].Name != Name+"-istio" || ds[2].Name != Name+"-linkerd" {
		t.Fatalf("%+v", ds)
	}
	if ds[1].DiscoverOn != semconv.PromIstioRequestsTotal || ds[1].Items[1].Chart.Metrics[0].MetricName != semconv.PromIstioRequestDurationMs ||
		ds[1].Items[1].Chart.UnitScale != 0.001 || ds[1].Items[0].Chart.GroupLabels[0] != semconv.LabelGenOpsTeam {
		t.Errorf("istio dashboard %+v", ds[1])
	}
	if ds[2].DiscoverOn != semconv.PromLinkerdResponseTotal {
		t.Errorf("linkerd dashboard %+v", ds[2])
	}
	if len(Dashboards(&slo.File{SLOs: []slo.SLO{{Source: slo.SourceAccessLogs}}})) != 1 {
		t.Error("access-log SLOs alone made mesh dashboards")
	}
}
