package governanceprocessor

import (
	"context"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/genops-mesh/otelcol-genops/internal/k8smeta"
)

// Proxy metrics (istio_requests_total, Linkerd's request_total, …) keep
// their names and labels, so existing Istio and Linkerd dashboards work;
// each point gains genops_team, genops_project, genops_cost_center and
// genops_customer_tier from the labels of the destination workload's pods
// (then its namespace's), and source_genops_* from the source workload's.
// There is no header here: metrics carry no customer id.

// workloadKeys name a workload in a point's labels: Istio's, Linkerd's
// outbound dst_*, then the scraped pod itself (namespace and pod, as the
// scrape configuration relabels them onto every series).
var (
	destinationKeys = [][2]string{
		{"destination_workload_namespace", "destination_workload"},
		{"dst_namespace", "dst_deployment"},
		{"dst_namespace", "dst_statefulset"},
		{"dst_namespace", "dst_daemonset"},
	}
	sourceKeys = [][2]string{{"source_workload_namespace", "source_workload"}}
)

// metricLabels are the dimensions proxy metrics get, with their label
// names (the metric contract's).
var metricLabels = [][2]string{
	{DimTeam, "genops_team"}, {DimProject, "genops_project"},
	{DimCostCenter, "genops_cost_center"}, {DimCustomerTier, "genops_customer_tier"},
}

// metricDim is a dimension that proxy metrics get, with its label name.
type metricDim struct {
	dim   *dimension
	label string
}

// metricDimensions resolves metricLabels to the configured dimensions
// that a pod label carries, once, not per point.
func metricDimensions(dims []dimension) []metricDim {
	var out []metricDim
	for _, ml := range metricLabels {
		for i := range dims {
			if dims[i].name == ml[0] && dims[i].label != "" {
				out = append(out, metricDim{&dims[i], ml[1]})
			}
		}
	}
	return out
}

func (g *governance) processMetrics(_ context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	if g.store == nil {
		return md, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				switch m.Type() {
				case pmetric.MetricTypeSum:
					for _, dp := range m.Sum().DataPoints().All() {
						g.enrichPoint(dp.Attributes())
					}
				case pmetric.MetricTypeGauge:
					for _, dp := range m.Gauge().DataPoints().All() {
						g.enrichPoint(dp.Attributes())
					}
				case pmetric.MetricTypeHistogram:
					for _, dp := range m.Histogram().DataPoints().All() {
						g.enrichPoint(dp.Attributes())
					}
				case pmetric.MetricTypeExponentialHistogram:
					for _, dp := range m.ExponentialHistogram().DataPoints().All() {
						g.enrichPoint(dp.Attributes())
					}
				case pmetric.MetricTypeSummary:
					for _, dp := range m.Summary().DataPoints().All() {
						g.enrichPoint(dp.Attributes())
					}
				}
			}
		}
	}
	return md, nil
}

func (g *governance) enrichPoint(attrs pcommon.Map) {
	// genops_* labels are the processor's to write: a scraped proxy's are
	// claims.
	attrs.RemoveIf(func(k string, _ pcommon.Value) bool {
		return strings.HasPrefix(k, "genops_") || strings.HasPrefix(k, "source_genops_")
	})
	// A scraped series comes from one pod; when the proxy says which side
	// of the call it reported (Istio's reporter), that side is the scraped
	// pod, whatever workload the series names there (any pod can serve an
	// istio-proxy port and name another team's workload).
	scraped, fromPod := g.scrapedPod(attrs)
	reporter, _ := attrs.Get("reporter")
	switch {
	case fromPod && reporter.Str() == "destination":
		g.putLabels(attrs, "", &scraped)
		if p, ok := g.workload(attrs, sourceKeys); ok {
			g.putLabels(attrs, "source_", &p)
		}
		return
	case fromPod && reporter.Str() == "source":
		g.putLabels(attrs, "source_", &scraped)
		if p, ok := g.workload(attrs, destinationKeys); ok {
			g.putLabels(attrs, "", &p)
		}
		return
	}
	if p, ok := g.workload(attrs, destinationKeys); ok {
		g.putLabels(attrs, "", &p)
	} else if fromPod {
		g.putLabels(attrs, "", &scraped)
	}
	if p, ok := g.workload(attrs, sourceKeys); ok {
		g.putLabels(attrs, "source_", &p)
	}
}

func (g *governance) workload(attrs pcommon.Map, keys [][2]string) (k8smeta.Pod, bool) {
	for _, k := range keys {
		ns, okNS := attrs.Get(k[0])
		name, okName := attrs.Get(k[1])
		if okNS && okName && ns.Str() != "" && name.Str() != "" && name.Str() != "unknown" {
			if p, ok := g.store.PodByWorkload(ns.Str(), name.Str()); ok {
				return p, true
			}
		}
	}
	return k8smeta.Pod{}, false
}

// scrapedPod is the pod the series was scraped from, for series that name
// no destination (Linkerd's inbound ones: the proxy's own workload).
func (g *governance) scrapedPod(attrs pcommon.Map) (k8smeta.Pod, bool) {
	ns, okNS := attrs.Get("namespace")
	name, okName := attrs.Get("pod")
	if !okNS || !okName {
		return k8smeta.Pod{}, false
	}
	return g.store.PodByName(ns.Str(), name.Str())
}

// putLabels writes each dimension's value from the pod's labels, else its
// namespace's, validated like every other value; a missing or invalid one
// is left out (Prometheus shows no label), never invented.
func (g *governance) putLabels(attrs pcommon.Map, prefix string, p *k8smeta.Pod) {
	nsLabels, _ := g.store.NamespaceLabels(p.Namespace)
	for _, md := range g.metricDims {
		raw := p.Labels[md.dim.label]
		if raw == "" {
			raw = nsLabels[md.dim.label]
		}
		if raw == "" {
			continue
		}
		if v, ok := md.dim.accept(raw); ok {
			attrs.PutStr(prefix+md.label, v)
		}
	}
}
