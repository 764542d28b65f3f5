package meshaccesslogreceiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	alsdatav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/genops-mesh/otelcol-genops/internal/accesslog"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// alsOperators are the fields of an ALS entry, named by the Envoy command
// operator that would print them in a text log; values are set by index
// (the als* constants below, in the same order), so an ALS entry becomes
// exactly the attributes of the same request logged as text.
var alsOperators = []string{
	"START_TIME", "REQ(:METHOD)", "REQ(X-ENVOY-ORIGINAL-PATH?:PATH)", "PROTOCOL", "RESPONSE_CODE",
	"RESPONSE_FLAGS", "RESPONSE_CODE_DETAILS", "CONNECTION_TERMINATION_DETAILS",
	"UPSTREAM_TRANSPORT_FAILURE_REASON", "BYTES_RECEIVED", "BYTES_SENT", "DURATION",
	"REQ(X-FORWARDED-FOR)", "REQ(USER-AGENT)", "REQ(X-REQUEST-ID)", "REQ(:AUTHORITY)",
	"UPSTREAM_HOST", "UPSTREAM_CLUSTER", "UPSTREAM_LOCAL_ADDRESS", "DOWNSTREAM_LOCAL_ADDRESS",
	"DOWNSTREAM_REMOTE_ADDRESS", "DOWNSTREAM_PEER_URI_SAN", "REQUESTED_SERVER_NAME", "ROUTE_NAME", "UPSTREAM_REQUEST_ATTEMPT_COUNT",
	"REQ(TRACEPARENT)", "REQ(X-B3-TRACEID)",
}

const (
	alsStartTime = iota
	alsMethod
	alsPath
	alsProtocol
	alsResponseCode
	alsResponseFlags
	alsResponseCodeDetails
	alsConnectionTerminationDetails
	alsUpstreamTransportFailureReason
	alsBytesReceived
	alsBytesSent
	alsDuration
	alsForwardedFor
	alsUserAgent
	alsRequestID
	alsAuthority
	alsUpstreamHost
	alsUpstreamCluster
	alsUpstreamLocalAddress
	alsDownstreamLocalAddress
	alsDownstreamRemoteAddress
	alsDownstreamPeerURISAN
	alsRequestedServerName
	alsRouteName
	alsUpstreamAttempts
	alsTraceparent
	alsB3TraceID
)

// alsServer is Envoy's gRPC access log service
// (envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs).
type alsServer struct {
	alsv3.UnimplementedAccessLogServiceServer
	r       *meshReceiver
	obs     *receiverhelper.ObsReport
	builder *accesslog.Builder
	server  *grpc.Server
	wg      sync.WaitGroup
}

func newALSServer(r *meshReceiver, obs *receiverhelper.ObsReport) *alsServer {
	b, err := accesslog.NewBuilder(alsOperators...)
	if err != nil {
		panic(fmt.Sprintf("ALS operators do not compile: %v", err)) // a programming error, caught by every test
	}
	return &alsServer{r: r, obs: obs, builder: b}
}

func (s *alsServer) start(ctx context.Context, host component.Host, cfg *configgrpc.ServerConfig) error {
	server, err := cfg.ToServer(ctx, host.GetExtensions(), s.r.set.TelemetrySettings)
	if err != nil {
		return fmt.Errorf("als: %w", err)
	}
	listener, err := cfg.NetAddr.Listen(ctx)
	if err != nil {
		return fmt.Errorf("als: listen on %s: %w", cfg.NetAddr.Endpoint, err)
	}
	s.server = server
	alsv3.RegisterAccessLogServiceServer(server, s)
	s.r.set.Logger.Info("Envoy gRPC access log service listening", zap.String("endpoint", listener.Addr().String()))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := server.Serve(listener); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.r.set.Logger.Error("als server stopped", zap.Error(err))
		}
	}()
	return nil
}

func (s *alsServer) stop() {
	if s.server != nil {
		s.server.GracefulStop()
	}
	s.wg.Wait()
}

// StreamAccessLogs receives one proxy's stream. The first message names the
// node (Istio puts the pod's name, namespace and labels in its metadata);
// each message carries a batch of HTTP or TCP entries. A stream that fails
// (garbage, a disconnect) is counted and closed; other streams go on.
func (s *alsServer) StreamAccessLogs(stream alsv3.AccessLogService_StreamAccessLogsServer) error {
	ctx := stream.Context()
	resource := pcommon.NewResource()
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&alsv3.StreamAccessLogsResponse{})
		}
		if err != nil {
			s.r.telemetry.ReceiverMeshAccessLogAlsStreamErrors.Add(context.Background(), 1)
			s.r.set.Logger.Debug("als stream ended with an error", zap.Error(err))
			return err
		}
		if id := msg.GetIdentifier(); id != nil {
			resource = nodeResource(id)
		}
		logs := plog.NewLogs()
		rl := logs.ResourceLogs().AppendEmpty()
		resource.CopyTo(rl.Resource())
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(scopeName)
		s.appendEntries(ctx, msg, sl.LogRecords())
		n := sl.LogRecords().Len()
		if n == 0 {
			continue
		}
		opCtx := s.obs.StartLogsOp(ctx)
		err = s.r.next.ConsumeLogs(opCtx, logs)
		s.obs.EndLogsOp(opCtx, "mesh_access_log", n, err)
		if err != nil {
			// Envoy does not retry ALS messages; what the pipeline refused
			// is counted by the obsreport above, and the stream goes on.
			s.r.set.Logger.Debug("als entries refused by the pipeline", zap.Error(err))
		}
	}
}

func (s *alsServer) appendEntries(ctx context.Context, msg *alsv3.StreamAccessLogsMessage, records plog.LogRecordSlice) {
	observed := pcommon.NewTimestampFromTime(time.Now())
	var fields accesslog.Fields
	write := func() {
		lr := records.AppendEmpty()
		lr.SetObservedTimestamp(observed)
		if err := s.builder.WriteRecord(&fields, lr); err != nil {
			s.r.parseError(ctx, errorReason(err), transportALS, err)
			lr.Attributes().PutStr(semconv.AttrEnvoyParseError, err.Error())
		}
		// A line without a valid start time keeps none (its observed time
		// is set): the time a record states must be the same when it is
		// read or sent again, or a ledger keyed by it bills it twice.
		if name := msg.GetIdentifier().GetLogName(); name != "" {
			lr.Attributes().PutStr(semconv.AttrEnvoyLogName, name)
		}
	}
	for _, e := range msg.GetHttpLogs().GetLogEntry() {
		s.builder.Reset(&fields)
		setCommon(&fields, e.GetCommonProperties())
		setHTTP(&fields, e)
		write()
	}
	for _, e := range msg.GetTcpLogs().GetLogEntry() {
		s.builder.Reset(&fields)
		setCommon(&fields, e.GetCommonProperties())
		if c := e.GetConnectionProperties(); c != nil {
			fields.Set(alsBytesReceived, strconv.FormatUint(c.GetReceivedBytes(), 10))
			fields.Set(alsBytesSent, strconv.FormatUint(c.GetSentBytes(), 10))
		}
		write()
	}
}

func setCommon(f *accesslog.Fields, c *alsdatav3.AccessLogCommon) {
	if c == nil {
		return
	}
	if ts := c.GetStartTime(); ts != nil {
		f.Set(alsStartTime, ts.AsTime().UTC().Format(time.RFC3339Nano))
	}
	d := c.GetDuration()
	if d == nil {
		d = c.GetTimeToLastDownstreamTxByte()
	}
	if d != nil {
		f.Set(alsDuration, strconv.FormatInt(d.AsDuration().Milliseconds(), 10))
	}
	f.Set(alsDownstreamRemoteAddress, address(c.GetDownstreamRemoteAddress()))
	f.Set(alsDownstreamLocalAddress, address(c.GetDownstreamLocalAddress()))
	f.Set(alsUpstreamHost, address(c.GetUpstreamRemoteAddress()))
	f.Set(alsUpstreamLocalAddress, address(c.GetUpstreamLocalAddress()))
	f.Set(alsUpstreamCluster, c.GetUpstreamCluster())
	f.Set(alsResponseFlags, ResponseFlagsString(c.GetResponseFlags()))
	f.Set(alsUpstreamTransportFailureReason, c.GetUpstreamTransportFailureReason())
	f.Set(alsConnectionTerminationDetails, c.GetConnectionTerminationDetails())
	f.Set(alsRouteName, c.GetRouteName())
	if n := c.GetUpstreamRequestAttemptCount(); n > 0 {
		f.Set(alsUpstreamAttempts, strconv.FormatUint(uint64(n), 10))
	}
	if tls := c.GetTlsProperties(); tls != nil {
		f.Set(alsRequestedServerName, tls.GetTlsSniHostname())
		for _, san := range tls.GetPeerCertificateProperties().GetSubjectAltName() {
			if uri := san.GetUri(); uri != "" {
				f.Set(alsDownstreamPeerURISAN, uri)
				break
			}
		}
	}
	for k, v := range c.GetCustomTags() {
		f.AddExtra("envoy.custom_tag."+k, v)
	}
}

func setHTTP(f *accesslog.Fields, e *alsdatav3.HTTPAccessLogEntry) {
	switch e.GetProtocolVersion() {
	case alsdatav3.HTTPAccessLogEntry_HTTP10:
		f.Set(alsProtocol, "HTTP/1.0")
	case alsdatav3.HTTPAccessLogEntry_HTTP11:
		f.Set(alsProtocol, "HTTP/1.1")
	case alsdatav3.HTTPAccessLogEntry_HTTP2:
		f.Set(alsProtocol, "HTTP/2")
	case alsdatav3.HTTPAccessLogEntry_HTTP3:
		f.Set(alsProtocol, "HTTP/3")
	}
	if req := e.GetRequest(); req != nil {
		if m := req.GetRequestMethod(); m != corev3.RequestMethod_METHOD_UNSPECIFIED {
			f.Set(alsMethod, m.String())
		}
		path := req.GetOriginalPath()
		if path == "" {
			path = req.GetPath()
		}
		f.Set(alsPath, path)
		f.Set(alsAuthority, req.GetAuthority())
		f.Set(alsUserAgent, req.GetUserAgent())
		f.Set(alsRequestID, req.GetRequestId())
		f.Set(alsForwardedFor, req.GetForwardedFor())
		f.Set(alsBytesReceived, strconv.FormatUint(req.GetRequestBodyBytes(), 10))
		for k, v := range req.GetRequestHeaders() {
			switch k = strings.ToLower(k); k {
			case "traceparent":
				f.Set(alsTraceparent, v)
			case "x-b3-traceid":
				f.Set(alsB3TraceID, v)
			default:
				f.AddExtra(semconv.RequestHeaderPrefix+k, v)
			}
		}
	}
	if resp := e.GetResponse(); resp != nil {
		if code := resp.GetResponseCode(); code != nil {
			f.Set(alsResponseCode, strconv.FormatUint(uint64(code.GetValue()), 10))
		}
		f.Set(alsResponseCodeDetails, resp.GetResponseCodeDetails())
		f.Set(alsBytesSent, strconv.FormatUint(resp.GetResponseBodyBytes(), 10))
		for k, v := range resp.GetResponseHeaders() {
			f.AddExtra(semconv.ResponseHeaderPrefix+strings.ToLower(k), v)
		}
	}
}

func address(a *corev3.Address) string {
	if a == nil {
		return ""
	}
	if sa := a.GetSocketAddress(); sa != nil {
		if sa.GetAddress() == "" {
			return ""
		}
		return net.JoinHostPort(sa.GetAddress(), strconv.FormatUint(uint64(sa.GetPortValue()), 10))
	}
	if p := a.GetPipe(); p != nil {
		return p.GetPath()
	}
	if ia := a.GetEnvoyInternalAddress(); ia != nil {
		return "envoy://" + ia.GetServerListenerName() + "/" + ia.GetEndpointId()
	}
	return ""
}

// responseFlagCodes are Envoy's short response flag names in the order
// Envoy prints them (%RESPONSE_FLAGS%).
var responseFlagCodes = []struct {
	code string
	set  func(*alsdatav3.ResponseFlags) bool
}{
	{"LH", (*alsdatav3.ResponseFlags).GetFailedLocalHealthcheck},
	{"UH", (*alsdatav3.ResponseFlags).GetNoHealthyUpstream},
	{"UT", (*alsdatav3.ResponseFlags).GetUpstreamRequestTimeout},
	{"LR", (*alsdatav3.ResponseFlags).GetLocalReset},
	{"UR", (*alsdatav3.ResponseFlags).GetUpstreamRemoteReset},
	{"UF", (*alsdatav3.ResponseFlags).GetUpstreamConnectionFailure},
	{"UC", (*alsdatav3.ResponseFlags).GetUpstreamConnectionTermination},
	{"UO", (*alsdatav3.ResponseFlags).GetUpstreamOverflow},
	{"NR", (*alsdatav3.ResponseFlags).GetNoRouteFound},
	{"DI", (*alsdatav3.ResponseFlags).GetDelayInjected},
	{"FI", (*alsdatav3.ResponseFlags).GetFaultInjected},
	{"RL", (*alsdatav3.ResponseFlags).GetRateLimited},
	{"UAEX", func(f *alsdatav3.ResponseFlags) bool { return f.GetUnauthorizedDetails() != nil }},
	{"RLSE", (*alsdatav3.ResponseFlags).GetRateLimitServiceError},
	{"DC", (*alsdatav3.ResponseFlags).GetDownstreamConnectionTermination},
	{"URX", (*alsdatav3.ResponseFlags).GetUpstreamRetryLimitExceeded},
	{"SI", (*alsdatav3.ResponseFlags).GetStreamIdleTimeout},
	{"IH", (*alsdatav3.ResponseFlags).GetInvalidEnvoyRequestHeaders},
	{"DPE", (*alsdatav3.ResponseFlags).GetDownstreamProtocolError},
	{"UMSDR", (*alsdatav3.ResponseFlags).GetUpstreamMaxStreamDurationReached},
	{"RFCF", (*alsdatav3.ResponseFlags).GetResponseFromCacheFilter},
	{"NFCF", (*alsdatav3.ResponseFlags).GetNoFilterConfigFound},
	{"DT", (*alsdatav3.ResponseFlags).GetDurationTimeout},
	{"UPE", (*alsdatav3.ResponseFlags).GetUpstreamProtocolError},
	{"NC", (*alsdatav3.ResponseFlags).GetNoClusterFound},
	{"OM", (*alsdatav3.ResponseFlags).GetOverloadManager},
	{"DF", (*alsdatav3.ResponseFlags).GetDnsResolutionFailure},
	{"DRR", (*alsdatav3.ResponseFlags).GetDownstreamRemoteReset},
}

// ResponseFlagsString renders ALS response flags as %RESPONSE_FLAGS% does:
// short codes joined by commas, "" when none is set.
func ResponseFlagsString(f *alsdatav3.ResponseFlags) string {
	if f == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range responseFlagCodes {
		if c.set(f) {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(c.code)
		}
	}
	return b.String()
}

// nodeResource turns the ALS node identifier into resource attributes.
// Istio's proxies put the pod in the node metadata (NAME, NAMESPACE,
// LABELS, INSTANCE_IPS, CLUSTER_ID, WORKLOAD_NAME).
func nodeResource(id *alsv3.StreamAccessLogsMessage_Identifier) pcommon.Resource {
	res := pcommon.NewResource()
	attrs := res.Attributes()
	node := id.GetNode()
	if v := node.GetId(); v != "" {
		attrs.PutStr("envoy.node.id", v)
	}
	if v := node.GetCluster(); v != "" {
		attrs.PutStr("envoy.node.cluster", v)
	}
	md := node.GetMetadata().GetFields()
	str := func(k string) string { return md[k].GetStringValue() }
	if v := str("NAME"); v != "" {
		attrs.PutStr(semconv.AttrK8sPodName, v)
	}
	if v := str("NAMESPACE"); v != "" {
		attrs.PutStr(semconv.AttrK8sNamespace, v)
	}
	if v := str("CLUSTER_ID"); v != "" {
		attrs.PutStr(semconv.AttrK8sCluster, v)
	}
	if v := str("WORKLOAD_NAME"); v != "" {
		attrs.PutStr("istio.workload.name", v)
	}
	if ips := str("INSTANCE_IPS"); ips != "" {
		first, _, _ := strings.Cut(ips, ",")
		attrs.PutStr(semconv.AttrK8sPodIP, first)
	}
	if labels := md["LABELS"].GetStructValue(); labels != nil {
		for k, v := range labels.GetFields() {
			if s, ok := v.GetKind().(*structpb.Value_StringValue); ok {
				attrs.PutStr(semconv.PodLabelPrefix+k, s.StringValue)
			}
		}
	}
	return res
}
