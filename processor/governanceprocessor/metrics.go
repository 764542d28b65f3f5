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

func (g *governance) processMetrics(ctx context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	if g.store == nil {
		return md, nil
	}
	o := g.originOf(ctx)
	if o.forwarder {
		return md, nil // attributed by the agent that forwards them
	}
	var forged, unverified int64
	// keep enriches a point, or refuses it when no mesh proxy the platform
	// injected reported it.
	keep := func(attrs pcommon.Map) bool {
		scraped, reason := g.reportingProxy(attrs, o)
		switch reason {
		case rejectForged:
			forged++
			return false
		case rejectUnverified:
			unverified++
			return false
		}
		g.enrichPoint(attrs, &scraped)
		return true
	}
	for _, rm := range md.ResourceMetrics().All() {
		for _, sm := range rm.ScopeMetrics().All() {
			sm.Metrics().RemoveIf(func(m pmetric.Metric) bool {
				switch m.Type() {
				case pmetric.MetricTypeSum:
					m.Sum().DataPoints().RemoveIf(func(dp pmetric.NumberDataPoint) bool { return !keep(dp.Attributes()) })
					return m.Sum().DataPoints().Len() == 0
				case pmetric.MetricTypeGauge:
					m.Gauge().DataPoints().RemoveIf(func(dp pmetric.NumberDataPoint) bool { return !keep(dp.Attributes()) })
					return m.Gauge().DataPoints().Len() == 0
				case pmetric.MetricTypeHistogram:
					m.Histogram().DataPoints().RemoveIf(func(dp pmetric.HistogramDataPoint) bool { return !keep(dp.Attributes()) })
					return m.Histogram().DataPoints().Len() == 0
				case pmetric.MetricTypeExponentialHistogram:
					m.ExponentialHistogram().DataPoints().RemoveIf(func(dp pmetric.ExponentialHistogramDataPoint) bool { return !keep(dp.Attributes()) })
					return m.ExponentialHistogram().DataPoints().Len() == 0
				case pmetric.MetricTypeSummary:
					m.Summary().DataPoints().RemoveIf(func(dp pmetric.SummaryDataPoint) bool { return !keep(dp.Attributes()) })
					return m.Summary().DataPoints().Len() == 0
				}
				return false
			})
		}
	}
	if forged > 0 {
		g.telemetry.RejectedClaims.Add(ctx, forged, g.rejected[claimProxy][rejectForged])
	}
	if unverified > 0 {
		g.telemetry.RejectedClaims.Add(ctx, unverified, g.rejected[claimProxy][rejectUnverified])
	}
	return md, nil
}

// reportingProxy is the pod whose proxy reported a series: the scraped
// target (the namespace and pod labels the scrape configuration sets from
// service discovery, which a target cannot override), or over the network
// the pod at the connection's address, whatever the series' labels say.
// A series counts only when that pod runs a mesh proxy the platform
// injected (k8smeta's Pod.Proxy): any pod can serve an istio-proxy port
// and fill it with another team's workload names. It answers rejectForged
// for a pod that runs no such proxy, rejectUnverified when no pod is
// known, and -1 otherwise.
func (g *governance) reportingProxy(attrs pcommon.Map, o origin) (k8smeta.Pod, int) {
	var pod k8smeta.Pod
	found := false
	if o.network {
		if o.reporter.found {
			pod, found = o.reporter.pod, true
			attrs.PutStr("namespace", pod.Namespace)
			attrs.PutStr("pod", pod.Name)
		}
	} else {
		pod, found = g.scrapedPod(attrs)
	}
	switch {
	case !found:
		return pod, rejectUnverified
	case pod.Proxy == "":
		return pod, rejectForged
	}
	return pod, -1
}

func (g *governance) enrichPoint(attrs pcommon.Map, scraped *k8smeta.Pod) {
	// genops_* labels are the processor's to write: a scraped proxy's are
	// claims.
	attrs.RemoveIf(func(k string, _ pcommon.Value) bool {
		return strings.HasPrefix(k, "genops_") || strings.HasPrefix(k, "source_genops_")
	})
	// The series comes from one proxy; when it says which side of the call
	// it reported (Istio's reporter), that side is the scraped pod,
	// whatever workload the series names there. The other side is named
	// by the injected proxy itself (from the mTLS peer's metadata or its
	// own service discovery), the mesh's word like an access log's peer.
	reporter, _ := attrs.Get("reporter")
	switch reporter.Str() {
	case "destination":
		g.putLabels(attrs, "", scraped)
		if p, ok := g.workload(attrs, sourceKeys); ok {
			g.putLabels(attrs, "source_", &p)
		}
		return
	case "source":
		g.putLabels(attrs, "source_", scraped)
		if p, ok := g.workload(attrs, destinationKeys); ok {
			g.putLabels(attrs, "", &p)
		}
		return
	}
	if p, ok := g.workload(attrs, destinationKeys); ok {
		g.putLabels(attrs, "", &p)
	} else {
		g.putLabels(attrs, "", scraped)
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
