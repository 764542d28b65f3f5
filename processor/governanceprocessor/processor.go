// Package governanceprocessor attributes every request — access log
// records and spans — to a team, project, customer, cost centre, customer
// tier, environment and feature, and prices AI calls.
//
// Values come, in a configurable order, from request headers captured by
// the access log receiver (http.request.header.x-genops-*), from genops.*
// span tags, from the labels of the pod that served (or sent) the request
// and of its namespace, and from a default. Headers are client input: they
// are sanitized, validated and trusted only as configured, and a label
// that disagrees with a header is counted (genops_attribution_conflicts_total).
// Pods are looked up in client-go informers (internal/k8smeta), never per
// record against the API server.
//
// Why by hand: contrib's k8s_attributes and transform processors can copy
// labels and headers, but not choose between them under trust rules, count
// the conflicts, or price tokens.
package governanceprocessor

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/genops-mesh/otelcol-genops/internal/accesslog"
	"github.com/genops-mesh/otelcol-genops/internal/k8smeta"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
	"github.com/genops-mesh/otelcol-genops/processor/governanceprocessor/internal/metadata"
)

type governance struct {
	// mu serializes batches: dimensions hold caches, and a pipeline may
	// call a processor from several goroutines.
	mu   sync.Mutex
	set  processor.Settings
	cfg  *Config
	dims []dimension
	// metricDims are the dims proxy metrics get (pointers into dims).
	metricDims []metricDim
	trusted    trustedCaller
	hashKey    []byte
	prices     *PriceTable
	telemetry  *metadata.TelemetryBuilder
	conflicts  map[[2]string]metric.AddOption

	// accessLog structures unparsed access log records (nil when
	// access_log_format is not set); fields is its scratch space.
	accessLog accesslog.Parser
	fields    accesslog.Fields

	// store is nil with kubernetes.mode: off. newClient is replaced in
	// tests by a fake clientset.
	store     *k8smeta.Store
	newClient func(*Config) (kubernetes.Interface, error)
}

func newGovernance(set processor.Settings, cfg *Config) (*governance, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	g := &governance{
		set: set, cfg: cfg, dims: compileDimensions(cfg), telemetry: tb, hashKey: []byte(cfg.HashKey),
		trusted:   trustedCaller{principals: cfg.TrustedSources.Principals, namespaces: map[string]bool{}},
		conflicts: map[[2]string]metric.AddOption{},
		newClient: kubernetesClient,
	}
	g.metricDims = metricDimensions(g.dims)
	for _, ns := range cfg.TrustedSources.Namespaces {
		g.trusted.namespaces[ns] = true
	}
	// One attribute set per dimension and winner, made once: counting a
	// conflict then allocates nothing.
	for _, d := range dimensionNames {
		for _, s := range defaultSources {
			g.conflicts[[2]string{d, s}] = metric.WithAttributeSet(attribute.NewSet(attribute.String("dimension", d), attribute.String("winner", s)))
		}
	}
	if cfg.AccessLogFormat != "" {
		if g.accessLog, err = accesslog.New(cfg.AccessLogFormat, cfg.AccessLogEncoding, nil); err != nil {
			return nil, fmt.Errorf("access_log_format: %w", err)
		}
	}
	if cfg.PricingFile != "" {
		if g.prices, err = LoadPriceTable(cfg.PricingFile); err != nil {
			return nil, fmt.Errorf("pricing_file: %w", err)
		}
	}
	return g, nil
}

func kubernetesClient(cfg *Config) (kubernetes.Interface, error) {
	var rc *rest.Config
	var err error
	if cfg.Kubernetes.Kubeconfig != "" {
		rc, err = clientcmd.BuildConfigFromFlags("", cfg.Kubernetes.Kubeconfig)
	} else {
		rc, err = rest.InClusterConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes: %w", err)
	}
	return kubernetes.NewForConfig(rc)
}

// start waits for the informer caches before the first record: the
// collector starts receivers after processors, so no record arrives before
// the caches are synced and none is attributed to "unknown" for lack of them.
func (g *governance) start(ctx context.Context, _ component.Host) error {
	if g.cfg.Kubernetes.Mode == KubernetesOff {
		return nil
	}
	client, err := g.newClient(g.cfg)
	if err != nil {
		return err
	}
	opts := k8smeta.Options{}
	if g.cfg.Kubernetes.Mode == KubernetesNode {
		opts.NodeName = g.cfg.Kubernetes.NodeName
	}
	store, err := k8smeta.New(client, opts)
	if err != nil {
		return err
	}
	syncCtx, cancel := context.WithTimeout(ctx, g.cfg.Kubernetes.SyncTimeout)
	defer cancel()
	if err := store.Start(syncCtx); err != nil {
		store.Stop()
		return err
	}
	g.store = store
	g.set.Logger.Info("Kubernetes metadata synced", zap.String("mode", g.cfg.Kubernetes.Mode))
	return nil
}

func (g *governance) shutdown(context.Context) error {
	if g.store != nil {
		g.store.Stop()
	}
	g.telemetry.Shutdown()
	return nil
}

// side is one end of a request: its pod when known, and labels the
// resource carried for it (Istio's ALS node metadata).
type side struct {
	pod            k8smeta.Pod
	found          bool
	resourceLabels pcommon.Map // k8s.pod.label.* of the resource, for the resource's own pod
	hasResource    bool
}

func (s *side) label(d *dimension) string {
	if d.label == "" {
		return ""
	}
	if s.found {
		return s.pod.Labels[d.label]
	}
	if s.hasResource {
		if v, ok := s.resourceLabels.Get(d.podAttr); ok {
			return v.Str()
		}
	}
	return ""
}

// resourcePod finds the pod a resource describes.
func (g *governance) resourcePod(res pcommon.Map) side {
	s := side{resourceLabels: res, hasResource: true}
	if g.store == nil {
		return s
	}
	if v, ok := res.Get("k8s.pod.uid"); ok {
		s.pod, s.found = g.store.PodByUID(v.Str())
	}
	if !s.found {
		ns, okNS := res.Get(semconv.AttrK8sNamespace)
		name, okName := res.Get("k8s.pod.name")
		if okNS && okName {
			s.pod, s.found = g.store.PodByName(ns.Str(), name.Str())
		}
	}
	if !s.found {
		if v, ok := res.Get("k8s.pod.ip"); ok {
			s.pod, s.found = g.store.PodByIP(v.Str())
		}
	}
	return s
}

// peerPod finds the pod at the other end of the call by IP; peers
// remembers the answers within one batch.
func (g *governance) peerPod(attrs pcommon.Map, peers map[string]side, keys ...string) side {
	if g.store == nil {
		return side{}
	}
	for _, k := range keys {
		v, ok := attrs.Get(k)
		if !ok || v.Str() == "" {
			continue
		}
		ip := v.Str()
		if s, seen := peers[ip]; seen {
			return s
		}
		var s side
		s.pod, s.found = g.store.PodByIP(ip)
		peers[ip] = s
		if s.found {
			return s
		}
	}
	return side{}
}

func (g *governance) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	peers := map[string]side{}
	for _, rl := range ld.ResourceLogs().All() {
		res := rl.Resource().Attributes()
		local := g.resourcePod(res)
		if local.found {
			// The resource's own pod is the destination of its inbound
			// records: its workload goes on the resource, once.
			putWorkload(res, "", &local.pod)
		}
		nsOfResource, _ := res.Get(semconv.AttrK8sNamespace)
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				attrs := lr.Attributes()
				g.structure(ctx, lr)
				peer := g.peerPod(attrs, peers, semconv.AttrNetworkPeerAddress)
				if d, ok := attrs.Get(semconv.AttrEnvoyDirection); ok && d.Str() == semconv.DirectionOutbound {
					g.attribute(ctx, attrs, &peer, &local, nsOfResource.Str(), true)
					continue
				}
				g.attribute(ctx, attrs, &local, &peer, nsOfResource.Str(), false)
			}
		}
	}
	return ld, nil
}

func (g *governance) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	peers := map[string]side{}
	for _, rs := range td.ResourceSpans().All() {
		res := rs.Resource().Attributes()
		local := g.resourcePod(res)
		if local.found {
			putWorkload(res, "", &local.pod)
		}
		nsOfResource, _ := res.Get(semconv.AttrK8sNamespace)
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				attrs := span.Attributes()
				peer := g.peerPod(attrs, peers, semconv.AttrClientAddress, semconv.AttrNetworkPeerAddress, "net.peer.ip")
				if span.Kind() == ptrace.SpanKindClient || span.Kind() == ptrace.SpanKindProducer {
					g.attribute(ctx, attrs, &peer, &local, nsOfResource.Str(), true)
					continue
				}
				g.attribute(ctx, attrs, &local, &peer, nsOfResource.Str(), false)
			}
		}
	}
	return td, nil
}

// attribute sets the governance attributes of one record. A missing or
// hostile value never fails it: the dimension falls to the next source.
//
// destIsPeer says the destination is the other end of the call (an
// outbound record, a CLIENT span): its workload goes on the record; an
// inbound record's destination is the resource's pod, already on the
// resource.
func (g *governance) attribute(ctx context.Context, attrs pcommon.Map, dest, src *side, resourceNamespace string, destIsPeer bool) {
	principal := ""
	if v, ok := attrs.Get(semconv.AttrEnvoyDownstreamPeerURISAN); ok {
		principal = v.Str()
	} else if v, ok := attrs.Get(semconv.AttrLinkerdClientID); ok {
		principal = v.Str()
	}
	callerNS := ""
	if src.found {
		callerNS = src.pod.Namespace
	}
	trusted := g.trusted.trusts(principal, callerNS)

	destNS := resourceNamespace
	if dest.found {
		destNS = dest.pod.Namespace
	}
	var nsLabels map[string]string
	if g.store != nil && destNS != "" {
		nsLabels, _ = g.store.NamespaceLabels(destNS)
	}

	teamSource := ""
	for i := range g.dims {
		d := &g.dims[i]
		value, source := g.resolve(ctx, d, attrs, dest, nsLabels, trusted)
		if value == "" {
			continue
		}
		if d.hash && source != semconv.SourceDefault {
			value = hashValue(g.hashKey, value)
		}
		putIfChanged(attrs, d.attr, value)
		if d.name == DimTeam {
			teamSource = source
		}
	}
	if teamSource != "" {
		putIfChanged(attrs, semconv.AttrAttributionSource, teamSource)
	}
	if dest.found && destIsPeer {
		putWorkload(attrs, "", &dest.pod)
	}
	if src.found {
		putWorkload(attrs, semconv.SourcePrefix, &src.pod)
	}
	if g.cfg.Cluster != "" {
		if _, ok := attrs.Get(semconv.AttrK8sCluster); !ok {
			attrs.PutStr(semconv.AttrK8sCluster, g.cfg.Cluster)
		}
	}
	g.price(attrs)
}

// structure parses a record that carries an access log line as its body
// and has not been parsed yet (no envoy.direction, no status code): what
// Envoy's OpenTelemetry access logger sends. A line that does not parse is
// left as it is, marked with envoy.parse_error.
func (g *governance) structure(_ context.Context, lr plog.LogRecord) {
	if g.accessLog == nil || lr.Body().Type() != pcommon.ValueTypeStr {
		return
	}
	attrs := lr.Attributes()
	if _, parsed := attrs.Get(semconv.AttrEnvoyDirection); parsed {
		return
	}
	if _, parsed := attrs.Get(semconv.AttrHTTPResponseStatusCode); parsed {
		return
	}
	if err := accesslog.StructureRecord(g.accessLog, lr, &g.fields); err != nil {
		attrs.PutStr(semconv.AttrEnvoyParseError, err.Error())
	}
}

// resolve walks the sources in order and returns the first acceptable
// value and its source. A header that loses to a label, or disagrees with
// it, is counted as a conflict.
func (g *governance) resolve(ctx context.Context, d *dimension, attrs pcommon.Map, dest *side, nsLabels map[string]string, trusted bool) (string, string) {
	var header string
	var hasHeader bool
	if d.headerKey != "" {
		if v, ok := attrs.Get(d.headerKey); ok {
			header, hasHeader = v.AsString(), true
		}
	}
	label := dest.label(d)
	value, source := "", ""
	for _, s := range g.cfg.Sources {
		switch s {
		case semconv.SourceHeader:
			if hasHeader && (d.trust == TrustAlways || (d.trust == TrustWhenSourceMatches && trusted)) {
				value, _ = d.accept(header)
			}
		case semconv.SourceSpanTag:
			if v, ok := attrs.Get(d.attr); ok {
				value, _ = d.accept(v.AsString())
			}
		case semconv.SourcePodLabel:
			if label != "" {
				value, _ = d.accept(label)
			}
		case semconv.SourceNamespaceLabel:
			if d.label != "" && nsLabels != nil {
				value, _ = d.accept(nsLabels[d.label])
			}
		case semconv.SourceDefault:
			value = d.def
		}
		if value != "" {
			source = s
			break
		}
	}
	if hasHeader && label != "" && (source != semconv.SourceHeader || value != label) {
		g.telemetry.AttributionConflicts.Add(ctx, 1, g.conflicts[[2]string{d.name, source}])
	}
	return value, source
}

// putIfChanged writes a string attribute unless it already holds the
// value (a write allocates; a comparison does not).
func putIfChanged(attrs pcommon.Map, k, v string) {
	if old, ok := attrs.Get(k); ok && old.Type() == pcommon.ValueTypeStr && old.Str() == v {
		return
	}
	attrs.PutStr(k, v)
}

// putWorkload sets the namespace, app, version, pod and owning workload of
// a pod, under prefix ("" for the destination, "source." for the caller).
func putWorkload(attrs pcommon.Map, prefix string, p *k8smeta.Pod) {
	keys := sideKeys[prefix]
	putIfChanged(attrs, keys.namespace, p.Namespace)
	putIfChanged(attrs, keys.pod, p.Name)
	app := p.Labels["app"]
	if app == "" {
		app = p.Labels["app.kubernetes.io/name"]
	}
	if app != "" {
		putIfChanged(attrs, keys.app, app)
	}
	version := p.Labels["version"]
	if version == "" {
		version = p.Labels["app.kubernetes.io/version"]
	}
	if version != "" {
		putIfChanged(attrs, keys.version, version)
	}
	if key, ok := keys.workload[p.WorkloadKind]; ok {
		putIfChanged(attrs, key, p.WorkloadName)
	}
}

// sideKeys are the attribute names of one side of a call ("" for the
// destination, "source." for the caller), built once, not per record.
var sideKeys = func() map[string]struct {
	namespace, pod, app, version string
	workload                     map[string]string
} {
	out := map[string]struct {
		namespace, pod, app, version string
		workload                     map[string]string
	}{}
	for _, prefix := range []string{"", semconv.SourcePrefix} {
		k := out[prefix]
		k.namespace, k.pod = prefix+semconv.AttrK8sNamespace, prefix+"k8s.pod.name"
		k.app, k.version = prefix+semconv.AttrApp, prefix+semconv.AttrVersion
		k.workload = map[string]string{}
		for _, kind := range []string{"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet", "CronJob"} {
			k.workload[kind] = prefix + "k8s." + strings.ToLower(kind) + ".name"
		}
		out[prefix] = k
	}
	return out
}()

// price sets genops.cost.total and genops.cost.currency for an AI call,
// from a cost response header, else tokens times the price table.
// Tokens, model and provider given as response headers are copied to the
// gen_ai.* attributes.
func (g *governance) price(attrs pcommon.Map) {
	if _, ok := attrs.Get(semconv.AttrCostTotal); ok {
		return
	}
	header := func(key string) (string, bool) {
		v, ok := attrs.Get(key)
		if !ok {
			return "", false
		}
		s, ok := Sanitize(v.AsString(), 256)
		return s, ok
	}
	in, hasIn := intAttr(attrs, semconv.AttrGenAIInputTokens)
	if !hasIn {
		if s, ok := header(respTokensInput); ok {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
				in, hasIn = n, true
				attrs.PutInt(semconv.AttrGenAIInputTokens, n)
			}
		}
	}
	out, hasOut := intAttr(attrs, semconv.AttrGenAIOutputTokens)
	if !hasOut {
		if s, ok := header(respTokensOutput); ok {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
				out, hasOut = n, true
				attrs.PutInt(semconv.AttrGenAIOutputTokens, n)
			}
		}
	}
	model := ""
	for _, k := range [...]string{semconv.AttrGenAIResponseModel, semconv.AttrGenAIRequestModel} {
		if v, ok := attrs.Get(k); ok && v.Str() != "" {
			model = v.Str()
			break
		}
	}
	if model == "" {
		if s, ok := header(respModel); ok {
			model = s
			attrs.PutStr(semconv.AttrGenAIResponseModel, s)
		}
	}
	if _, ok := attrs.Get(semconv.AttrGenAIProviderName); !ok {
		if s, ok := header(respProvider); ok {
			attrs.PutStr(semconv.AttrGenAIProviderName, s)
		}
	}
	if s, ok := header(respCost); ok {
		if c, err := strconv.ParseFloat(s, 64); err == nil && c >= 0 {
			attrs.PutDouble(semconv.AttrCostTotal, c)
			currency := "USD"
			if g.prices != nil {
				currency = g.prices.Currency
			}
			attrs.PutStr(semconv.AttrCostCurrency, currency)
			return
		}
	}
	if g.prices == nil || (!hasIn && !hasOut) {
		return
	}
	row, ok := g.prices.Lookup(model)
	if !ok {
		return
	}
	attrs.PutDouble(semconv.AttrCostTotal, row.Cost(in, out))
	attrs.PutStr(semconv.AttrCostCurrency, g.prices.Currency)
	if _, ok := attrs.Get(semconv.AttrGenAIProviderName); !ok && row.Provider != "" {
		attrs.PutStr(semconv.AttrGenAIProviderName, row.Provider)
	}
}

// Response header attributes read for cost, built once.
const (
	respTokensInput  = semconv.ResponseHeaderPrefix + semconv.HeaderTokensInput
	respTokensOutput = semconv.ResponseHeaderPrefix + semconv.HeaderTokensOutput
	respModel        = semconv.ResponseHeaderPrefix + semconv.HeaderModel
	respProvider     = semconv.ResponseHeaderPrefix + semconv.HeaderProvider
	respCost         = semconv.ResponseHeaderPrefix + semconv.HeaderCost
)

func intAttr(attrs pcommon.Map, k string) (int64, bool) {
	v, ok := attrs.Get(k)
	if !ok {
		return 0, false
	}
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int(), true
	case pcommon.ValueTypeDouble:
		return int64(v.Double()), true
	case pcommon.ValueTypeStr:
		n, err := strconv.ParseInt(v.Str(), 10, 64)
		return n, err == nil
	}
	return 0, false
}
