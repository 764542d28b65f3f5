package governanceprocessor

// The trust model (docs/trust.md) in code: where a batch came from, who
// may state which number, and what a refused claim is counted as.

import (
	"context"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// Reasons a claim for a dimension was not kept (the reason label of
// genops_attribution_conflicts_total).
const (
	conflictUntrusted  = iota // no trusted source sent it
	conflictInvalid           // trusted, but not a valid value
	conflictOverridden        // valid, but a source ahead of it (a label) said otherwise
	numConflictReasons
)

var conflictReasons = [numConflictReasons]string{"untrusted", "invalid", "overridden"}

// Claims a record makes that are checked, and why one is refused (the
// claim and reason labels of genops_rejected_claims_total).
const (
	claimInputTokens = iota
	claimOutputTokens
	claimCost
	claimWorkload // the resource or record names a pod or workload
	claimService  // service.name
	claimProxy    // a log file or a metric series is a mesh proxy's
	claimCacheReadTokens
	claimCacheCreationTokens
	claimReasoningTokens
	claimTokens      // the token counts together (cached or reasoning past their total)
	claimTimestamp   // the call's time, which picks the price in force
	claimServiceTier // the service tier, which picks a tier's prices
	claimAttribute   // an attribute value nested too deep to handle, or one only the pipeline writes, on a resource (removed)
	claimAccessLog   // an OTLP log's body: an access log line (access_log_format)
	claimSender      // the sender is a forwarder (trusted_sources.only_forwarders)
	numClaims
)

var claimNames = [numClaims]string{"input_tokens", "output_tokens", "cost", "workload", "service", "proxy",
	"cache_read_tokens", "cache_creation_tokens", "reasoning_tokens", "tokens", "timestamp", "service_tier", "attribute", "access_log", "sender"}

const (
	rejectUntrusted  = iota // the workload may not state it
	rejectNotANumber        // not a number, or not an integer
	rejectNotFinite         // NaN or ±Inf
	rejectNegative
	rejectOverLimit    // past limits.*
	rejectForged       // contradicts what the connection or the informer says
	rejectUnverified   // nothing verified can back it
	rejectInconsistent // contradicts the record's other numbers
	rejectConflict     // a stated cost differs from the price table's; the other one was kept (cost_source)
	rejectUnparsed     // does not parse (envoy.parse_error on the record says why)
	numRejectReasons
)

var rejectReasons = [numRejectReasons]string{"untrusted", "not_a_number", "not_finite", "negative", "over_limit", "forged", "unverified", "inconsistent", "conflict", "unparsed"}

func (g *governance) reject(ctx context.Context, claim, reason int) {
	g.telemetry.RejectedClaims.Add(ctx, 1, g.rejected[claim][reason])
}

// origin is where a batch came from, as the collector itself knows it.
type origin struct {
	// network: the batch arrived over a connection (Zipkin, OTLP, ALS);
	// otherwise it was read from the node's log files.
	network bool
	// reporter is the pod at the connection's address (verified by the
	// informer), unknownSide when no pod has it.
	reporter *side
	// forwarder: the reporter is a collector that forwards records it has
	// already attributed (trusted_sources.forwarders).
	forwarder bool
	// verified: the records' identity is checked against the
	// connection: they came over the network, in a cluster, not from a
	// forwarder.
	verified bool
}

// originOf reads the connection's address from the context the receiver
// passed on (confighttp and configgrpc put it there for every request);
// the pipeline's processors before this one must not drop it (batch does:
// it comes after governance).
func (g *governance) originOf(ctx context.Context) origin {
	addr := client.FromContext(ctx).Addr
	if addr == nil {
		return origin{reporter: unknownSide}
	}
	o := origin{network: true, reporter: unknownSide}
	if g.store == nil {
		// Without Kubernetes nothing tells one sender from another: "*"
		// makes every one a forwarder (Config.Validate allows it only
		// there).
		o.forwarder = g.forwarders["*"]
		return o
	}
	if pod, found := g.store.PodByIP(hostOf(addr)); found {
		o.reporter = g.newSide(pod, true, nil)
		o.forwarder = g.forwarders[pod.Namespace]
	}
	o.verified = !o.forwarder
	return o
}

func hostOf(addr net.Addr) string {
	switch a := addr.(type) {
	case *net.TCPAddr:
		return a.IP.String()
	case *net.UDPAddr:
		return a.IP.String()
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}

// identityKeys are the resource attributes that name a pod or workload:
// claims when the connection says who sent them.
var identityKeys = []string{
	semconv.AttrK8sNamespace, semconv.AttrK8sPodName, semconv.AttrK8sPodUID, semconv.AttrK8sPodIP, semconv.AttrApp, semconv.AttrVersion,
	semconv.AttrK8sDeploymentName, semconv.AttrK8sStatefulSetName, semconv.AttrK8sDaemonSetName, semconv.AttrK8sJobName, semconv.AttrK8sReplicaSetName,
	semconv.AttrK8sCronJobName, "istio.workload.name", semconv.AttrK8sCluster,
}

// verifyResource makes a network resource describe the pod at the
// connection's address and nothing else: claimed identity attributes are
// replaced by the reporter's workload (or removed when the reporter is no
// known pod), k8s.pod.label.* claims are removed, and a service.name that
// is not the reporter's service is replaced. Each contradiction is
// counted once per resource.
func (g *governance) verifyResource(ctx context.Context, res pcommon.Map, reporter *side) {
	forged := false
	res.RemoveIf(func(k string, v pcommon.Value) bool {
		switch {
		case strings.HasPrefix(k, semconv.PodLabelPrefix):
			forged = true
		case !slices.Contains(identityKeys, k):
			return false
		// The cluster is removed, not counted: Istio's ALS node metadata
		// names it, and the collector's own setting replaces it.
		case k != semconv.AttrK8sCluster && !reporter.owns(k, scalar(v)):
			forged = true
		}
		return true
	})
	if forged {
		reason := rejectForged
		if !reporter.found {
			reason = rejectUnverified
		}
		g.reject(ctx, claimWorkload, reason)
	}
	svc, hasSvc := res.Get(semconv.AttrServiceName)
	switch {
	case !reporter.found && hasSvc:
		res.Remove(semconv.AttrServiceName)
		g.reject(ctx, claimService, rejectUnverified)
	case reporter.found && !(hasSvc && reporter.servesAs(svc.Str())):
		if hasSvc {
			g.reject(ctx, claimService, rejectForged)
		}
		res.PutStr(semconv.AttrServiceName, reporter.service())
	}
	if reporter.found {
		res.PutStr(semconv.AttrK8sPodUID, reporter.pod.UID)
		if reporter.pod.IP != "" {
			res.PutStr(semconv.AttrK8sPodIP, reporter.pod.IP)
		}
	}
}

// owns tells whether an identity attribute's value is true of the side's
// pod (so that a correct claim is not counted as forged).
func (s *side) owns(key, v string) bool {
	if !s.found {
		return false
	}
	p := &s.pod
	switch key {
	case semconv.AttrK8sNamespace:
		return v == p.Namespace
	case semconv.AttrK8sPodName:
		return v == p.Name
	case semconv.AttrK8sPodUID:
		return v == p.UID
	case semconv.AttrK8sPodIP:
		return v == p.IP
	case semconv.AttrApp:
		return v == s.app
	case semconv.AttrVersion:
		return v == s.version
	case "istio.workload.name":
		return v == p.WorkloadName
	}
	return v == p.WorkloadName // k8s.<kind>.name
}

// service is the name a pod's requests are counted under: Istio's
// canonical service, else the app, else the workload.
func (s *side) service() string {
	if v := s.pod.Labels["service.istio.io/canonical-name"]; v != "" {
		return v
	}
	if s.app != "" {
		return s.app
	}
	return s.pod.WorkloadName
}

// servesAs tells whether a claimed service.name is the pod's service, as
// is or in Istio's "<service>.<namespace>" form.
func (s *side) servesAs(name string) bool {
	for _, svc := range [...]string{s.pod.Labels["service.istio.io/canonical-name"], s.app, s.pod.WorkloadName} {
		if svc != "" && (name == svc || name == svc+"."+s.pod.Namespace) {
			return true
		}
	}
	return false
}

// aiWorkloads are the workloads whose responses may state their own cost
// and token counts (ai_workloads).
type aiWorkloads struct {
	any        bool
	namespaces map[string]bool // namespace/*
	workloads  map[string]bool // namespace/workload
}

func newAIWorkloads(list []string) aiWorkloads {
	a := aiWorkloads{namespaces: map[string]bool{}, workloads: map[string]bool{}}
	for _, w := range list {
		switch ns, name, _ := strings.Cut(w, "/"); {
		case w == "*":
			a.any = true
		case name == "*":
			a.namespaces[ns] = true
		default:
			a.workloads[w] = true
		}
	}
	return a
}

// trusts tells whether the workload that served a request may state its
// cost: a listed workload (by its owner or its app), or anyone with "*".
func (a *aiWorkloads) trusts(s *side) bool {
	if a.any {
		return true
	}
	if !s.found {
		return false
	}
	ns := s.pod.Namespace
	return a.namespaces[ns] || a.workloads[ns+"/"+s.pod.WorkloadName] || (s.app != "" && a.workloads[ns+"/"+s.app])
}

// tokenCount reads a token count: a non-negative integer no larger than
// max; anything else is refused with its reason.
func tokenCount(v pcommon.Value, max int64) (int64, int, bool) {
	var n int64
	switch v.Type() {
	case pcommon.ValueTypeInt:
		n = v.Int()
	case pcommon.ValueTypeDouble:
		f := v.Double()
		switch {
		case math.IsNaN(f) || math.IsInf(f, 0):
			return 0, rejectNotFinite, false
		case f != math.Trunc(f):
			return 0, rejectNotANumber, false
		case f < 0:
			return 0, rejectNegative, false
		case f > float64(max):
			return 0, rejectOverLimit, false
		}
		n = int64(f)
	case pcommon.ValueTypeStr:
		return parseTokens(v.Str(), max)
	default:
		return 0, rejectNotANumber, false
	}
	return checkTokens(n, max)
}

// parseTokens reads a token count written as decimal digits (a header).
func parseTokens(s string, max int64) (int64, int, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			if strings.HasPrefix(strings.TrimSpace(s), "-") {
				return 0, rejectNegative, false
			}
			return 0, rejectOverLimit, false
		}
		return 0, rejectNotANumber, false
	}
	return checkTokens(n, max)
}

func checkTokens(n, max int64) (int64, int, bool) {
	switch {
	case n < 0:
		return 0, rejectNegative, false
	case n > max:
		return 0, rejectOverLimit, false
	}
	return n, 0, true
}

// costAmount reads a cost: a finite, non-negative number no larger than
// max.
func costAmount(v pcommon.Value, max float64) (float64, int, bool) {
	var f float64
	switch v.Type() {
	case pcommon.ValueTypeDouble:
		f = v.Double()
	case pcommon.ValueTypeInt:
		f = float64(v.Int())
	case pcommon.ValueTypeStr:
		return parseCost(v.Str(), max)
	default:
		return 0, rejectNotANumber, false
	}
	return checkCost(f, max)
}

// parseCost reads a cost written as a decimal number (a header).
func parseCost(s string, max float64) (float64, int, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, rejectNotFinite, false
		}
		return 0, rejectNotANumber, false
	}
	return checkCost(f, max)
}

func checkCost(f, max float64) (float64, int, bool) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return 0, rejectNotFinite, false
	case f < 0:
		return 0, rejectNegative, false
	case f > max:
		return 0, rejectOverLimit, false
	}
	return f + 0, 0, true // + 0 turns -0 into 0
}

// scalar is a value's string form when it is not an array or map (whose
// string form walks the whole value), else "".
func scalar(v pcommon.Value) string {
	if t := v.Type(); t == pcommon.ValueTypeMap || t == pcommon.ValueTypeSlice {
		return ""
	}
	return v.AsString()
}
