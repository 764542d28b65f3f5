package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	alsdatav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// Envoy's gRPC access log service into the gateway pipeline: a sidecar's
// stream, from a client built on go-control-plane's generated stubs as
// Envoy's, carries inbound entries with the genops headers; the
// distribution counts them by team, with the workload from the node
// metadata Istio puts on the stream.
func TestALSThroughTheDistribution(t *testing.T) {
	als, prom, health := collectortest.FreeAddr(t), collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	col := collectortest.StartConfigs(t, map[string]string{"E2E_HEALTH": health, "E2E_ALS": als, "E2E_PROM": prom},
		"testdata/als.yaml", "testdata/trust-every-claim.yaml", "testdata/no-telemetry.yaml")
	col.WaitHealthy(t, health)

	conn, err := grpc.NewClient(als, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := alsv3.NewAccessLogServiceClient(conn).StreamAccessLogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	labels, _ := structpb.NewStruct(map[string]any{"app": "llm", "version": "v2"})
	identifier := &alsv3.StreamAccessLogsMessage_Identifier{
		Node: &corev3.Node{Id: "sidecar~10.1.0.7~llm-0.ai~ai.svc.cluster.local", Metadata: &structpb.Struct{Fields: map[string]*structpb.Value{
			"NAME": structpb.NewStringValue("llm-0"), "NAMESPACE": structpb.NewStringValue("ai"),
			"INSTANCE_IPS": structpb.NewStringValue("10.1.0.7"), "LABELS": structpb.NewStructValue(labels),
		}}},
		LogName: "genops-grpc-als",
	}
	entry := func(team string, code uint32) *alsdatav3.HTTPAccessLogEntry {
		addr := func(ip string, port uint32) *corev3.Address {
			return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
				Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
		}
		return &alsdatav3.HTTPAccessLogEntry{
			CommonProperties: &alsdatav3.AccessLogCommon{
				StartTime: timestamppb.Now(), Duration: durationpb.New(120 * time.Millisecond),
				DownstreamRemoteAddress: addr("10.1.0.2", 40000), DownstreamLocalAddress: addr("10.1.0.7", 8080),
				UpstreamRemoteAddress: addr("127.0.0.1", 8080), UpstreamCluster: "inbound|8080||", RouteName: "default",
			},
			ProtocolVersion: alsdatav3.HTTPAccessLogEntry_HTTP2,
			Request: &alsdatav3.HTTPRequestProperties{RequestMethod: corev3.RequestMethod_POST, Authority: "llm.ai:8080", Path: "/v1/chat/completions",
				RequestHeaders: map[string]string{"x-genops-team": team, "x-genops-customer-id": "cust-1"}},
			Response: &alsdatav3.HTTPResponseProperties{ResponseCode: wrapperspb.UInt32(code)},
		}
	}
	var entries []*alsdatav3.HTTPAccessLogEntry
	for range 5 {
		entries = append(entries, entry("ml-platform", 200))
	}
	entries = append(entries, entry("ml-platform", 503), entry("search", 200), entry("search", 200))
	// The identifier goes with the first message of a stream only, as
	// Envoy sends it.
	if err := stream.Send(&alsv3.StreamAccessLogsMessage{Identifier: identifier,
		LogEntries: &alsv3.StreamAccessLogsMessage_HttpLogs{HttpLogs: &alsv3.StreamAccessLogsMessage_HTTPAccessLogEntries{LogEntry: entries[:4]}}}); err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&alsv3.StreamAccessLogsMessage{
		LogEntries: &alsv3.StreamAccessLogsMessage_HttpLogs{HttpLogs: &alsv3.StreamAccessLogsMessage_HTTPAccessLogEntries{LogEntry: entries[4:]}}}); err != nil {
		t.Fatal(err)
	}

	col.Eventually(t, 30*time.Second, func() error {
		f, err := collectortest.Scrape("http://" + prom + "/metrics")
		if err != nil {
			return err
		}
		samples := collectortest.Samples(f["genops_requests_total"])
		sum := func(want map[string]string) float64 {
			var v float64
			for _, s := range collectortest.Matching(samples, want) {
				v += s.Value
			}
			return v
		}
		base := map[string]string{"namespace": "ai", "app": "llm", "reporter": "destination"}
		with := func(k, v string) map[string]string {
			m := map[string]string{k: v}
			for bk, bv := range base {
				m[bk] = bv
			}
			return m
		}
		if got := sum(with("genops_team", "ml-platform")); got != 6 {
			return fmt.Errorf("ml-platform requests %v, want 6 (all: %v)", got, samples)
		}
		if got := sum(with("genops_team", "search")); got != 2 {
			return fmt.Errorf("search requests %v, want 2", got)
		}
		if got := sum(with("availability", "bad")); got != 1 {
			return fmt.Errorf("bad requests %v, want 1", got)
		}
		return nil
	})
}
