package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/jaegertracing/jaeger-idl/proto-gen/api_v2"

	"github.com/genops-mesh/otelcol-genops/internal/jaegerclient"
	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/jaegertest"
)

// Scenario "backend outage": Jaeger is down for 60 s while spans flow; the
// collector's persistent sending queue (file_storage, as in
// config/gateway.yaml) keeps them, and after Jaeger returns every span
// sent during the outage is in Jaeger, even though the collector was
// restarted while Jaeger was away.
func TestJaegerOutageLosesNoSpan(t *testing.T) {
	j := jaegertest.Start(t)
	health, otlp := collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	env := map[string]string{"E2E_HEALTH": health, "E2E_STORAGE": t.TempDir(), "E2E_OTLP": otlp, "E2E_JAEGER": j.OTLP}
	col := collectortest.StartConfigs(t, env, "testdata/outage.yaml", "testdata/trust-every-claim.yaml", "testdata/no-telemetry.yaml")
	col.WaitHealthy(t, health)

	j.Stop(t)
	outage := time.Now()
	const batches, perBatch = 30, 10
	for range batches {
		calls := make([]call, perBatch)
		for i := range calls {
			calls[i] = call{"ml-platform", "cust-1", 200, 50 * time.Millisecond}
		}
		sendSpans(t, otlp, calls)
		time.Sleep(time.Second)
	}
	// The collector itself restarts during the outage: the queue is on
	// disk, so what it held is sent by the next process.
	if err := col.Terminate(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	col = collectortest.StartConfigs(t, env, "testdata/outage.yaml", "testdata/trust-every-claim.yaml", "testdata/no-telemetry.yaml")
	col.WaitHealthy(t, health)
	// The rest of the 60 s outage.
	time.Sleep(time.Until(outage.Add(60 * time.Second)))
	j.Restart(t)

	want := batches * perBatch
	col.Eventually(t, 60*time.Second, func() error {
		got, err := countSpans(j, "support-bot")
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%d of %d spans sent during the outage are in Jaeger", got, want)
		}
		return nil
	})
}

// countSpans counts the distinct spans of a service in Jaeger.
func countSpans(j *jaegertest.Jaeger, service string) (int, error) {
	spans, err := findSpans(j, service, nil)
	return len(spans), err
}

// findSpans asks Jaeger for the traces of a service with tags, and
// returns the trace id of each distinct span it holds (by "trace/span").
func findSpans(j *jaegertest.Jaeger, service string, tags map[string]string) (map[string]string, error) {
	client, conn, err := jaegerclient.Dial(j.Query)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := client.FindTraces(ctx, &api_v2.FindTracesRequest{Query: &api_v2.TraceQueryParameters{
		ServiceName: service, Tags: tags, StartTimeMin: time.Now().Add(-time.Hour), StartTimeMax: time.Now(), SearchDepth: 100_000,
	}})
	if err != nil {
		return nil, err
	}
	spans := map[string]string{}
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return spans, nil
		}
		if err != nil {
			return nil, err
		}
		for _, s := range chunk.GetSpans() {
			spans[s.TraceID.String()+"/"+s.SpanID.String()] = s.TraceID.String()
		}
	}
}
