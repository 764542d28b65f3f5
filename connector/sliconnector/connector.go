// Package sliconnector turns attributed requests — access log records from
// the mesh_access_log receiver and spans, after the governance processor —
// into the GenOps metric contract (ARCHITECTURE.md, "The metric
// contract"): request counts split by availability, a latency histogram
// whose bounds include every SLO threshold, AI cost and tokens, and a
// count of what cardinality caps folded.
//
// It is an aggregator of contract labels only: who a request is (its
// side, service, app, version, whether a gateway wrote it) is decided by
// the governance processor, which writes it in the attributes named in
// internal/semconv (semconv.AttrSide and the workload attributes); this
// package reads them as they are.
//
// Why by hand: contrib's span_metrics and count connectors have no notion
// of availability from Envoy response flags, of counting a request once
// across two sidecars, of SLO-driven bucket bounds or of per-label caps
// with an overflow series; and they build a map key per span, which this
// package avoids (a series lookup does not allocate).
package sliconnector

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/genops-mesh/otelcol-genops/connector/sliconnector/internal/seriesstore"
	"github.com/genops-mesh/otelcol-genops/internal/attrindex"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
	"github.com/genops-mesh/otelcol-genops/internal/sharedcomponent"
	"github.com/genops-mesh/otelcol-genops/internal/slo"
)

const scopeName = "github.com/genops-mesh/otelcol-genops/connector/sliconnector"

// Label orders of the families (ARCHITECTURE.md, metric contract).
var (
	requestLabels = []string{
		semconv.LabelNamespace, semconv.LabelApp, semconv.LabelVersion, semconv.LabelService, semconv.LabelRoute,
		semconv.LabelGenOpsTeam, semconv.LabelGenOpsProject, semconv.LabelGenOpsCustomerID, semconv.LabelGenOpsCostCenter,
		semconv.LabelGenOpsTier, semconv.LabelResponseCodeClass, semconv.LabelAvailability, semconv.LabelReporter, semconv.LabelCluster,
	}
	durationLabels = semconv.RequestDurationLabels
	costLabels     = []string{
		semconv.LabelNamespace, semconv.LabelApp, semconv.LabelGenOpsTeam, semconv.LabelGenOpsProject,
		semconv.LabelGenOpsCustomerID, semconv.LabelGenOpsCostCenter, semconv.LabelProvider, semconv.LabelModel,
		semconv.LabelCurrency, semconv.LabelCluster,
	}
	tokenLabels = []string{
		semconv.LabelNamespace, semconv.LabelApp, semconv.LabelGenOpsTeam, semconv.LabelGenOpsProject,
		semconv.LabelGenOpsCustomerID, semconv.LabelGenOpsCostCenter, semconv.LabelProvider, semconv.LabelModel,
		semconv.LabelCluster, semconv.LabelTokenType,
	}
	unpricedLabels = []string{
		semconv.LabelNamespace, semconv.LabelApp, semconv.LabelGenOpsTeam, semconv.LabelGenOpsProject,
		semconv.LabelProvider, semconv.LabelModel, semconv.LabelCluster, semconv.LabelTokenType,
	}
	tcpLabels = []string{
		semconv.LabelNamespace, semconv.LabelApp, semconv.LabelGenOpsTeam, semconv.LabelGenOpsProject,
		semconv.LabelGenOpsCostCenter, semconv.LabelDirection, semconv.LabelReporter, semconv.LabelCluster,
	}
	overflowLabels = []string{semconv.LabelMetric, semconv.LabelLabel}
	// app is the destination workload's, as Kiali filters a workload's
	// charts by it.
	policyLabels = []string{
		semconv.LabelNamespace, semconv.LabelApp, semconv.LabelService, semconv.LabelGenOpsTeam, semconv.LabelGenOpsProject,
		semconv.LabelGenOpsCustomerID, semconv.LabelGenOpsCostCenter, semconv.LabelPolicy, semconv.LabelPolicyName,
		semconv.LabelReporter, semconv.LabelCluster,
	}
	attemptLabels = []string{
		semconv.LabelNamespace, semconv.LabelApp, semconv.LabelService, semconv.LabelGenOpsTeam, semconv.LabelGenOpsProject,
		semconv.LabelGenOpsCustomerID, semconv.LabelGenOpsCostCenter, semconv.LabelReporter, semconv.LabelCluster,
	}
)

// sliConnector is shared by the logs-to-metrics and traces-to-metrics
// instances of one configured connector, so that a request counted from a
// log and from a span lands in the same series and one flush sends it.
type sliConnector struct {
	set    connector.Settings
	cfg    *Config
	next   consumer.Metrics
	logger *zap.Logger

	classifier classifier
	countDest  bool
	countSrc   bool

	mu        sync.Mutex
	agg       *seriesstore.Store
	requests  *seriesstore.Family
	durations *seriesstore.Family
	exp       *seriesstore.Family // nil unless histogram.exponential.enabled
	cost      *seriesstore.Family
	tokens    *seriesstore.Family
	unpriced  *seriesstore.Family
	tcpBytes  *seriesstore.Family // L4 connections (ztunnel)
	policy    *seriesstore.Family // requests a mesh control acted on
	attempts  *seriesstore.Family // upstream attempts
	retries   *seriesstore.Family // upstream attempts beyond the first
	combos    comboCache
	// unsided is set once an access log record without genops.side (no
	// governance processor before this connector) was warned about.
	unsided bool

	stop chan struct{}
	done chan struct{}
}

// connectors holds the connector of each configured id: its logs and
// traces instances are one connector, started by the first Start and
// stopped (with a last flush) by the last Shutdown.
var connectors = sharedcomponent.NewMap[component.ID, *sliConnector]()

// instance is what the factory returns for one signal: a reference to the
// shared connector.
type instance struct {
	*sharedcomponent.Component[*sliConnector]
}

func (i instance) Capabilities() consumer.Capabilities { return i.Unwrap().Capabilities() }

func (i instance) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	return i.Unwrap().ConsumeLogs(ctx, ld)
}

func (i instance) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	return i.Unwrap().ConsumeTraces(ctx, td)
}

// acquire returns a reference to the connector of set.ID, creating it on
// first use.
func acquire(set connector.Settings, cfg *Config, next consumer.Metrics) (instance, error) {
	c, err := connectors.LoadOrStore(set.ID, func() (*sliConnector, error) { return newConnector(set, cfg, next) })
	if err != nil {
		return instance{}, err
	}
	return instance{c}, nil
}

func newConnector(set connector.Settings, cfg *Config, next consumer.Metrics) (*sliConnector, error) {
	var thresholds []float64
	if cfg.SLOFile != "" {
		f, err := slo.ParseFile(cfg.SLOFile)
		if err != nil {
			return nil, fmt.Errorf("slo_file: %w", err)
		}
		thresholds = f.LatencyThresholds()
	}
	c := &sliConnector{
		set: set, cfg: cfg, next: next, logger: set.Logger,
		classifier: classifier{failureFlags: cfg.Availability.failureSet(), count429: cfg.Availability.Count429},
		countDest:  cfg.Reporter != ReporterSource,
		countSrc:   cfg.Reporter != ReporterDestination,
	}
	lim := seriesstore.Limits{
		MaxSeries: cfg.Cardinality.MaxSeries, MaxSeriesPerNamespace: cfg.Cardinality.MaxSeriesPerNamespace,
		MaxValueLength: cfg.Cardinality.MaxValueLength, Labels: cfg.Cardinality.Labels,
	}
	c.requests = seriesstore.NewFamily(semconv.MetricRequests, "Requests by availability (good or bad) and response code class, counted once per request by the reporting side.", "{request}", seriesstore.IntSum, requestLabels, lim)
	c.durations = seriesstore.NewFamily(semconv.MetricRequestDuration, "Request duration; bucket bounds include every latency threshold of the SLO file.", "s", seriesstore.Histogram, durationLabels, lim)
	c.durations.SetBounds(seriesstore.Bounds(cfg.Histogram.Buckets, thresholds))
	c.cost = seriesstore.NewFamily(semconv.MetricCost, "Cost of AI calls, in currency units.", "{cost}", seriesstore.DoubleSum, costLabels, lim)
	c.tokens = seriesstore.NewFamily(semconv.MetricTokens, "Tokens of AI calls by type (input, output).", "{token}", seriesstore.IntSum, tokenLabels, lim)
	c.unpriced = seriesstore.NewFamily(semconv.MetricUnpricedTokens, "Tokens of AI calls that no price table row priced and no workload stated a cost for, by model, provider and type: billed nowhere.", "{token}", seriesstore.IntSum, unpricedLabels, lim)
	c.policy = seriesstore.NewFamily(semconv.MetricPolicyEvents, "Requests a mesh control acted on, once per request, by policy: rate_limited (Envoy RL, local_rate_limited, request_rate_limited), denied (UAEX, rbac_access_denied…, ext_authz_denied; policy_name is the RBAC policy Envoy names), circuit_open (UO), retry_exhausted (URX), timeout (UT), fault_injected (FI, DI).", "{request}", seriesstore.IntSum, policyLabels, lim)
	c.attempts = seriesstore.NewFamily(semconv.MetricUpstreamAttempts, "Upstream attempts of the requests whose access log records them (%UPSTREAM_REQUEST_ATTEMPT_COUNT%; 0 for a local reply), counted from the records of the side that retried (the caller's sidecar, a gateway).", "{attempt}", seriesstore.IntSum, attemptLabels, lim)
	c.retries = seriesstore.NewFamily(semconv.MetricUpstreamRetries, "Upstream attempts beyond the first of the requests whose access log records them (%UPSTREAM_REQUEST_ATTEMPT_COUNT% minus one), counted from the records of the side that retried (the caller's sidecar, a gateway).", "{attempt}", seriesstore.IntSum, attemptLabels, lim)
	c.tcpBytes = seriesstore.NewFamily(semconv.MetricTCPBytes, "Bytes of L4 connections (Istio ambient mode's ztunnel) by workload and team, sent and received as the reporting side sees them; not HTTP requests.", "By", seriesstore.IntSum, tcpLabels, lim)
	families := []*seriesstore.Family{c.requests, c.durations, c.cost, c.tokens, c.unpriced, c.tcpBytes, c.policy, c.attempts, c.retries}
	if cfg.Histogram.Exponential.Enabled {
		c.exp = seriesstore.NewFamily(semconv.MetricRequestDuration+".exponential", "Request duration as an exponential (Prometheus native) histogram.", "s", seriesstore.Exponential, durationLabels, lim)
		c.exp.SetScale(cfg.Histogram.Exponential.Scale)
		families = append(families, c.exp)
	}
	overflow := seriesstore.NewFamily(semconv.MetricSeriesOverflow, "Records whose labels were folded into __overflow__ by a cardinality cap, by metric and label.", "{record}",
		seriesstore.IntSum, overflowLabels, seriesstore.Limits{MaxSeries: 1 << 20})
	c.agg = seriesstore.New(scopeName, families, overflow, cfg.Exemplars.Enabled)
	c.combos = newComboCache(cfg.Cardinality.MaxValueLength)
	return c, nil
}

func (c *sliConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// Start starts the flush loop (sharedcomponent calls it once).
func (c *sliConnector) Start(context.Context, component.Host) error {
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go c.flushLoop()
	return nil
}

// Shutdown stops the flush loop and sends what was counted since the last
// flush (sharedcomponent calls it once, at the last user's Shutdown).
func (c *sliConnector) Shutdown(ctx context.Context) error {
	if c.stop == nil {
		return nil // never started
	}
	close(c.stop)
	<-c.done
	return c.flush(ctx)
}

func (c *sliConnector) flushLoop() {
	defer close(c.done)
	t := time.NewTicker(c.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			if err := c.flush(context.Background()); err != nil {
				c.logger.Warn("sending SLI metrics failed", zap.Error(err))
			}
		}
	}
}

func (c *sliConnector) flush(ctx context.Context) error {
	c.mu.Lock()
	md := c.agg.Flush(c.cfg.Expiry)
	c.combos.reset() // its series may have expired
	c.mu.Unlock()
	if md.DataPointCount() == 0 {
		return nil
	}
	return c.next.ConsumeMetrics(ctx, md)
}

// request is what one record says about one request.
type request struct {
	// comboKey holds the values that decide the series (by ck position)
	// and the status; finishKey completes it.
	comboKey
	// side is genops.side: destination, source or gateway ("" for no
	// request between services).
	side string
	// l4 marks a TCP-level record (ztunnel): not an HTTP request; its
	// bytes count in genops_tcp_bytes_total.
	l4                       bool
	bytesSent, bytesReceived int64
	durationMs               float64
	hasDuration              bool
	cost                     float64
	hasCost                  bool
	inTokens, outTokens      int64
	spanError                bool
	// spanRecord: the request record of a span (requestlog connector), a
	// request whatever its transport says.
	spanRecord bool
	// details is %RESPONSE_CODE_DETAILS%; attempts
	// %UPSTREAM_REQUEST_ATTEMPT_COUNT% (0: not logged).
	details     string
	attempts    int64
	hasAttempts bool
}

// readResource takes the workload from the resource (the pod whose
// sidecar wrote the log, or the service that emitted the span), and the
// id of its values in the combination cache.
func (r *request) readResource(attrs pcommon.Map, combos *comboCache) {
	for k, v := range attrs.All() {
		r.read(k, v)
	}
	r.set = 0
	r.res = combos.resource(&r.values)
}

// Fields of a request that attributes fill (attrindex field numbers). A
// value that goes into the combination key as it is read is filled at its
// key position (fields below comboValues); the others follow.
const (
	fNamespace    = ckNamespace
	fApp          = ckApp
	fVersion      = ckVersion
	fService      = ckService
	fRoute        = ckRoute
	fTeam         = ckTeam
	fProject      = ckProject
	fCustomer     = ckCustomer
	fCostCenter   = ckCostCenter
	fTier         = ckTier
	fCluster      = ckCluster
	fFlags        = ckFlags
	fProvider     = ckProvider
	fModel        = ckModel
	fRequestModel = ckRequestModel
	fCurrency     = ckCurrency
)

const (
	fStatus = comboValues + iota
	fSide
	fTransport
	fBytesSent
	fBytesReceived
	fDuration
	fCost
	fInputTokens
	fOutputTokens
	fDetails
	fAttempts
	fRequestDuration
	fRequestError
)

// requestFieldKeys are the attributes a request is read from, by field.
// read takes one field per key.
var requestFieldKeys = map[int][]string{
	fNamespace: {semconv.AttrK8sNamespace}, fApp: {semconv.AttrApp}, fVersion: {semconv.AttrVersion},
	fService: {semconv.AttrServiceName}, fSide: {semconv.AttrSide},
	fRoute: {semconv.AttrEnvoyRouteName, semconv.AttrHTTPRoute}, fCluster: {semconv.AttrK8sCluster},
	fTeam: {semconv.AttrTeam}, fProject: {semconv.AttrProject}, fCustomer: {semconv.AttrCustomerID},
	fCostCenter: {semconv.AttrCostCenter}, fTier: {semconv.AttrCustomerTier},
	fStatus: {semconv.AttrHTTPResponseStatusCode, "http.status_code"},
	// Envoy's spans tag response_flags as its access log prints them.
	fFlags: {semconv.AttrEnvoyResponseFlags, "response_flags"}, fDetails: {semconv.AttrEnvoyResponseCodeDetails},
	fAttempts: {semconv.AttrEnvoyUpstreamAttempts}, fTransport: {"network.transport"},
	fBytesSent: {semconv.AttrEnvoyBytesSent}, fBytesReceived: {semconv.AttrEnvoyBytesReceived},
	fDuration: {semconv.AttrEnvoyDurationMs}, fCost: {semconv.AttrCostTotal}, fCurrency: {semconv.AttrCostCurrency},
	fProvider: {semconv.AttrGenAIProviderName}, fModel: {semconv.AttrGenAIResponseModel},
	fRequestModel: {semconv.AttrGenAIRequestModel}, fInputTokens: {semconv.AttrGenAIInputTokens},
	fOutputTokens:    {semconv.AttrGenAIOutputTokens},
	fRequestDuration: {semconv.AttrRequestDurationMs}, fRequestError: {semconv.AttrRequestError},
}

// requestKeys index requestFieldKeys.
var requestKeys = func() *attrindex.Table {
	t := &attrindex.Table{}
	for f, keys := range requestFieldKeys {
		for _, k := range keys {
			t.Add(k, f)
		}
	}
	return t
}()

// read takes one attribute. Record attributes are read after the
// resource's and win.
func (r *request) read(k string, v pcommon.Value) {
	set := requestKeys.Fields(k)
	if set == 0 {
		return
	}
	f := bits.TrailingZeros64(set)
	if f < comboValues {
		r.values[f] = v.Str()
		r.set |= 1 << f
		return
	}
	switch f {
	case fStatus:
		r.status = intValue(v)
	case fSide:
		r.side = v.Str()
	case fTransport:
		r.l4 = v.Str() == "tcp"
	case fBytesSent:
		r.bytesSent = max(intValue(v), 0) // a negative count would lower a counter
	case fBytesReceived:
		r.bytesReceived = max(intValue(v), 0)
	case fDuration:
		// A negative duration would lower the histogram's sum, which
		// Prometheus reads as a counter reset: it is no duration.
		d := intValue(v)
		r.durationMs, r.hasDuration = float64(d), d >= 0
	case fCost:
		// The governance processor refuses a cost that is not finite or
		// is negative; a record that skipped it must not poison a counter.
		r.cost, r.hasCost = floatValue(v)
		if r.hasCost && !(r.cost >= 0 && r.cost <= math.MaxFloat64) {
			r.cost, r.hasCost = 0, false
		}
	case fInputTokens:
		r.inTokens = intValue(v) // negative counts are not counted
	case fOutputTokens:
		r.outTokens = intValue(v)
	case fDetails:
		r.details = v.Str()
	case fAttempts:
		r.attempts, r.hasAttempts = max(intValue(v), 0), true
	case fRequestDuration:
		// A span's duration, as ConsumeTraces computes it.
		if d, ok := floatValue(v); ok && d >= 0 && d <= math.MaxFloat64 {
			r.durationMs, r.hasDuration = d, true
		}
	case fRequestError:
		r.spanError, r.spanRecord = v.Bool(), true
	}
}

func intValue(v pcommon.Value) int64 {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		// int64 of NaN, ±Inf or a double past the int64 range is
		// undefined; such a value counts as nothing.
		if d := v.Double(); d > -9.2e18 && d < 9.2e18 {
			return int64(d)
		}
	case pcommon.ValueTypeStr:
		n, _ := strconv.ParseInt(v.Str(), 10, 64)
		return n
	}
	return 0
}

func floatValue(v pcommon.Value) (float64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeDouble:
		return v.Double(), true
	case pcommon.ValueTypeInt:
		return float64(v.Int()), true
	case pcommon.ValueTypeStr:
		f, err := strconv.ParseFloat(v.Str(), 64)
		return f, err == nil
	}
	return 0, false
}

// reporter is the reporter label of a request, or "" when its side does
// not count.
func (c *sliConnector) reporter(side string) string {
	switch {
	case side == semconv.ReporterDestination && c.countDest:
		return semconv.ReporterDestination
	case side == semconv.ReporterSource && c.countSrc:
		return semconv.ReporterSource
	}
	return ""
}

// count adds one request to every family it belongs to: through the
// combination cache when the request's combination is known, else by
// finding (or creating) each series.
func (c *sliConnector) count(r *request, reporter string, now pcommon.Timestamp, ex *seriesstore.ExemplarSource) {
	r.finishKey(reporter)
	if r.res == 0 { // the cache does not name the resource: count without it
		var cb combo
		c.countSeries(&cb, r, reporter, now, ex)
		return
	}
	h := r.hash()
	if cb := c.combos.find(h, &r.comboKey); cb != nil {
		c.update(cb, r, now, ex)
		return
	}
	k := r.comboKey
	var cb combo
	c.agg.Folded = false
	c.countSeries(&cb, r, reporter, now, ex)
	if !c.agg.Folded {
		c.combos.store(h, &k, cb)
	}
}

// update counts a request in the series of its known combination.
func (c *sliConnector) update(cb *combo, r *request, now pcommon.Timestamp, ex *seriesstore.ExemplarSource) {
	c.agg.AddTo(cb.requests, 1, now, ex)
	if cb.duration != nil {
		c.agg.ObserveIn(c.durations, cb.duration, r.durationMs/1000, now, ex)
	}
	if cb.exp != nil {
		c.agg.ObserveIn(c.exp, cb.exp, r.durationMs/1000, now, ex)
	}
	if cb.cost != nil {
		c.agg.AddTo(cb.cost, r.cost, now, ex)
	}
	if cb.input != nil {
		c.agg.AddTo(cb.input, float64(r.inTokens), now, ex)
	}
	if cb.output != nil {
		c.agg.AddTo(cb.output, float64(r.outTokens), now, ex)
	}
	if cb.unpricedInput != nil {
		c.agg.AddTo(cb.unpricedInput, float64(r.inTokens), now, ex)
	}
	if cb.unpricedOutput != nil {
		c.agg.AddTo(cb.unpricedOutput, float64(r.outTokens), now, ex)
	}
}

// countControls counts what the mesh's controls did to a request: the
// policy that acted on it (genops_policy_events_total, at most one per
// request: a control acts in one sidecar, and the other side's record of
// the request has no flag of it) and, from the side that retries (the
// caller's sidecar or a gateway, reporter source), its upstream attempts.
// It is called for every record, whichever sides reporter counts as
// requests: circuit breakers, timeouts and retries act in the caller's
// sidecar, rate limits and RBAC in the server's or a gateway's. Few
// requests have either, so these series are found without the
// combination cache.
func (c *sliConnector) countControls(r *request, reporter string, now pcommon.Timestamp) {
	policy, name := policyOf(r.values[ckFlags], r.details)
	// The server's sidecar logs each attempt as a request of its own:
	// its records' attempt counts are not counted (istio_genops_json
	// logs one on every record, so this is most records).
	attempts := r.hasAttempts && reporter == semconv.ReporterSource
	if policy == "" && !attempts {
		return
	}
	v := &r.values
	hReporter := destinationHash
	if reporter == semconv.ReporterSource {
		hReporter = sourceHash
	}
	hNS, hApp, hService, hTeam := seriesstore.Hash(v[ckNamespace]), seriesstore.Hash(v[ckApp]), seriesstore.Hash(v[ckService]), seriesstore.Hash(v[ckTeam])
	hProject, hCustomer, hCC, hCluster := seriesstore.Hash(v[ckProject]), seriesstore.Hash(v[ckCustomer]), seriesstore.Hash(v[ckCostCenter]), seriesstore.Hash(v[ckCluster])
	if policy != "" {
		key := seriesstore.Values{v[ckNamespace], v[ckApp], v[ckService], v[ckTeam], v[ckProject], v[ckCustomer], v[ckCostCenter], policy, name, reporter, v[ckCluster]}
		hashes := seriesstore.Hashes{hNS, hApp, hService, hTeam, hProject, hCustomer, hCC, seriesstore.Hash(policy), seriesstore.Hash(name), hReporter, hCluster}
		c.agg.Add(c.policy, &key, &hashes, 1, now, nil)
	}
	if attempts {
		key := seriesstore.Values{v[ckNamespace], v[ckApp], v[ckService], v[ckTeam], v[ckProject], v[ckCustomer], v[ckCostCenter], reporter, v[ckCluster]}
		hashes := seriesstore.Hashes{hNS, hApp, hService, hTeam, hProject, hCustomer, hCC, hReporter, hCluster}
		c.agg.Add(c.attempts, &key, &hashes, float64(r.attempts), now, nil)
		c.agg.Add(c.retries, &key, &hashes, float64(max(r.attempts-1, 0)), now, nil)
	}
}

// countSeries finds (or creates) every series of a request, counts it
// there, and notes the series in cb.
func (c *sliConnector) countSeries(cb *combo, r *request, reporter string, now pcommon.Timestamp, ex *seriesstore.ExemplarSource) {
	v := &r.values
	bad := r.spanError || c.classifier.bad(r.status, v[ckFlags])
	availability, availabilityHash := semconv.AvailabilityGood, goodHash
	if bad {
		availability, availabilityHash = semconv.AvailabilityBad, badHash
	}
	class := codeClassIndex(r.status)
	model := v[ckModel]
	if model == "" {
		model = v[ckRequestModel]
	}
	// Each label value is hashed once here; the families combine them.
	hNS, hApp, hVersion, hService := seriesstore.Hash(v[ckNamespace]), seriesstore.Hash(v[ckApp]), seriesstore.Hash(v[ckVersion]), seriesstore.Hash(v[ckService])
	hRoute, hTeam, hProject, hCustomer := seriesstore.Hash(v[ckRoute]), seriesstore.Hash(v[ckTeam]), seriesstore.Hash(v[ckProject]), seriesstore.Hash(v[ckCustomer])
	hCC, hTier, hCluster := seriesstore.Hash(v[ckCostCenter]), seriesstore.Hash(v[ckTier]), seriesstore.Hash(v[ckCluster])
	hReporter := destinationHash
	if reporter == semconv.ReporterSource {
		hReporter = sourceHash
	}

	key := seriesstore.Values{v[ckNamespace], v[ckApp], v[ckVersion], v[ckService], v[ckRoute], v[ckTeam], v[ckProject], v[ckCustomer],
		v[ckCostCenter], v[ckTier], codeClasses[class], availability, reporter, v[ckCluster]}
	hashes := seriesstore.Hashes{hNS, hApp, hVersion, hService, hRoute, hTeam, hProject, hCustomer,
		hCC, hTier, classHashes[class], availabilityHash, hReporter, hCluster}
	cb.requests = c.agg.Add(c.requests, &key, &hashes, 1, now, ex)

	if r.hasDuration {
		dKey := seriesstore.Values{v[ckNamespace], v[ckApp], v[ckService], v[ckRoute], v[ckTeam], v[ckProject], v[ckTier], reporter, v[ckCluster]}
		dHashes := seriesstore.Hashes{hNS, hApp, hService, hRoute, hTeam, hProject, hTier, hReporter, hCluster}
		// lookup may rewrite a key it caps, so each family gets a copy.
		key, hashes = dKey, dHashes
		cb.duration = c.agg.Observe(c.durations, &key, &hashes, r.durationMs/1000, now, ex)
		if c.exp != nil {
			key, hashes = dKey, dHashes
			cb.exp = c.agg.Observe(c.exp, &key, &hashes, r.durationMs/1000, now, ex)
		}
	}
	if !r.hasCost && r.inTokens <= 0 && r.outTokens <= 0 {
		return
	}
	hProvider, hModel := seriesstore.Hash(v[ckProvider]), seriesstore.Hash(model)
	if r.hasCost {
		key = seriesstore.Values{v[ckNamespace], v[ckApp], v[ckTeam], v[ckProject], v[ckCustomer], v[ckCostCenter], v[ckProvider], model, v[ckCurrency], v[ckCluster]}
		hashes = seriesstore.Hashes{hNS, hApp, hTeam, hProject, hCustomer, hCC, hProvider, hModel, seriesstore.Hash(v[ckCurrency]), hCluster}
		cb.cost = c.agg.Add(c.cost, &key, &hashes, r.cost, now, ex)
	}
	for _, t := range [2]struct {
		n                int64
		typ              string
		typeHash         uint64
		series, unpriced **seriesstore.Series
	}{{r.inTokens, semconv.TokenTypeInput, inputHash, &cb.input, &cb.unpricedInput}, {r.outTokens, semconv.TokenTypeOutput, outputHash, &cb.output, &cb.unpricedOutput}} {
		if t.n <= 0 {
			continue
		}
		key = seriesstore.Values{v[ckNamespace], v[ckApp], v[ckTeam], v[ckProject], v[ckCustomer], v[ckCostCenter], v[ckProvider], model, v[ckCluster], t.typ}
		hashes = seriesstore.Hashes{hNS, hApp, hTeam, hProject, hCustomer, hCC, hProvider, hModel, hCluster, t.typeHash}
		*t.series = c.agg.Add(c.tokens, &key, &hashes, float64(t.n), now, ex)
		if !r.hasCost {
			// Billed nowhere: visible, never silently zero.
			key = seriesstore.Values{v[ckNamespace], v[ckApp], v[ckTeam], v[ckProject], v[ckProvider], model, v[ckCluster], t.typ}
			hashes = seriesstore.Hashes{hNS, hApp, hTeam, hProject, hProvider, hModel, hCluster, t.typeHash}
			*t.unpriced = c.agg.Add(c.unpriced, &key, &hashes, float64(t.n), now, ex)
		}
	}
}

// countTCP adds an L4 connection's bytes, each way, by workload and team.
func (c *sliConnector) countTCP(r *request, reporter string, now pcommon.Timestamp) {
	v := &r.values
	hNS, hApp, hTeam, hProject := seriesstore.Hash(v[ckNamespace]), seriesstore.Hash(v[ckApp]), seriesstore.Hash(v[ckTeam]), seriesstore.Hash(v[ckProject])
	hCC, hCluster := seriesstore.Hash(v[ckCostCenter]), seriesstore.Hash(v[ckCluster])
	hReporter := destinationHash
	if reporter == semconv.ReporterSource {
		hReporter = sourceHash
	}
	for _, d := range [2]struct {
		n         int64
		direction string
		hash      uint64
	}{{r.bytesSent, "sent", sentHash}, {r.bytesReceived, "received", receivedHash}} {
		if d.n <= 0 {
			continue
		}
		key := seriesstore.Values{v[ckNamespace], v[ckApp], v[ckTeam], v[ckProject], v[ckCostCenter], d.direction, reporter, v[ckCluster]}
		hashes := seriesstore.Hashes{hNS, hApp, hTeam, hProject, hCC, d.hash, hReporter, hCluster}
		c.agg.Add(c.tcpBytes, &key, &hashes, float64(d.n), now, nil)
	}
}

// Hashes of the constant label values, computed once.
var (
	goodHash, badHash      = seriesstore.Hash(semconv.AvailabilityGood), seriesstore.Hash(semconv.AvailabilityBad)
	inputHash, outputHash  = seriesstore.Hash(semconv.TokenTypeInput), seriesstore.Hash(semconv.TokenTypeOutput)
	sentHash, receivedHash = seriesstore.Hash("sent"), seriesstore.Hash("received")
	destinationHash        = seriesstore.Hash(semconv.ReporterDestination)
	sourceHash             = seriesstore.Hash(semconv.ReporterSource)
	classHashes            = func() (h [len(codeClasses)]uint64) {
		for i, c := range codeClasses {
			h[i] = seriesstore.Hash(c)
		}
		return h
	}()
)

// sideOf is how a record counts, by its genops.side: the side its
// request and the controls on it count as, and whether its request counts
// at all. A gateway's requests count as the destination's with
// gateways.count: destination; otherwise only the controls on them count,
// as a caller's (a gateway's own answers — a rate limit, a denial at the
// edge — reach no destination sidecar). ok is false for a record that is
// no request between services.
func (c *sliConnector) sideOf(r *request) (side string, requests, ok bool) {
	switch r.side {
	case semconv.SideDestination, semconv.SideSource:
		return r.side, true, true
	case semconv.SideGateway:
		if c.cfg.Gateways.Count == GatewayDestination {
			return semconv.ReporterDestination, true, true
		}
		return semconv.ReporterSource, false, true
	}
	return "", false, false
}

// ConsumeLogs counts access log records by the side the governance
// processor gave them.
func (c *sliConnector) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	now := c.agg.Now()
	var res, r request
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rl := range ld.ResourceLogs().All() {
		res = request{}
		res.readResource(rl.Resource().Attributes(), &c.combos)
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				r = res
				for k, v := range lr.Attributes().All() {
					r.read(k, v)
				}
				side, requests, ok := c.sideOf(&r)
				if !ok {
					c.warnUnsided(r.side)
					continue
				}
				// Requests of the sides reporter counts, then the controls
				// of every record.
				switch reporter := c.reporter(side); {
				case !requests || reporter == "":
				case r.l4 && !r.spanRecord: // ambient L4 connections: bytes, not HTTP requests
					c.countTCP(&r, reporter, now)
				default:
					ex := seriesstore.ExemplarSource{TraceID: lr.TraceID(), SpanID: lr.SpanID()}
					c.count(&r, reporter, now, c.agg.ExemplarFrom(&ex))
				}
				c.countControls(&r, side, now)
			}
		}
	}
	return nil
}

// warnUnsided warns once of an access log record without a side: the
// governance processor, which gives every access log record one, is not
// before this connector in its pipeline, and nothing is counted.
func (c *sliConnector) warnUnsided(side string) {
	if c.unsided {
		return
	}
	c.unsided = true
	c.logger.Warn("an access log record has no valid "+semconv.AttrSide+" and is not counted: "+
		"put the governance processor before the sli connector in the logs pipeline", zap.String("value", side))
}

// ConsumeTraces counts spans by the side the governance processor gave
// them (SERVER spans the destination, CLIENT spans the source; other
// kinds have none and are not requests between services). A span is bad
// when its status is ERROR or its HTTP status is 5xx.
func (c *sliConnector) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	now := c.agg.Now()
	var res, r request
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range td.ResourceSpans().All() {
		res = request{}
		res.readResource(rs.Resource().Attributes(), &c.combos)
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				r = res
				for k, v := range span.Attributes().All() {
					r.read(k, v)
				}
				side, requests, ok := c.sideOf(&r)
				if !ok {
					continue
				}
				if reporter := c.reporter(side); requests && reporter != "" {
					r.spanError = span.Status().Code() == ptrace.StatusCodeError
					if end, start := span.EndTimestamp(), span.StartTimestamp(); end >= start && start != 0 {
						r.durationMs, r.hasDuration = float64(end-start)/1e6, true
					}
					ex := seriesstore.ExemplarSource{TraceID: span.TraceID(), SpanID: span.SpanID()}
					c.count(&r, reporter, now, c.agg.ExemplarFrom(&ex))
				}
				c.countControls(&r, side, now)
			}
		}
	}
	return nil
}
