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
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/genops-mesh/otelcol-genops/internal/accesslog"
	"github.com/genops-mesh/otelcol-genops/internal/k8smeta"
	"github.com/genops-mesh/otelcol-genops/internal/pricing"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
	"github.com/genops-mesh/otelcol-genops/processor/governanceprocessor/internal/metadata"
)

type governance struct {
	// No lock: a pipeline may call a processor from several goroutines,
	// so the state of one call is its batch (pooled), and the caches
	// shared between calls (dimensions' verdicts, the price table's
	// model globs, the informers) are safe for concurrent use.
	set  processor.Settings
	cfg  *Config
	dims []dimension
	// now is the clock a call's time is checked against (tests set one).
	now func() time.Time
	// metricDims are the dims proxy metrics get (pointers into dims).
	metricDims []metricDim
	trusted    trustedCaller
	// forwarders are TrustedSources.Forwarders as a set.
	forwarders map[string]bool
	// ai decides which workloads may state their own cost and tokens.
	ai aiWorkloads
	// gateways and hosts decide a record's side and a service named only
	// by a Host header (identity.go).
	gateways  gateways
	hosts     hostServices
	hashKey   []byte
	prices    *pricing.Cache
	telemetry *metadata.TelemetryBuilder
	// sources is cfg.Sources as indexes into defaultSources.
	sources []int
	// conflicts[i][s][r] counts a conflict of dimension i won by source s
	// for reason r.
	conflicts [maxDims][numSources][numConflictReasons]metric.AddOption
	// rejected[c][r] counts a refused claim c for reason r.
	rejected [numClaims][numRejectReasons]metric.AddOption
	// attributedSets are the attribute sets of
	// genops_attribution_records_total (batch.attributed).
	attributedSets [maxDims][numSources + 1]metric.AddOption
	unpriced       [numUnpricedReasons]metric.AddOption
	// synced is 1 once the Kubernetes caches are synced (the
	// genops_kubernetes_synced gauge).
	synced atomic.Int64

	// accessLog structures unparsed access log records (nil when
	// access_log_format is not set).
	accessLog accesslog.Parser

	// store is nil with kubernetes.mode: off. newClient is replaced in
	// tests by a fake clientset.
	store   *k8smeta.Store
	release func()
	// started is store once start has set it, for the telemetry
	// callbacks (which run on the meter's goroutine).
	started   atomic.Pointer[k8smeta.Store]
	newClient func(*Config) (kubernetes.Interface, error)
	// clientID names the client newClient makes when it is not the
	// default one (tests), so that stores are shared only between
	// processors with the same client.
	clientID string

	// keys index the attributes a record view reads.
	keys *slotKeys
	// batches are the scratch space of calls, reused.
	batches sync.Pool
}

func newGovernance(set processor.Settings, cfg *Config) (*governance, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	g := &governance{
		set: set, cfg: cfg, dims: compileDimensions(cfg), telemetry: tb, hashKey: []byte(cfg.HashKey), now: time.Now,
		trusted:    trustedCaller{principals: cfg.TrustedSources.Principals, namespaces: map[string]bool{}},
		forwarders: map[string]bool{},
		ai:         newAIWorkloads(cfg.AIWorkloads),
		gateways:   newGateways(cfg.Gateways.Workloads),
		newClient:  kubernetesClient,
	}
	g.hosts.max = int64(cfg.Limits.MaxHostServices)
	for _, ns := range cfg.TrustedSources.Forwarders {
		g.forwarders[ns] = true
	}
	g.metricDims = metricDimensions(g.dims)
	g.keys = newSlotKeys(g.dims)
	for _, ns := range cfg.TrustedSources.Namespaces {
		g.trusted.namespaces[ns] = true
	}
	// One attribute set per dimension, winner and reason, made once:
	// counting a conflict then allocates nothing.
	for i, d := range dimensionNames {
		for j, s := range defaultSources {
			for k, reason := range conflictReasons {
				g.conflicts[i][j][k] = metric.WithAttributeSet(attribute.NewSet(
					attribute.String("dimension", d), attribute.String("winner", s), attribute.String("reason", reason)))
			}
		}
	}
	// The self-health series name the processor: a collector runs one
	// per pipeline.
	self := attribute.String("processor", set.ID.String())
	for i, d := range dimensionNames {
		for s := -1; s < numSources; s++ {
			name := "none"
			if s >= 0 {
				name = defaultSources[s]
			}
			g.attributedSets[i][s+1] = metric.WithAttributeSet(attribute.NewSet(
				self, attribute.String("dimension", d), attribute.String("source", name)))
		}
	}
	for r, reason := range unpricedReasons {
		g.unpriced[r] = metric.WithAttributeSet(attribute.NewSet(self, attribute.String("reason", reason)))
	}
	for c, claim := range claimNames {
		for r, reason := range rejectReasons {
			g.rejected[c][r] = metric.WithAttributeSet(attribute.NewSet(attribute.String("claim", claim), attribute.String("reason", reason)))
		}
	}
	for _, s := range cfg.Sources {
		g.sources = append(g.sources, slices.Index(defaultSources, s)) // validated by Config.Validate
	}
	if cfg.AccessLogFormat != "" {
		if g.accessLog, err = accesslog.New(cfg.AccessLogFormat, cfg.AccessLogEncoding, nil); err != nil {
			return nil, fmt.Errorf("access_log_format: %w", err)
		}
	}
	if cfg.PricingFile != "" {
		table, err := pricing.Load(cfg.PricingFile)
		if err != nil {
			return nil, fmt.Errorf("pricing_file: %w", err)
		}
		g.prices = pricing.NewCache(table)
	}
	rows := int64(0)
	if g.prices != nil {
		rows = int64(len(g.prices.Models))
	}
	if err := tb.RegisterPricingRowsCallback(func(_ context.Context, o metric.Int64Observer) error {
		o.Observe(rows, metric.WithAttributes(self))
		return nil
	}); err != nil {
		return nil, err
	}
	if cfg.Kubernetes.Mode != KubernetesOff {
		if err := tb.RegisterKubernetesSyncedCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(g.synced.Load(), metric.WithAttributes(self))
			return nil
		}); err != nil {
			return nil, err
		}
		live := metric.WithAttributes(self, attribute.String("state", "live"))
		gone := metric.WithAttributes(self, attribute.String("state", "deleted"))
		if err := tb.RegisterKubernetesPodsCallback(func(_ context.Context, o metric.Int64Observer) error {
			if store := g.liveStore(); store != nil {
				o.Observe(int64(store.Pods()), live)
				o.Observe(int64(store.Deleted()), gone)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// Why a call with token counts got no price (genops_pricing_unpriced_calls_total).
const (
	unpricedNoTable = iota
	unpricedNoRow
	numUnpricedReasons
)

var unpricedReasons = [numUnpricedReasons]string{"no_table", "no_row"}

// flushAttributed adds the batch's attribution counts to the telemetry:
// one Add per dimension and source that occurred, not one per record.
func (g *governance) flushAttributed(ctx context.Context, b *batch) {
	for i := range g.dims {
		for s, n := range b.attributed[i] {
			if n > 0 {
				g.telemetry.AttributionRecords.Add(ctx, n, g.attributedSets[i][s])
				b.attributed[i][s] = 0
			}
		}
	}
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
	opts := k8smeta.Options{DeleteGracePeriod: g.cfg.Kubernetes.DeleteGracePeriod}
	if g.cfg.Kubernetes.Mode == KubernetesNode {
		opts.NodeName = g.cfg.Kubernetes.NodeName
	}
	// Every error is counted; one is logged at warn when its kind
	// changes (client-go retries with backoff, and would repeat it).
	var lastKind atomic.Value
	onError := func(resource string, err error) {
		kind := k8smeta.ErrorKind(err)
		g.telemetry.KubernetesAPIErrors.Add(context.Background(), 1, metric.WithAttributes(
			attribute.String("processor", g.set.ID.String()), attribute.String("resource", resource), attribute.String("error", kind)))
		level := zap.DebugLevel
		if prev := lastKind.Swap(kind); prev != kind {
			level = zap.WarnLevel
		}
		if ce := g.set.Logger.Check(level, "Kubernetes API error"); ce != nil {
			ce.Write(zap.String("api_resource", resource), zap.String("kind", kind), zap.Error(err))
		}
	}
	// The processors of one collector share one set of informers
	// (internal/k8smeta/shared.go).
	key := k8smeta.Key{Kubeconfig: g.cfg.Kubernetes.Kubeconfig, NodeName: opts.NodeName, DeleteGracePeriod: opts.DeleteGracePeriod, Client: g.clientID}
	syncCtx, cancel := context.WithTimeout(ctx, g.cfg.Kubernetes.SyncTimeout)
	defer cancel()
	store, release, err := k8smeta.Acquire(syncCtx, key, func() (*k8smeta.Store, error) {
		client, err := g.newClient(g.cfg)
		if err != nil {
			return nil, err
		}
		return k8smeta.New(client, opts)
	}, onError)
	if err != nil {
		return err
	}
	g.release = release
	g.store = store
	g.started.Store(store)
	g.synced.Store(1)
	g.set.Logger.Info("Kubernetes metadata synced", zap.String("mode", g.cfg.Kubernetes.Mode))
	return nil
}

func (g *governance) liveStore() *k8smeta.Store { return g.started.Load() }

func (g *governance) shutdown(context.Context) error {
	g.started.Store(nil)
	if g.release != nil {
		g.release()
	}
	g.telemetry.Shutdown()
	return nil
}

// side is one end of a request: its pod when known, and what the
// processor reads from its labels, resolved once per batch rather than per
// record.
type side struct {
	pod   k8smeta.Pod
	found bool
	// labels[i] is dimension i's label value: the pod's, else the
	// k8s.pod.label.* attributes of the resource (Istio's ALS node
	// metadata) for the resource's own pod.
	labels       [maxDims]string
	app, version string
	// name is the pod's name: the informer's, else the resource's
	// k8s.pod.name (what gateways.workloads matches by prefix).
	name string
	kind int // index in workloadKinds, -1 for none
}

var unknownSide = &side{kind: -1}

// newSide resolves a pod's label values; res is the resource when the pod
// is the resource's own.
func (g *governance) newSide(pod k8smeta.Pod, found bool, res *pcommon.Map) *side {
	s := &side{pod: pod, found: found, kind: -1}
	for i := range g.dims {
		d := &g.dims[i]
		switch {
		case d.label == "":
		case found:
			s.labels[i] = pod.Labels[d.label]
		case res != nil:
			if v, ok := res.Get(d.podAttr); ok {
				s.labels[i] = v.Str()
			}
		}
	}
	if !found {
		if res != nil {
			// Without the informer's answer, the resource's word: its
			// app and version, else its pod labels.
			s.name = str(*res, semconv.AttrK8sPodName)
			s.app = firstOf(*res, semconv.AttrApp, semconv.AttrPodLabelApp, semconv.AttrPodLabelAppName)
			s.version = firstOf(*res, semconv.AttrVersion, semconv.AttrPodLabelVersion, semconv.AttrPodLabelAppVersion)
		}
		return s
	}
	s.name = pod.Name
	if s.app = pod.Labels["app"]; s.app == "" {
		s.app = pod.Labels["app.kubernetes.io/name"]
	}
	if s.version = pod.Labels["version"]; s.version == "" {
		s.version = pod.Labels["app.kubernetes.io/version"]
	}
	for i, kind := range workloadKinds {
		if kind == pod.WorkloadKind {
			s.kind = i
		}
	}
	return s
}

// resourcePod finds the pod a resource describes.
func (g *governance) resourcePod(res pcommon.Map) *side {
	var pod k8smeta.Pod
	found := false
	if g.store != nil {
		if v, ok := res.Get(semconv.AttrK8sPodUID); ok {
			pod, found = g.store.PodByUID(v.Str())
		}
		if !found {
			ns, okNS := res.Get(semconv.AttrK8sNamespace)
			name, okName := res.Get(semconv.AttrK8sPodName)
			if okNS && okName {
				pod, found = g.store.PodByName(ns.Str(), name.Str())
			}
		}
		if !found {
			if v, ok := res.Get(semconv.AttrK8sPodIP); ok {
				pod, found = g.store.PodByIP(v.Str())
			}
		}
	}
	return g.newSide(pod, found, &res)
}

// peerPod finds the pod at the other end of the call by IP, from the
// first of the address slots that holds one, as it was when the request
// started (at): an IP the network gave to a new pod is the old pod's
// before the new one started (k8smeta's delete grace period). peers
// remembers the answers within one batch that hold for any later request:
// a live pod that had started by then.
func (g *governance) peerPod(r *record, peers map[string]*side, at time.Time, slots ...slot) *side {
	if g.store == nil {
		return unknownSide
	}
	for _, s := range slots {
		ip, _ := r.str(s)
		if ip == "" {
			continue
		}
		p, seen := peers[ip]
		if seen && p.found && (at.Before(p.pod.Start) || !p.pod.Deleted.IsZero()) {
			seen = false
		}
		if !seen {
			pod, found := g.store.PodByIPAt(ip, at)
			p = g.newSide(pod, found, nil)
			peers[ip] = p
		}
		if p.found {
			return p
		}
	}
	return unknownSide
}

// requestTime is a record's time for pod lookups: zero when it has none.
func requestTime(ts pcommon.Timestamp) time.Time {
	if ts == 0 {
		return time.Time{}
	}
	return ts.AsTime()
}

// batch is the state of one call of the processor: the pods found by IP,
// the labels of the last namespace looked up, the views of the current
// record and resource, the access log parser's fields, and the
// attribution counts.
type batch struct {
	peers    map[string]*side
	ns       string
	nsLabels map[string]string
	nsFound  bool
	rec, res record
	fields   accesslog.Fields
	// shared holds the current resource's values (shareAttribution) by
	// sharedSlot index, which every record of it reads unless it carries
	// its own; records counts its records, own[j] those that carry a value
	// of shared slot j, and differs has bit j when one of them differs
	// from the resource's (unshare).
	shared  [numShared]string
	records int
	own     [numShared]int
	differs uint16
	// attributed[i][s+1] counts the records whose dimension i came from
	// source s (-1: none); flushAttributed adds them to
	// genops_attribution_records_total once per batch.
	attributed [maxDims][numSources + 1]int64
}

// newBatch takes a batch from the pool; done returns it.
func (g *governance) newBatch() *batch {
	if b, ok := g.batches.Get().(*batch); ok {
		return b
	}
	return &batch{peers: map[string]*side{}}
}

func (g *governance) done(ctx context.Context, b *batch) {
	g.flushAttributed(ctx, b)
	clear(b.peers)
	b.ns, b.nsLabels, b.nsFound = "", nil, false
	b.rec.attrs, b.res.attrs = pcommon.Map{}, pcommon.Map{}
	g.batches.Put(b)
}

func (g *governance) namespaceLabels(b *batch, ns string) map[string]string {
	if g.store == nil || ns == "" {
		return nil
	}
	if !b.nsFound || b.ns != ns {
		b.ns, b.nsFound = ns, true
		b.nsLabels, _ = g.store.NamespaceLabels(ns)
	}
	return b.nsLabels
}

// resource finds the pod a resource describes; the resource's own pod is
// the destination of its inbound records, so its workload goes on the
// resource, once. Over the network the resource describes the pod at the
// connection's address, whatever it claims (verifyResource). keep is
// false when the resource is a log file of a pod the informer knows to
// run no mesh proxy: its lines are no access log.
func (g *governance) resource(ctx context.Context, b *batch, res pcommon.Map, o origin) (local *side, id resourceIdentity, keep bool) {
	if n := pruneDeep(res) + dedupe(res); n > 0 {
		g.telemetry.RejectedClaims.Add(ctx, int64(n), g.rejected[claimAttribute][rejectOverLimit])
	}
	// What this processor, or a component after it, writes on records is
	// never a resource's: the sli connector and the ledger read a resource's
	// attributes under each record's, so a resource's side, shard key, cost
	// or span-record fields would count, route or bill the records that
	// carry none (outsider's finding on #19: a resource genops.shard chose
	// the gateway replica).
	removed := 0
	res.RemoveIf(func(k string, _ pcommon.Value) bool {
		if pipelineOwned[k] {
			removed++
			return true
		}
		return false
	})
	if removed > 0 {
		g.telemetry.RejectedClaims.Add(ctx, int64(removed), g.rejected[claimAttribute][rejectForged])
	}
	if o.verified {
		g.verifyResource(ctx, res, o.reporter)
		local = o.reporter
	} else {
		local = g.resourcePod(res)
	}
	if !o.network && g.store != nil && local.found && local.pod.Proxy == "" {
		return local, id, false
	}
	switch {
	case local.found:
		b.res.read(g.keys, res)
		b.res.setWorkload(slotDestination, local)
		// The service its requests count under is the pod's, not what
		// a Host header says (docs/trust.md).
		b.res.setDefault(slotServiceName, local.service())
		b.res.apply()
	case local.app != "" || local.version != "":
		// An unknown pod's app and version from its labels (newSide).
		b.res.read(g.keys, res)
		if local.app != "" {
			b.res.setDefault(slotDestination+wlApp, local.app)
		}
		if local.version != "" {
			b.res.setDefault(slotDestination+wlVersion, local.version)
		}
		b.res.apply()
	}
	id = g.identifyResource(res, local)
	g.shareAttribution(ctx, b, res, local, id.namespace)
	return local, id, true
}

// Shared slots, by index: each dimension's attribute, then these.
const (
	sharedSource  = maxDims // genops.attribution.source
	sharedCluster = maxDims + 1
	numShared     = maxDims + 2
)

func sharedSlot(j int) slot {
	switch j {
	case sharedSource:
		return slotAttributionSource
	case sharedCluster:
		return slotCluster
	}
	return slotDimAttr + slot(j)
}

// shareAttribution writes on the resource what every record of it is
// attributed to unless the record says otherwise: each dimension as the
// labels of the resource's pod and its namespace, or the default, decide
// it (a header or span tag is a record's claim, so none counts here),
// its attribution source and the cluster. A record then carries only what
// differs (attribute), and unshare moves a value that not every record
// shares back onto the records, so that a resource holds only what all
// its records read, and no record holds another value under the same
// name: a backend that matches a resource's attributes and a record's
// alike (Jaeger's tag search, Loki's labels) never finds a record under a
// value it does not have. The sli connector, the cost ledger and the
// exporters read a record's attributes over its resource's
// (docs/trust.md). Whatever a sender put on the resource under these
// names is replaced or removed: this processor alone writes them (issue
// #20: an Istio line without claims carried eight attributes that were
// the same for every line of the file).
func (g *governance) shareAttribution(ctx context.Context, b *batch, res pcommon.Map, local *side, ns string) {
	if local.found {
		ns = local.pod.Namespace
	}
	nsLabels := g.namespaceLabels(b, ns)
	r := &b.res
	r.read(g.keys, res)
	b.shared, b.records, b.own, b.differs = [numShared]string{}, 0, [numShared]int{}, 0
	for i := range g.dims {
		d := &g.dims[i]
		value, source := g.resolve(ctx, d, claims{}, i, local, nsLabels, false)
		value = g.stored(d, value, source)
		b.shared[i] = value
		r.setOver(slotDimAttr+slot(i), value, "")
		if d.name == DimTeam && value != "" {
			b.shared[sharedSource] = defaultSources[source]
		}
	}
	r.setOver(slotAttributionSource, b.shared[sharedSource], "")
	if g.cfg.Cluster != "" {
		// The collector's, not the sender's (verifyResource removed a
		// network resource's). A record's own is removed over the network
		// and where the informer knows the pods (attribute); a line of
		// the node's files without Kubernetes keeps its own (unshare).
		b.shared[sharedCluster] = g.cfg.Cluster
		r.setStr(slotCluster, g.cfg.Cluster)
	}
	r.apply()
}

// noteShared counts, before a record's writes are applied, which shared
// values it carries and whether one differs from its resource's.
func (g *governance) noteShared(b *batch, r *record) {
	b.records++
	for j := range numShared {
		if j < maxDims && j >= len(g.dims) || j == sharedCluster && g.cfg.Cluster == "" {
			continue
		}
		if v, ok := r.current(sharedSlot(j)); ok {
			b.own[j]++
			if v != b.shared[j] {
				b.differs |= 1 << j
			}
		}
	}
}

// unshare keeps on the resource only the values that every record of it
// reads from there (shareAttribution): a value that some record does not
// share leaves the resource for the records that read it, and the ""
// that stood for "none" on the others goes. records yields the
// attributes of the resource's records.
func (g *governance) unshare(b *batch, res pcommon.Map, records func(func(pcommon.Map))) {
	var moved uint16 // the shared slots some records read from the resource
	for j := range numShared {
		if b.differs&(1<<j) == 0 {
			continue
		}
		res.Remove(g.keys.key[sharedSlot(j)])
		if b.own[j] < b.records { // else every record carries its own
			moved |= 1 << j
		}
	}
	if moved == 0 {
		return
	}
	records(func(attrs pcommon.Map) {
		for j := range numShared {
			if moved&(1<<j) == 0 {
				continue
			}
			key := g.keys.key[sharedSlot(j)]
			v, ok := attrs.Get(key)
			switch {
			case !ok && b.shared[j] != "":
				attrs.PutStr(key, b.shared[j])
			case ok && v.Type() == pcommon.ValueTypeStr && v.Str() == "" && b.shared[j] != "":
				attrs.Remove(key)
			}
		}
	})
}

// pipelineOwned are the attributes only this processor or the components
// after it write, per record: never on a resource.
var pipelineOwned = map[string]bool{
	semconv.AttrSide: true, semconv.AttrShard: true, semconv.AttrRequestDurationMs: true, semconv.AttrRequestError: true,
	semconv.AttrCostTotal: true, semconv.AttrCostCurrency: true, semconv.AttrCostPriceRow: true, semconv.AttrCostTime: true,
}

// str is a map's string value of key ("" when absent).
func str(m pcommon.Map, key string) string {
	v, _ := m.Get(key)
	return v.Str()
}

// firstOf is the first non-empty string value of keys in m.
func firstOf(m pcommon.Map, keys ...string) string {
	for _, k := range keys {
		if v := str(m, k); v != "" {
			return v
		}
	}
	return ""
}

func (g *governance) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	o := g.originOf(ctx)
	if o.forwarder {
		return ld, nil // attributed by the collector that forwards it
	}
	if g.cfg.TrustedSources.OnlyForwarders {
		g.telemetry.RejectedClaims.Add(ctx, int64(ld.LogRecordCount()), g.rejected[claimSender][rejectUntrusted])
		return ld, processorhelper.ErrSkipProcessingData
	}
	b := g.newBatch()
	defer g.done(ctx, b)
	r := &b.rec
	// Over the network only a mesh proxy's records say truly who called
	// (the peer address Envoy saw); another sender's are its word.
	proxyWrote := !o.verified || (o.reporter.found && o.reporter.pod.Proxy != "")
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		local, id, keep := g.resource(ctx, b, rl.Resource().Attributes(), o)
		if !keep {
			g.telemetry.RejectedClaims.Add(ctx, int64(countLogs(rl)), g.rejected[claimProxy][rejectForged])
			return true
		}
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if deepValue(lr.Body()) {
					lr.Body().SetStr("")
					g.reject(ctx, claimAttribute, rejectOverLimit)
				}
				g.structure(ctx, b, lr)
				if n := r.read(g.keys, lr.Attributes()); n > 0 {
					g.telemetry.RejectedClaims.Add(ctx, int64(n), g.rejected[claimAttribute][rejectOverLimit])
				}
				at := lr.Timestamp()
				if at == 0 {
					at = lr.ObservedTimestamp()
				}
				peer := unknownSide
				if proxyWrote {
					peer = g.peerPod(r, b.peers, requestTime(at), slotPeerAddress)
				}
				c := call{dest: local, src: peer, resourceNS: id.namespace, at: at, network: o.network}
				outbound := false
				if d, _ := r.str(slotDirection); d == semconv.DirectionOutbound {
					c.dest, c.src, c.destIsPeer, outbound = peer, local, true, true
				}
				c.trusted = g.trusted.trusts(g.principal(r, o, local), c.src.namespace())
				g.attribute(ctx, b, r, &c, o)
				side := logSide(r, &id)
				if side != "" && !proxyWrote {
					// Over the network only a mesh proxy's access log
					// records are requests (a pod without one would count
					// requests it invents; second outside attempt on #18).
					side = ""
					g.reject(ctx, claimProxy, rejectForged)
				}
				r.setSide(side)
				g.identify(ctx, r, &id, outbound)
				r.setShard(g.cfg.ShardKey, side, &id)
				g.noteShared(b, r)
				r.apply()
			}
		}
		g.unshare(b, rl.Resource().Attributes(), func(f func(pcommon.Map)) {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					f(lr.Attributes())
				}
			}
		})
		return false
	})
	return ld, nil
}

func countLogs(rl plog.ResourceLogs) int {
	n := 0
	for _, sl := range rl.ScopeLogs().All() {
		n += sl.LogRecords().Len()
	}
	return n
}

// principal is the caller's mesh identity (SPIFFE id or Linkerd client
// id) as a record states it, when a mesh proxy wrote the record: the
// node's proxy log files (of a pod known to run one, or any pod without
// Kubernetes), or a connection from a pod that runs one (ALS, Envoy's
// OpenTelemetry access logger); without Kubernetes, only the files.
// Never from a span.
func (g *governance) principal(r *record, o origin, local *side) string {
	switch {
	case g.store == nil && !o.network:
		// Without Kubernetes nothing tells a proxy's connection from any
		// other sender's: only the node's files give a principal (fourth
		// outside attempt: an OTLP log stating the gateway's principal
		// made its claims trusted).
	case !o.network && local.found && local.pod.Proxy != "":
	case o.network && o.reporter.found && o.reporter.pod.Proxy != "":
	default:
		return ""
	}
	principal, ok := r.str(slotPrincipal)
	if !ok {
		principal, _ = r.str(slotLinkerdID)
	}
	return principal
}

func (g *governance) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	o := g.originOf(ctx)
	if o.forwarder {
		// Attributed by the collector that forwards them, with the same
		// price table: priced again here, a stated cost of an AI workload
		// only the agent can verify would be refused.
		return td, nil
	}
	if g.cfg.TrustedSources.OnlyForwarders {
		g.telemetry.RejectedClaims.Add(ctx, int64(td.SpanCount()), g.rejected[claimSender][rejectUntrusted])
		return td, processorhelper.ErrSkipProcessingData
	}
	b := g.newBatch()
	defer g.done(ctx, b)
	r := &b.rec
	// A span's tags are trusted as its reporter is: over the network the
	// gateway's own spans, or none. Without a connection to check, the
	// caller's pod decides (per span, below).
	batchTrusted := o.verified && o.reporter.found && g.trusted.trusts("", o.reporter.pod.Namespace)
	for _, rs := range td.ResourceSpans().All() {
		local, id, _ := g.resource(ctx, b, rs.Resource().Attributes(), o)
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				deep := r.read(g.keys, span.Attributes())
				for _, e := range span.Events().All() {
					deep += pruneDeep(e.Attributes())
				}
				for _, l := range span.Links().All() {
					deep += pruneDeep(l.Attributes())
				}
				if deep > 0 {
					g.telemetry.RejectedClaims.Add(ctx, int64(deep), g.rejected[claimAttribute][rejectOverLimit])
				}
				// The peer's address on a span is the sender's word: over
				// the network it names no workload (docs/trust.md).
				peer := unknownSide
				if !o.verified {
					peer = g.peerPod(r, b.peers, requestTime(span.StartTimestamp()), slotClientAddress, slotPeerAddress, slotNetPeerIP)
				}
				c := call{dest: local, src: peer, resourceNS: id.namespace, at: span.StartTimestamp(), network: o.network}
				if span.Kind() == ptrace.SpanKindClient || span.Kind() == ptrace.SpanKindProducer {
					c.dest, c.src, c.destIsPeer = peer, local, true
				}
				c.trusted = batchTrusted
				if !o.verified {
					c.trusted = g.trusted.trusts("", c.src.namespace())
				}
				g.attribute(ctx, b, r, &c, o)
				side := spanSide(span.Kind())
				r.setSide(side)
				g.identify(ctx, r, &id, false)
				r.setShard(g.cfg.ShardKey, side, &id)
				g.noteShared(b, r)
				r.apply()
			}
		}
		g.unshare(b, rs.Resource().Attributes(), func(f func(pcommon.Map)) {
			for _, ss := range rs.ScopeSpans().All() {
				for _, span := range ss.Spans().All() {
					f(span.Attributes())
				}
			}
		})
	}
	return td, nil
}

// call is one request as the processor decides it: the pods at both ends,
// and whether its caller may make claims.
type call struct {
	dest, src *side
	// destIsPeer says the destination is the other end of the call (an
	// outbound record, a CLIENT span): its workload goes on the record; an
	// inbound record's destination is the resource's pod, already on the
	// resource.
	destIsPeer bool
	resourceNS string
	// trusted: a trusted source sent the request, so its headers and span
	// tags count for dimensions with trust: when_source_matches.
	trusted bool
	// at is the record's time (a log line's, a span's start); network:
	// it came over a connection (callTime).
	at      pcommon.Timestamp
	network bool
}

func (s *side) namespace() string {
	if s.found {
		return s.pod.Namespace
	}
	return ""
}

// attribute decides the governance attributes of one record (written by
// r.apply). A missing or hostile value never fails it: the dimension falls
// to the next source.
func (g *governance) attribute(ctx context.Context, b *batch, r *record, c *call, o origin) {
	dest, src := c.dest, c.src
	destNS := c.resourceNS
	if dest.found {
		destNS = dest.pod.Namespace
	}
	nsLabels := g.namespaceLabels(b, destNS)

	for i := range g.dims {
		d := &g.dims[i]
		value, source := g.resolve(ctx, d, claimsOf(r, i), i, dest, nsLabels, c.trusted)
		b.attributed[i][source+1]++
		value = g.stored(d, value, source)
		// Only what differs from the resource's (shareAttribution).
		r.setOver(slotDimAttr+slot(i), value, b.shared[i])
		if d.name == DimTeam {
			src := ""
			if value != "" {
				src = defaultSources[source]
			}
			r.setOver(slotAttributionSource, src, b.shared[sharedSource])
		}
	}
	// A record's claims of identity are checked wherever the collector
	// knows better than the sender: over a verified connection, and in
	// the node's log files when the informer knows the pods (a pod's owner
	// can write its own sidecar's stdout; a JSON line's unknown keys
	// become attributes: third outside attempt on #18).
	checked := o.verified || (!o.network && g.store != nil)
	if checked {
		g.dropIdentityClaims(ctx, r, c)
	} else if o.network && g.cfg.Cluster != "" && r.has.has(slotCluster) {
		// Over the network the cluster is the collector's (on the
		// resource, shareAttribution), as docs/trust.md says: without
		// Kubernetes a record's own labelled its series (outsider's
		// finding on #20). A line of the node's own files keeps its own
		// (TestClusterLabel).
		r.remove(slotCluster)
		g.reject(ctx, claimWorkload, rejectForged)
	}
	if dest.found && c.destIsPeer {
		r.setWorkload(slotDestination, dest)
		r.setStr(slotServiceName, dest.service())
	}
	if src.found {
		r.setWorkload(slotSource, src)
	}
	// The cluster is on the resource (shareAttribution).
	g.price(ctx, r, dest, c)
}

// dropIdentityClaims removes what a network record says about which
// workload served it or which service it belongs to, unless it is true:
// the resource (verifyResource) or the informer says that.
func (g *governance) dropIdentityClaims(ctx context.Context, r *record, c *call) {
	forged := false
	for s := slotDestination; s < slotDestination+workloadSlots; s++ {
		if v, ok := r.str(s); ok && !(c.destIsPeer && c.dest.owns(r.keys.key[s], v)) {
			r.remove(s)
			forged = true
		}
	}
	// The pod labels the sli connector reads for app and version, and the
	// cluster: the collector knows them; a sender's are claims.
	for _, s := range [...]slot{slotPodLabelApp, slotPodLabelAppName, slotPodLabelVersion, slotPodLabelAppVersion, slotCluster} {
		if _, ok := r.str(s); ok {
			r.remove(s)
			forged = true
		}
	}
	if forged {
		g.reject(ctx, claimWorkload, rejectForged)
	}
	if v, ok := r.str(slotServiceName); ok && !(c.dest.found && c.dest.servesAs(v)) {
		r.remove(slotServiceName)
		g.reject(ctx, claimService, rejectForged)
	}
}

// structure parses a record that carries an access log line as its body
// and has not been parsed yet (no envoy.direction, no status code): what
// Envoy's OpenTelemetry access logger sends. A line that does not parse is
// left as it is, marked with envoy.parse_error.
func (g *governance) structure(ctx context.Context, b *batch, lr plog.LogRecord) {
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
	if err := accesslog.StructureRecord(g.accessLog, lr, &b.fields); err != nil {
		// Counted: a line that does not parse is a request (and maybe an
		// AI call) that no metric and no ledger row holds.
		attrs.PutStr(semconv.AttrEnvoyParseError, err.Error())
		g.reject(ctx, claimAccessLog, rejectUnparsed)
	}
}

// resolve walks the sources in order and returns the first acceptable
// value of dimension i and its source (an index in defaultSources).
// Headers and span tags are claims: they count only when trusted (the
// dimension's trust rule and the call's caller) and valid. A claim that
// is not kept is counted as a conflict, with the source that won and why.
func (g *governance) resolve(ctx context.Context, d *dimension, cl claims, i int, dest *side, nsLabels map[string]string, trusted bool) (string, int) {
	header, hasHeader, tag, hasTag := cl.header, cl.hasHeader, cl.tag, cl.hasTag
	claimTrusted := d.trust == TrustAlways || (d.trust == TrustWhenSourceMatches && trusted)
	value, source := "", -1
	for _, s := range g.sources {
		switch s {
		case sourceHeader:
			if hasHeader && claimTrusted {
				value, _ = d.accept(header)
			}
		case sourceSpanTag:
			if hasTag && claimTrusted {
				value, _ = d.accept(tag)
			}
		case sourcePodLabel:
			if label := dest.labels[i]; label != "" {
				value, _ = d.accept(label)
			}
		case sourceNamespaceLabel:
			if d.label != "" && nsLabels != nil {
				value, _ = d.accept(nsLabels[d.label])
			}
		case sourceDefault:
			value = d.def
		}
		if value != "" {
			source = s
			break
		}
	}
	if hasHeader && source != sourceHeader {
		g.conflict(ctx, d, i, header, value, source, claimTrusted)
	}
	if hasTag && source != sourceSpanTag {
		g.conflict(ctx, d, i, tag, value, source, claimTrusted)
	}
	return value, source
}

// claims are what a record says about one dimension: its request header
// and its genops.* attribute (a span tag).
type claims struct {
	header, tag       string
	hasHeader, hasTag bool
}

func claimsOf(r *record, i int) claims {
	var cl claims
	cl.header, cl.hasHeader = r.str(slotDimHeader + slot(i))
	cl.tag, cl.hasTag = r.str(slotDimAttr + slot(i))
	return cl
}

// stored is a dimension's value as it is written: hashed when the
// dimension says so, unless it is the default.
func (g *governance) stored(d *dimension, value string, source int) string {
	if value != "" && d.hash && source != sourceDefault {
		return hashValue(g.hashKey, value)
	}
	return value
}

// conflict counts a claim that was not kept, unless it said what won
// (a header that repeats the pod's label, the value a previous pass
// wrote).
func (g *governance) conflict(ctx context.Context, d *dimension, i int, claim, value string, source int, trusted bool) {
	if source < 0 || claim == value {
		return
	}
	reason := conflictUntrusted
	if trusted {
		v, ok := d.accept(claim)
		switch {
		case !ok:
			reason = conflictInvalid
		case v == value:
			return
		default:
			reason = conflictOverridden
		}
	}
	g.telemetry.AttributionConflicts.Add(ctx, 1, g.conflicts[i][source][reason])
}

// price sets genops.cost.total, genops.cost.currency and
// genops.cost.price_row for an AI call. Only a workload in ai_workloads
// may state its cost (a cost attribute or response header) or its tokens
// in response headers; every workload's own gen_ai.usage.* token counts
// are priced with the price table, at the row in force at the call's time
// (callTime). Every number is checked (non-negative, finite, within
// limits, consistent with the others); a refused one is removed and
// counted, and the call is priced from what is left. A call the table
// cannot price gets no cost (the sli connector counts its tokens as
// unpriced). When a stated cost and the table both price a call,
// cost_source decides which one is kept, and a difference is counted.
func (g *governance) price(ctx context.Context, r *record, dest *side, c *call) {
	statesCost := g.ai.trusts(dest)
	lim := &g.cfg.Limits
	// The cost attributes are this processor's to write: what arrives is
	// a claim, checked here and written again below.
	stated, hasStated := int64(0), false
	if v, ok := r.get(slotCostTotal); ok {
		if cur, ok := r.str(slotCostCurrency); statesCost && ok && cur != "" && !strings.EqualFold(cur, g.currency()) {
			// A cost in another currency is not a cost in the table's:
			// never store 1 yen as 1 dollar.
			g.reject(ctx, claimCost, rejectInconsistent)
		} else if f, reason, valid := costAmount(v, lim.MaxCostPerRequest); g.statedCost(ctx, f, reason, valid, statesCost) {
			stated, hasStated = nanosOf(f), true
		}
		r.remove(slotCostTotal)
		r.remove(slotCostCurrency)
	}
	r.remove(slotCostPriceRow)
	r.remove(slotCostTime)
	header := func(s slot) (string, bool) {
		v, ok := r.str(s)
		if !ok {
			return "", false
		}
		return Sanitize(v, 256)
	}
	any := false
	tokens := func(claim int, attr, hdr slot) int64 {
		if v, ok := r.get(attr); ok {
			n, reason, valid := tokenCount(v, lim.MaxTokensPerRequest)
			if valid {
				if v.Type() != pcommon.ValueTypeInt {
					r.setInt(attr, n)
				}
				any = true
				return n
			}
			g.reject(ctx, claim, reason)
			r.remove(attr)
		}
		if s, ok := header(hdr); ok {
			n, reason, valid := parseTokens(s, lim.MaxTokensPerRequest)
			if valid && statesCost {
				r.setInt(attr, n)
				any = true
				return n
			}
			if valid {
				reason = rejectUntrusted
			}
			g.reject(ctx, claim, reason)
		}
		return 0
	}
	usage := pricing.Usage{
		Input:         tokens(claimInputTokens, slotInputTokens, slotHeaderTokensInput),
		Output:        tokens(claimOutputTokens, slotOutputTokens, slotHeaderTokensOutput),
		CacheRead:     tokens(claimCacheReadTokens, slotCacheReadTokens, slotHeaderTokensCacheRead),
		CacheCreation: tokens(claimCacheCreationTokens, slotCacheCreationTokens, slotHeaderTokensCacheWrite),
		Reasoning:     tokens(claimReasoningTokens, slotReasoningTokens, slotHeaderTokensReasoning),
	}
	model, _ := r.str(slotResponseModel)
	if model == "" {
		model, _ = r.str(slotRequestModel)
	}
	if model == "" {
		if s, ok := header(slotHeaderModel); ok {
			model = s
			r.setStr(slotResponseModel, s)
		}
	}
	provider, _ := r.str(slotProvider)
	if provider == "" {
		if s, ok := header(slotHeaderProvider); ok {
			provider = s
			r.setStr(slotProvider, s)
		}
	}
	if !hasStated {
		if s, ok := header(slotHeaderCost); ok {
			if f, reason, valid := parseCost(s, lim.MaxCostPerRequest); g.statedCost(ctx, f, reason, valid, statesCost) {
				stated, hasStated = nanosOf(f), true
			}
		}
	}
	if !any && !hasStated {
		return
	}
	// The time the call is priced at is the time it is billed at: a
	// ledger puts it in that hour, day and month (genops.cost.time), so a
	// sender that claims another time moves neither its price nor its
	// bill.
	at := g.callTime(ctx, c)
	r.setInt(slotCostTime, at.UnixNano())
	var row *pricing.Row
	table, priced := int64(0), false
	if g.prices != nil && any {
		if row, priced = g.prices.Lookup(model, at); priced {
			row = row.ForTier(g.serviceTier(ctx, r, header, statesCost))
			if provider == "" {
				provider = row.Provider
				if provider != "" {
					r.setStr(slotProvider, provider)
				}
			}
			// How tokens are counted is the priced row's provider's
			// (a Claude row counts Anthropic's way whatever the call
			// says its provider is); the call's only without one.
			billing := row.Provider
			if billing == "" {
				billing = strings.ToLower(provider)
			}
			table, priced = g.tableCost(ctx, row, billing, usage)
		}
	}
	switch {
	case hasStated && priced && stated != table:
		g.reject(ctx, claimCost, rejectConflict)
		if g.cfg.CostSource == CostSourceTable {
			g.setCost(r, table, row.ID())
			return
		}
		g.setCost(r, stated, semconv.PriceRowStated)
	case priced:
		// Also a stated cost equal to the table's (a record priced
		// before): the row says more than "stated".
		g.setCost(r, table, row.ID())
	case hasStated:
		g.setCost(r, stated, semconv.PriceRowStated)
	case any && g.prices == nil:
		g.telemetry.PricingUnpricedCalls.Add(ctx, 1, g.unpriced[unpricedNoTable])
	case any && row == nil:
		g.telemetry.PricingUnpricedCalls.Add(ctx, 1, g.unpriced[unpricedNoRow])
	}
}

// serviceTier is the tier a call states it was served in, lower case:
// openai.response.service_tier (else the request's), else the
// x-genops-service-tier response header. A tier lowers the price, so only
// a workload in ai_workloads may state it, as its cost and token headers;
// from another workload it is counted (claim service_tier) and the call
// is priced at the row's own prices, as is a tier the row does not name.
func (g *governance) serviceTier(ctx context.Context, r *record, header func(slot) (string, bool), statesCost bool) string {
	tier := ""
	for _, s := range []slot{slotResponseServiceTier, slotRequestServiceTier} {
		if v, ok := r.str(s); ok && v != "" {
			tier, _ = Sanitize(v, 32)
			break
		}
	}
	if tier == "" {
		tier, _ = header(slotHeaderServiceTier)
	}
	if tier == "" {
		return ""
	}
	if !statesCost {
		g.reject(ctx, claimServiceTier, rejectUntrusted)
		return ""
	}
	return strings.ToLower(tier)
}

// tableCost is the exact cost of usage under row, or false (counted) when
// the counts contradict each other or the cost passes the limit.
func (g *governance) tableCost(ctx context.Context, row *pricing.Row, provider string, usage pricing.Usage) (int64, bool) {
	billed, err := g.prices.Bill(provider, usage)
	if err != nil {
		g.reject(ctx, claimTokens, rejectInconsistent)
		return 0, false
	}
	n, ok := row.Cost(billed)
	if !ok || float64(n) > g.cfg.Limits.MaxCostPerRequest*pricing.NanosPerUnit {
		g.reject(ctx, claimCost, rejectOverLimit)
		return 0, false
	}
	return n, true
}

// setCost writes a call's cost: exact nano-units as a float of whole
// currency units (exact to the nano-unit below 9 million units: a ledger
// recovers the integer by rounding), the currency and the row.
func (g *governance) setCost(r *record, nanos int64, row string) {
	r.setDouble(slotCostTotal, float64(nanos)/pricing.NanosPerUnit)
	r.setStr(slotCostCurrency, g.currency())
	r.setStr(slotCostPriceRow, row)
}

// nanosOf is a checked cost (finite, 0 to max_cost_per_request) in
// nano-units.
func nanosOf(f float64) int64 {
	return int64(math.Round(f * pricing.NanosPerUnit))
}

// maxCallAge is how far before its arrival a call received over the
// network may say it happened: its time picks the price in force, and a
// sender must not pick last year's price for today's calls. Records read
// from log files carry the proxy's own time, whatever its age.
const maxCallAge = time.Hour

// maxClockSkew is how far ahead of this collector's clock a call's time
// may be before it is counted as a claim (it is priced now either way).
const maxClockSkew = time.Minute

// callTime is the time that picks a call's price: the record's (a log
// line's start, a span's start), never later than now; over the network,
// never more than maxCallAge before now (an older time is counted and
// replaced by now).
func (g *governance) callTime(ctx context.Context, c *call) time.Time {
	now := g.now()
	t := c.at.AsTime()
	switch {
	case c.at == 0:
		return now
	case t.After(now):
		// Clocks differ by moments; a time further ahead is a claim.
		if t.Sub(now) > maxClockSkew {
			g.reject(ctx, claimTimestamp, rejectOverLimit)
		}
		return now
	case c.network && now.Sub(t) > maxCallAge:
		g.reject(ctx, claimTimestamp, rejectOverLimit)
		return now
	}
	return t
}

// statedCost tells whether a cost a record states (an attribute or a
// response header) is kept: valid, and its workload may state one
// (ai_workloads); otherwise it counts why not.
func (g *governance) statedCost(ctx context.Context, f float64, reason int, valid, allowed bool) bool {
	if valid && allowed {
		return f >= 0
	}
	if valid {
		reason = rejectUntrusted
	}
	g.reject(ctx, claimCost, reason)
	return false
}

// currency is the price table's, else USD.
func (g *governance) currency() string {
	if g.prices != nil {
		return g.prices.Currency
	}
	return "USD"
}

// Response header attributes read for cost, built once.
const (
	respTokensInput  = semconv.ResponseHeaderPrefix + semconv.HeaderTokensInput
	respTokensOutput = semconv.ResponseHeaderPrefix + semconv.HeaderTokensOutput
	respModel        = semconv.ResponseHeaderPrefix + semconv.HeaderModel
	respProvider     = semconv.ResponseHeaderPrefix + semconv.HeaderProvider
	respCost         = semconv.ResponseHeaderPrefix + semconv.HeaderCost

	respTokensCacheRead  = semconv.ResponseHeaderPrefix + semconv.HeaderTokensCacheRead
	respTokensCacheWrite = semconv.ResponseHeaderPrefix + semconv.HeaderTokensCacheWrite
	respTokensReasoning  = semconv.ResponseHeaderPrefix + semconv.HeaderTokensReasoning
	respServiceTier      = semconv.ResponseHeaderPrefix + semconv.HeaderServiceTier
)
