package governanceprocessor

// Request identity. The processor is the one owner of who a request is:
// besides the workloads at both ends (record.setWorkload), it writes on
// every record the canonical attributes the sli connector counts by, so
// that nothing after it decides identity (docs/trust.md):
//
//   - genops.side: destination, source or gateway (semconv.AttrSide);
//   - service.name, when no pod names the service: the app, else the
//     Host header's service among at most limits.max_host_services;
//   - app and version on a resource whose pod the informer does not know,
//     from its k8s.pod.label.* attributes (Istio's ALS node metadata, the
//     k8s_attributes processor), and on a record from its own.

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// gateways are the gateway workloads of the config, by namespace: a
// gateway runs where only the platform deploys (istio-system), so that a
// tenant that names its own pod or app like a gateway in its namespace
// does not make its requests uncounted (first outside attempt on #18).
type gateways map[string][]gatewayName

type gatewayName struct{ app, prefix string }

// newGateways reads "namespace/name" entries (validated by the config).
func newGateways(workloads []string) gateways {
	gw := gateways{}
	for _, w := range workloads {
		ns, name, _ := strings.Cut(w, "/")
		gw[ns] = append(gw[ns], gatewayName{app: name, prefix: name + "-"})
	}
	return gw
}

// of tells whether a side's pod is a gateway workload: in a gateway
// namespace, by its app or its name's prefix.
func (gw gateways) of(s *side, namespace string) bool {
	for _, n := range gw[namespace] {
		if s.app == n.app || strings.HasPrefix(s.name, n.prefix) {
			return true
		}
	}
	return false
}

// maxHostLength is the longest DNS name (RFC 1035, in text form): a
// longer authority names no host, takes no place among the host services
// and is left to the sli connector's max_value_length.
const maxHostLength = 253

// hostServices are the services named only by a Host header. Safe for
// concurrent use; a known service is found without a lock.
type hostServices struct {
	max  int64
	seen sync.Map // service name → struct{}
	n    atomic.Int64
}

// admit returns the service a Host header's service counts under: itself
// while fewer than max are known, else __overflow__ (ok false).
func (h *hostServices) admit(s string) (string, bool) {
	if _, known := h.seen.Load(s); known || len(s) > maxHostLength {
		return s, true
	}
	if h.n.Add(1) > h.max {
		h.n.Add(-1)
		return semconv.OverflowValue, false
	}
	if _, loaded := h.seen.LoadOrStore(strings.Clone(s), struct{}{}); loaded {
		h.n.Add(-1) // another call admitted it first
	}
	return s, true
}

// serviceFromAuthority turns an in-cluster authority into a service name:
// "llm.ai.svc.cluster.local:8080" and "llm.ai:8080" (namespace ai) are
// "llm", "httpbin:8000" is "httpbin"; a name outside the cluster
// ("edition.cnn.com") is kept whole.
func serviceFromAuthority(a, namespace string) string {
	if i := strings.LastIndexByte(a, ':'); i >= 0 && !strings.Contains(a[i:], "]") {
		a = a[:i]
	}
	if i := strings.Index(a, ".svc"); i > 0 && (len(a) == i+4 || a[i+4] == '.') {
		// <service>.<namespace>.svc[.cluster domain]
		name, _, _ := strings.Cut(a[:i], ".")
		return name
	}
	if name, ns, ok := strings.Cut(a, "."); ok && ns == namespace {
		return name
	}
	return a
}

// resourceIdentity is what the records of one resource share: whether a
// gateway wrote them, and the names the resource gives them.
type resourceIdentity struct {
	gateway    bool
	hasService bool // the resource names a service (service.name)
	app        string
	version    string
	namespace  string
}

// identifyResource reads the resource's identity once the processor has
// written it.
func (g *governance) identifyResource(res pcommon.Map, local *side) resourceIdentity {
	var id resourceIdentity
	if v, ok := res.Get(semconv.AttrServiceName); ok && v.Str() != "" {
		id.hasService = true
	}
	if v, ok := res.Get(semconv.AttrApp); ok {
		id.app = v.Str()
	}
	if v, ok := res.Get(semconv.AttrVersion); ok {
		id.version = v.Str()
	}
	if v, ok := res.Get(semconv.AttrK8sNamespace); ok {
		id.namespace = v.Str()
	}
	ns := id.namespace
	if local.found {
		ns = local.pod.Namespace
	}
	id.gateway = g.gateways.of(local, ns)
	return id
}

// setSide writes the record's side ("" for a record that is no request
// between services: its claimed side is removed).
func (r *record) setSide(side string) {
	switch {
	case side != "":
		r.setStr(slotSide, side)
	case r.has.has(slotSide):
		r.remove(slotSide)
	}
}

// setShard writes the record's shard key (semconv.AttrShard) when on and
// the record is counted: "namespace/app" as the sli connector will label
// its series (the record's own value, else its resource's). Agents route
// records by it to the gateway replica that owns those series
// (docs/scaling.md). A sender's key is never kept, nor the request fields
// of a span's record (duration, error) that only the requestlog connector
// writes. (A forwarder's records do not come here: they pass unchanged.)
func (r *record) setShard(on bool, side string, id *resourceIdentity) {
	for _, s := range [...]slot{slotRequestDuration, slotRequestError} {
		if r.has.has(s) {
			r.remove(s)
		}
	}
	if !on || side == "" {
		if r.has.has(slotShard) {
			r.remove(slotShard)
		}
		return
	}
	ns, ok := r.label(slotDestination + wlNamespace)
	if !ok {
		ns = id.namespace
	}
	app, ok := r.label(slotDestination + wlApp)
	if !ok {
		app = id.app
	}
	r.setStr(slotShard, ns+"/"+app)
}

// logSide is the side of an access log record: a gateway's, else the
// caller's sidecar for an outbound record, else the destination's (a
// record without a direction, as Linkerd's inbound-only logs, included).
// A record that is no access log has none: one with neither a direction
// nor a status (an application's own log over OTLP, a body that did not
// parse) is no request.
func logSide(r *record, id *resourceIdentity) string {
	d, hasDirection := r.str(slotDirection)
	if _, hasStatus := r.get(slotStatus); !hasDirection && !hasStatus {
		return ""
	}
	switch {
	case id.gateway:
		return semconv.SideGateway
	case d == semconv.DirectionOutbound:
		return semconv.SideSource
	}
	return semconv.SideDestination
}

// spanSide is the side of a span: SERVER spans are the destination's,
// CLIENT spans the caller's; other kinds are no requests between services.
func spanSide(k ptrace.SpanKind) string {
	switch k {
	case ptrace.SpanKindServer:
		return semconv.SideDestination
	case ptrace.SpanKindClient:
		return semconv.SideSource
	}
	return ""
}

// identify writes the record's app, version and service when nothing the
// processor knows of a pod named them. callerRecord: an outbound access
// log record, whose resource is the calling pod, so that the resource's
// app names no service of the request.
func (g *governance) identify(ctx context.Context, r *record, id *resourceIdentity, callerRecord bool) {
	app, recordApp := r.current(slotDestination + wlApp)
	if app == "" {
		app, recordApp = id.app, false
		if app == "" {
			app, recordApp = r.fromLabels(slotDestination+wlApp, slotPodLabelApp, slotPodLabelAppName)
		}
	}
	if v, _ := r.current(slotDestination + wlVersion); v == "" && id.version == "" {
		r.fromLabels(slotDestination+wlVersion, slotPodLabelVersion, slotPodLabelAppVersion)
	}
	if v, _ := r.current(slotServiceName); v != "" || id.hasService {
		return
	}
	switch {
	case app != "" && (recordApp || !callerRecord):
		r.setStr(slotServiceName, app)
	default:
		addr, _ := r.current(slotServerAddress)
		if addr == "" {
			return
		}
		ns, _ := r.current(slotDestination + wlNamespace)
		if ns == "" {
			ns = id.namespace
		}
		svc, ok := g.hosts.admit(serviceFromAuthority(addr, ns))
		if !ok {
			g.reject(ctx, claimService, rejectOverLimit)
		}
		r.setStr(slotServiceName, svc)
	}
}

// fromLabels writes slot s from the first of the record's pod label slots
// that has a value, and returns it.
func (r *record) fromLabels(s slot, labels ...slot) (string, bool) {
	for _, l := range labels {
		if v, _ := r.current(l); v != "" {
			r.setStr(s, v)
			return v, true
		}
	}
	return "", false
}
