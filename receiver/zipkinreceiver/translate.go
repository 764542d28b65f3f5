package zipkinreceiver

import (
	"encoding/binary"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/featuregate"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	conventionsv118 "go.opentelemetry.io/otel/semconv/v1.18.0"
	conventionsv121 "go.opentelemetry.io/otel/semconv/v1.21.0"
	conventionsv125 "go.opentelemetry.io/otel/semconv/v1.25.0"
	conventionsv126 "go.opentelemetry.io/otel/semconv/v1.26.0"
	conventionsv138 "go.opentelemetry.io/otel/semconv/v1.38.0"
	conventions "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/genops-mesh/otelcol-genops/internal/accesslog"
)

// The tags and names contrib's translator (pkg/translator/zipkin/zipkinv2
// v0.158.0) gives a meaning; the differential test holds these to it.
const (
	tagServiceNameSource = "otlp.service.name.source"
	tagStartTimeAbsent   = "otel.zipkin.absentField.startTime"
	tagW3CTraceState     = "w3c.tracestate"
	tagError             = "error"
	tagSpanKind          = "span.kind"
	noServiceName        = "OTLPResourceNoServiceName"

	// The occonventions attributes contrib keeps off spans.
	attributeProcessStartTime = "opencensus.starttime"
	attributeExporterVersion  = "opencensus.exporterversion"
	attributeResourceType     = "opencensus.resourcetype"
)

// gates is the state of the contrib translator's feature gates, read from
// the global registry when a receiver is created, so that the fast
// decoder emits what contrib's would under the same flags.
type gates struct {
	dontV0Network, emitV1Network bool
	dontV0HTTP, emitV1HTTP       bool
	dontV0Cloud, emitV1Cloud     bool
}

func currentGates() gates {
	var g gates
	featuregate.GlobalRegistry().VisitAll(func(f *featuregate.Gate) {
		on := f.IsEnabled()
		switch f.ID() {
		case "pkg.translator.zipkin.DontEmitV0NetworkConventions":
			g.dontV0Network = on
		case "pkg.translator.zipkin.EmitV1NetworkConventions":
			g.emitV1Network = on
		case "pkg.translator.zipkin.DontEmitV0HTTPConventions":
			g.dontV0HTTP = on
		case "pkg.translator.zipkin.EmitV1HTTPConventions":
			g.emitV1HTTP = on
		case "pkg.translator.zipkin.DontEmitV0CloudResourceConventions":
			g.dontV0Cloud = on
		case "pkg.translator.zipkin.EmitV1CloudResourceConventions":
			g.emitV1Cloud = on
		}
	})
	return g
}

var (
	// resourceKeys are the tags that go to the resource (from a group's
	// first span) and never on a span.
	resourceKeys = func() map[string]bool {
		m := map[string]bool{}
		for _, k := range []string{
			string(conventions.CloudProviderKey), string(conventions.CloudAccountIDKey), string(conventions.CloudRegionKey),
			string(conventions.CloudAvailabilityZoneKey), string(conventions.CloudPlatformKey),
			string(conventions.AWSECSContainerARNKey), string(conventions.AWSECSClusterARNKey), string(conventions.AWSECSLaunchtypeKey),
			string(conventions.AWSECSTaskARNKey), string(conventions.AWSECSTaskFamilyKey), string(conventions.AWSECSTaskRevisionKey),
			string(conventions.AWSEKSClusterARNKey), string(conventions.AWSLogGroupNamesKey), string(conventions.AWSLogGroupARNsKey),
			string(conventions.AWSLogStreamNamesKey), string(conventions.AWSLogStreamARNsKey),
			string(conventions.ContainerNameKey), string(conventions.ContainerIDKey), string(conventionsv126.ContainerRuntimeKey),
			string(conventions.ContainerImageNameKey), string(conventionsv121.ContainerImageTagKey),
			string(conventionsv126.DeploymentEnvironmentKey),
			string(conventions.DeviceIDKey), string(conventions.DeviceModelIdentifierKey), string(conventions.DeviceModelNameKey),
			string(conventions.DeviceManufacturerKey),
			string(conventions.FaaSNameKey), string(conventionsv118.FaaSIDKey), string(conventions.CloudResourceIDKey),
			string(conventions.FaaSVersionKey), string(conventions.FaaSInstanceKey), string(conventions.FaaSMaxMemoryKey),
			string(conventions.HostIDKey), string(conventions.HostNameKey), string(conventions.HostTypeKey), string(conventions.HostArchKey),
			string(conventions.HostImageNameKey), string(conventions.HostImageIDKey), string(conventions.HostImageVersionKey),
			string(conventions.K8SClusterNameKey), string(conventions.K8SNodeNameKey), string(conventions.K8SNodeUIDKey),
			string(conventions.K8SNamespaceNameKey), string(conventions.K8SPodUIDKey), string(conventions.K8SPodNameKey),
			string(conventions.K8SContainerNameKey), string(conventions.K8SContainerRestartCountKey),
			string(conventions.K8SReplicaSetUIDKey), string(conventions.K8SReplicaSetNameKey),
			string(conventions.K8SDeploymentUIDKey), string(conventions.K8SDeploymentNameKey),
			string(conventions.K8SStatefulSetUIDKey), string(conventions.K8SStatefulSetNameKey),
			string(conventions.K8SDaemonSetUIDKey), string(conventions.K8SDaemonSetNameKey),
			string(conventions.K8SJobUIDKey), string(conventions.K8SJobNameKey),
			string(conventions.K8SCronJobUIDKey), string(conventions.K8SCronJobNameKey),
			string(conventions.OSTypeKey), string(conventions.OSDescriptionKey), string(conventions.OSNameKey), string(conventions.OSVersionKey),
			string(conventions.ProcessPIDKey), string(conventions.ProcessExecutableNameKey), string(conventions.ProcessExecutablePathKey),
			string(conventions.ProcessCommandKey), string(conventions.ProcessCommandLineKey), string(conventions.ProcessCommandArgsKey),
			string(conventions.ProcessOwnerKey), string(conventions.ProcessRuntimeNameKey), string(conventions.ProcessRuntimeVersionKey),
			string(conventions.ProcessRuntimeDescriptionKey),
			string(conventions.ServiceNameKey), string(conventions.ServiceNamespaceKey), string(conventions.ServiceInstanceIDKey),
			string(conventions.ServiceVersionKey),
			string(conventions.TelemetrySDKNameKey), string(conventions.TelemetrySDKLanguageKey), string(conventions.TelemetrySDKVersionKey),
			string(conventionsv121.TelemetryAutoVersionKey),
			string(conventions.WebEngineNameKey), string(conventions.WebEngineVersionKey), string(conventions.WebEngineDescriptionKey),
			attributeProcessStartTime, attributeExporterVersion, attributeResourceType,
		} {
			m[k] = true
		}
		return m
	}()
)

// nonSpanKeys are the tags that never become span attributes: the
// resource's, the scope's and the service name's source. One lookup per
// tag on the hot path.
var nonSpanKeys = func() map[string]bool {
	m := map[string]bool{
		string(conventionsv125.OTelLibraryNameKey):    true,
		string(conventionsv125.OTelLibraryVersionKey): true,
		string(conventions.OTelScopeNameKey):          true,
		string(conventions.OTelScopeVersionKey):       true,
		tagServiceNameSource:                          true,
	}
	for k := range resourceKeys {
		m[k] = true
	}
	return m
}()

var statusCodes = map[string]ptrace.StatusCode{
	"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2,
	"Unset": 0, "Ok": 1, "Error": 2,
}

// byGroup orders spans as contrib's translator does before grouping them
// into resources and scopes: the same comparison, by sort.Sort, so that
// equal keys end in the same order as there.
type byGroup []*zspan

func (b byGroup) Len() int { return len(b) }
func (b byGroup) Less(i, j int) bool {
	if d := strings.Compare(b[i].service, b[j].service); d != 0 {
		return d <= 0
	}
	return strings.Compare(b[i].scope, b[j].scope) <= 0
}
func (b byGroup) Swap(i, j int) { b[i], b[j] = b[j], b[i] }

// toTraces builds the pdata contrib's translator builds from the same
// spans: one resource per run of a local service name, one scope per run
// of an instrumentation scope name within it.
func (g gates) toTraces(spans []zspan) ptrace.Traces {
	td := ptrace.NewTraces()
	if len(spans) == 0 {
		return td
	}
	order := make(byGroup, len(spans))
	for i := range spans {
		sp := &spans[i]
		sp.service = noServiceName
		if sp.local.set && sp.local.service != "" {
			sp.service = sp.local.service
		}
		if len(sp.tags) > 0 {
			if v, ok := lookup(sp.tags, string(conventions.OTelScopeNameKey)); ok {
				sp.scope = v
			} else {
				sp.scope, _ = lookup(sp.tags, string(conventionsv125.OTelLibraryNameKey))
			}
		}
		order[i] = sp
	}
	sort.Sort(order)

	rss := td.ResourceSpans()
	var rs ptrace.ResourceSpans
	var cur ptrace.SpanSlice
	prevService, prevScope, newScope := "", "", true
	for _, sp := range order {
		if sp.service != prevService {
			prevService = sp.service
			rs = rss.AppendEmpty()
			g.resource(sp, rs.Resource().Attributes())
			prevScope, newScope = "", true
		}
		if sp.scope != prevScope || newScope {
			prevScope, newScope = sp.scope, false
			ss := rs.ScopeSpans().AppendEmpty()
			scopeOf(sp, ss.Scope())
			cur = ss.Spans()
		}
		g.span(sp, cur.AppendEmpty())
	}
	return td
}

// resource is contrib's populateResourceFromZipkinSpan for a group's first
// span.
func (g gates) resource(sp *zspan, attrs pcommon.Map) {
	if sp.service == noServiceName {
		return
	}
	if len(sp.tags) == 0 {
		attrs.PutStr(string(conventions.ServiceNameKey), sp.service)
		return
	}
	if src, _ := lookup(sp.tags, tagServiceNameSource); src != "" {
		attrs.PutStr(src, sp.service)
	} else {
		attrs.PutStr(string(conventions.ServiceNameKey), sp.service)
	}
	for _, t := range sp.tags {
		if !resourceKeys[t.k] {
			continue
		}
		if t.k == string(conventionsv118.FaaSIDKey) {
			if !g.dontV0Cloud {
				attrs.PutStr(t.k, t.v)
			}
			if g.emitV1Cloud {
				attrs.PutStr(string(conventions.CloudResourceIDKey), t.v)
			}
			continue
		}
		attrs.PutStr(t.k, t.v)
	}
}

// scopeOf is contrib's populateILFromZipkinSpan.
func scopeOf(sp *zspan, scope pcommon.InstrumentationScope) {
	if sp.scope == "" {
		return
	}
	if v, ok := lookup(sp.tags, string(conventionsv125.OTelLibraryNameKey)); ok {
		scope.SetName(v)
	}
	if v, ok := lookup(sp.tags, string(conventions.OTelScopeNameKey)); ok {
		scope.SetName(v)
	}
	if v, ok := lookup(sp.tags, string(conventionsv125.OTelLibraryVersionKey)); ok {
		scope.SetVersion(v)
	}
	if v, ok := lookup(sp.tags, string(conventions.OTelScopeVersionKey)); ok {
		scope.SetVersion(v)
	}
}

// addresses puts an endpoint's IPv4 then IPv6 address under the old
// (v0) and new (v1) network conventions, as the feature gates say.
func (g gates) addresses(attrs pcommon.Map, e endpoint, v0, v1 string) {
	for _, ip := range [2]string{e.ipv4, e.ipv6} {
		if ip == "" {
			continue
		}
		if !g.dontV0Network {
			attrs.PutStr(v0, ip)
		}
		if g.emitV1Network {
			attrs.PutStr(v1, ip)
		}
	}
}

// span is contrib's zSpanToInternal.
func (g gates) span(sp *zspan, dest ptrace.Span) {
	var tid [16]byte
	binary.BigEndian.PutUint64(tid[:8], sp.traceHi)
	binary.BigEndian.PutUint64(tid[8:], sp.traceLo)
	dest.SetTraceID(tid)
	var sid [8]byte
	binary.BigEndian.PutUint64(sid[:], sp.id)
	dest.SetSpanID(sid)

	// Tags contrib consumes (deletes) and so never become attributes.
	var dropState, dropStatus, dropDescription, dropError, dropKind bool
	if v, ok := lookup(sp.tags, tagW3CTraceState); ok {
		dest.TraceState().FromRaw(v)
		dropState = true
	}
	if sp.hasParent && sp.parent != sp.id {
		var pid [8]byte
		binary.BigEndian.PutUint64(pid[:], sp.parent)
		dest.SetParentSpanID(pid)
	}
	dest.SetName(sp.name)

	switch sp.kind {
	case "CLIENT":
		dest.SetKind(ptrace.SpanKindClient)
	case "SERVER":
		dest.SetKind(ptrace.SpanKindServer)
	case "PRODUCER":
		dest.SetKind(ptrace.SpanKindProducer)
	case "CONSUMER":
		dest.SetKind(ptrace.SpanKindConsumer)
	default:
		kind := ptrace.SpanKindUnspecified
		if v, ok := lookup(sp.tags, tagSpanKind); ok {
			dropKind = true
			if v == "internal" {
				kind = ptrace.SpanKindInternal
			}
		}
		dest.SetKind(kind)
	}

	status := dest.Status()
	if v, ok := lookup(sp.tags, string(conventions.OTelStatusCodeKey)); ok {
		status.SetCode(statusCodes[v])
		dropStatus = true
		if d, ok := lookup(sp.tags, string(conventions.OTelStatusDescriptionKey)); ok {
			status.SetMessage(d)
			dropDescription = true
		}
	}
	if v, ok := lookup(sp.tags, tagError); ok {
		status.SetCode(ptrace.StatusCodeError)
		dropError = v == "true"
	}

	attrs := dest.Attributes()
	// Room for the endpoints' attributes and for what the governance
	// processor writes next (side, workload, the dimensions), so that the
	// attribute slice is not grown and copied there.
	attrs.EnsureCapacity(len(sp.tags) + 4 + accesslog.GovernanceHeadroom)
	for _, t := range sp.tags {
		switch {
		case nonSpanKeys[t.k],
			dropState && t.k == tagW3CTraceState,
			dropKind && t.k == tagSpanKind,
			dropStatus && t.k == string(conventions.OTelStatusCodeKey),
			dropDescription && t.k == string(conventions.OTelStatusDescriptionKey),
			dropError && t.k == tagError:
			continue
		case t.k == string(conventionsv125.HTTPStatusCodeKey):
			if !g.dontV0HTTP {
				attrs.PutStr(t.k, t.v)
			}
			if g.emitV1HTTP {
				attrs.PutStr(string(conventions.HTTPResponseStatusCodeKey), t.v)
			}
		default:
			attrs.PutStr(t.k, t.v)
		}
	}
	if e := sp.local; e.set {
		g.addresses(attrs, e, "net.host.ip", string(conventions.NetworkLocalAddressKey))
		if e.port > 0 {
			attrs.PutInt(string(conventionsv125.NetHostPortKey), int64(e.port))
		}
	}
	if e := sp.remote; e.set {
		if e.service != "" {
			if !g.dontV0Network {
				attrs.PutStr(string(conventionsv138.PeerServiceKey), e.service)
			}
			if g.emitV1Network {
				attrs.PutStr(string(conventions.ServicePeerNameKey), e.service)
			}
		}
		g.addresses(attrs, e, "net.peer.ip", string(conventions.NetworkPeerAddressKey))
		if e.port > 0 {
			attrs.PutInt(string(conventionsv125.NetPeerPortKey), int64(e.port))
		}
	}

	// zipkin-go: timestamp time.Unix(0, T*1000) when T > 0, else the zero
	// time, which contrib maps to the Unix epoch and marks as absent.
	start := sp.ts * 1000
	if sp.ts == 0 {
		attrs.PutBool(tagStartTimeAbsent, true)
	}
	dest.SetStartTimestamp(pcommon.Timestamp(start))
	dest.SetEndTimestamp(pcommon.Timestamp(start + sp.dur*1000))

	if len(sp.annos) > 0 {
		events := dest.Events()
		events.EnsureCapacity(len(sp.annos))
		for _, a := range sp.annos {
			ev := events.AppendEmpty()
			ev.SetTimestamp(pcommon.Timestamp(a.ts * 1000))
			ev.SetName(a.name)
		}
	}
}
