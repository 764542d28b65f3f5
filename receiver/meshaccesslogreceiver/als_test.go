package meshaccesslogreceiver

import (
	"context"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	alsdatav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/genops-mesh/otelcol-genops/internal/accesslog"
	"github.com/genops-mesh/otelcol-genops/receiver/meshaccesslogreceiver/internal/metadatatest"
	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

func socket(ip string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
}

// istioInboundEntry is the inbound request of istio-io-access-log-task.log
// as the sidecar would stream it over ALS.
func istioInboundEntry() *alsdatav3.HTTPAccessLogEntry {
	start, _ := time.Parse(time.RFC3339Nano, "2020-11-25T21:26:18.409Z")
	return &alsdatav3.HTTPAccessLogEntry{
		CommonProperties: &alsdatav3.AccessLogCommon{
			StartTime:                   timestamppb.New(start),
			Duration:                    durationpb.New(3 * time.Millisecond),
			DownstreamRemoteAddress:     socket("10.44.1.23", 37652),
			DownstreamLocalAddress:      socket("10.44.1.27", 80),
			UpstreamRemoteAddress:       socket("127.0.0.1", 80),
			UpstreamLocalAddress:        socket("127.0.0.1", 41854),
			UpstreamCluster:             "inbound|8000||",
			RouteName:                   "default",
			UpstreamRequestAttemptCount: 2,
			TlsProperties: &alsdatav3.TLSProperties{
				TlsSniHostname: "outbound_.8000_._.httpbin.foo.svc.cluster.local",
				PeerCertificateProperties: &alsdatav3.TLSProperties_CertificateProperties{
					SubjectAltName: []*alsdatav3.TLSProperties_CertificateProperties_SubjectAltName{
						{San: &alsdatav3.TLSProperties_CertificateProperties_SubjectAltName_Uri{Uri: "spiffe://cluster.local/ns/foo/sa/sleep"}},
					},
				},
			},
		},
		ProtocolVersion: alsdatav3.HTTPAccessLogEntry_HTTP11,
		Request: &alsdatav3.HTTPRequestProperties{
			RequestMethod: corev3.RequestMethod_GET,
			Authority:     "httpbin:8000",
			Path:          "/status/418",
			UserAgent:     "curl/7.73.0-DEV",
			RequestId:     "84961386-6d84-929d-98bd-c5aee93b5c88",
			RequestHeaders: map[string]string{
				"x-genops-team": "ml-platform",
				"traceparent":   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			},
		},
		Response: &alsdatav3.HTTPResponseProperties{
			ResponseCode:        wrapperspb.UInt32(418),
			ResponseBodyBytes:   135,
			ResponseCodeDetails: "via_upstream",
		},
	}
}

// rawCodec sends bytes as they are: a client that speaks garbage.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)      { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error { return nil }
func (rawCodec) Name() string                       { return "proto" }

// An ALS stream from a real gRPC client (go-control-plane's stubs) gives the
// same attributes as the same request logged as text; a stream of garbage
// is counted and closed while another stream goes on.
func TestALS(t *testing.T) {
	addr := collectortest.FreeAddr(t)
	cfg := createDefaultConfig().(*Config)
	grpcCfg := configgrpc.NewDefaultServerConfig()
	grpcCfg.NetAddr.Endpoint = addr
	cfg.ALS = configoptional.Some(grpcCfg)

	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tt.Shutdown(context.Background()) })
	_, sink := start(t, cfg, metadatatest.NewSettings(tt), nopHost())

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// A garbage stream first: it must not disturb the good one.
	bad, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true}, "/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs", grpc.ForceCodec(rawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	_ = bad.SendMsg([]byte{0xff, 0xff, 0xff, 0x01, 0x02})
	_ = bad.CloseSend()
	if err := bad.RecvMsg(new([]byte)); err == nil {
		t.Error("the garbage stream was accepted")
	}

	stream, err := alsv3.NewAccessLogServiceClient(conn).StreamAccessLogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	labels, _ := structpb.NewStruct(map[string]any{"app": "httpbin", "version": "v1"})
	err = stream.Send(&alsv3.StreamAccessLogsMessage{
		Identifier: &alsv3.StreamAccessLogsMessage_Identifier{
			Node: &corev3.Node{Id: "sidecar~10.44.1.27~httpbin-74fb669cc6-abcde.foo~foo.svc.cluster.local", Metadata: &structpb.Struct{Fields: map[string]*structpb.Value{
				"NAME":         structpb.NewStringValue("httpbin-74fb669cc6-abcde"),
				"NAMESPACE":    structpb.NewStringValue("foo"),
				"INSTANCE_IPS": structpb.NewStringValue("10.44.1.27,fe80::1"),
				"LABELS":       structpb.NewStructValue(labels),
			}}},
			LogName: "http_envoy_accesslog",
		},
		LogEntries: &alsv3.StreamAccessLogsMessage_HttpLogs{HttpLogs: &alsv3.StreamAccessLogsMessage_HTTPAccessLogEntries{
			LogEntry: []*alsdatav3.HTTPAccessLogEntry{istioInboundEntry()},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = stream.Send(&alsv3.StreamAccessLogsMessage{LogEntries: &alsv3.StreamAccessLogsMessage_TcpLogs{TcpLogs: &alsv3.StreamAccessLogsMessage_TCPAccessLogEntries{
		LogEntry: []*alsdatav3.TCPAccessLogEntry{{
			CommonProperties:     &alsdatav3.AccessLogCommon{UpstreamCluster: "outbound|443||edition.cnn.com", UpstreamRemoteAddress: socket("151.101.195.5", 443), ResponseFlags: &alsdatav3.ResponseFlags{UpstreamConnectionFailure: true, UpstreamRetryLimitExceeded: true}},
			ConnectionProperties: &alsdatav3.ConnectionProperties{ReceivedBytes: 839, SentBytes: 2504306},
		}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}

	records := waitRecords(t, sink, 2)
	res := sink.AllLogs()[0].ResourceLogs().At(0).Resource().Attributes().AsRaw()
	for k, v := range map[string]any{"k8s.pod.name": "httpbin-74fb669cc6-abcde", "k8s.namespace.name": "foo", "k8s.pod.ip": "10.44.1.27", "k8s.pod.label.app": "httpbin"} {
		if res[k] != v {
			t.Errorf("resource %s = %v, want %v", k, res[k], v)
		}
	}

	// The same request as a text line, through the istio preset.
	text, err := accesslog.New("istio", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var fields accesslog.Fields
	if err := text.Parse(`[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 3 - "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "127.0.0.1:80" inbound|8000|| 127.0.0.1:41854 10.44.1.27:80 10.44.1.23:37652 outbound_.8000_._.httpbin.foo.svc.cluster.local default`, &fields); err != nil {
		t.Fatal(err)
	}
	want := plog.NewLogRecord()
	if err := text.WriteRecord(&fields, want); err != nil {
		t.Fatal(err)
	}
	got := records[0].Attributes().AsRaw()
	for k, v := range want.Attributes().AsRaw() {
		if got[k] != v {
			t.Errorf("ALS %s = %#v, text gives %#v", k, got[k], v)
		}
	}
	for k, v := range map[string]any{
		"http.request.header.x-genops-team":    "ml-platform",
		"envoy.downstream_peer_uri_san":        "spiffe://cluster.local/ns/foo/sa/sleep",
		"envoy.log_name":                       "http_envoy_accesslog",
		"envoy.upstream_request_attempt_count": int64(2),
	} {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if records[0].Timestamp() != want.Timestamp() || records[0].TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("timestamp %v (want %v), trace id %s", records[0].Timestamp(), want.Timestamp(), records[0].TraceID())
	}
	tcp := records[1].Attributes().AsRaw()
	for k, v := range map[string]any{"envoy.response_flags": "UF,URX", "envoy.bytes_received": int64(839), "envoy.bytes_sent": int64(2504306), "envoy.direction": "outbound", "network.peer.address": "151.101.195.5"} {
		if tcp[k] != v {
			t.Errorf("tcp %s = %#v, want %#v", k, tcp[k], v)
		}
	}
	metadatatest.AssertEqualReceiverMeshAccessLogAlsStreamErrors(t, tt, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
}
