// Package jaegertest runs a real Jaeger (v2, built from the published
// github.com/jaegertracing/jaeger module by test/install-jaeger.sh) with
// in-memory storage, on 127.0.0.1 and free ports: OTLP gRPC in, the
// api_v2 gRPC query service and the UI out. Where the binary is absent a
// test skips with the command that builds it, unless CI is set: then it
// fails, because `make test` builds it.
package jaegertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jaegertracing/jaeger-idl/proto-gen/api_v2"
	"google.golang.org/grpc"

	"github.com/genops-mesh/otelcol-genops/internal/jaegerclient"
	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/peers"
)

// Jaeger is a running Jaeger.
type Jaeger struct {
	// OTLP is the OTLP gRPC receiver, Query the api_v2 gRPC query service,
	// UI the HTTP UI and API (host:port each).
	OTLP, Query, UI string
	bin, config     string
	proc            *collectortest.Process
}

// Start runs Jaeger until the test ends.
func Start(t testing.TB) *Jaeger {
	t.Helper()
	bin := peers.Need(t, "jaeger", "github.com/jaegertracing/jaeger", "jaeger", "jaeger")
	j := &Jaeger{OTLP: collectortest.FreeAddr(t), Query: collectortest.FreeAddr(t), UI: collectortest.FreeAddr(t), bin: bin}
	j.config = filepath.Join(t.TempDir(), "jaeger.yaml")
	cfg := fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    grpc:
      endpoint: %s
    http:
      endpoint: %s
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`, j.Query, j.UI, j.OTLP)
	if err := os.WriteFile(j.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	j.Restart(t)
	t.Cleanup(func() { j.Stop(t) })
	return j
}

// Restart starts Jaeger again after Stop, on the same ports (its memory
// storage starts empty).
func (j *Jaeger) Restart(t testing.TB) {
	t.Helper()
	j.proc = collectortest.StartCmd(t, exec.Command(j.bin, "--config", j.config))
	j.proc.Eventually(t, 60*time.Second, func() error {
		_, err := j.Services(context.Background())
		return err
	})
}

// Stop ends Jaeger (SIGTERM), as an outage would; Restart brings it back.
func (j *Jaeger) Stop(t testing.TB) {
	t.Helper()
	if j.proc != nil && !j.proc.Exited() {
		_ = j.proc.Terminate(t, 20*time.Second)
	}
}

// Client dials the query service.
func (j *Jaeger) Client() (api_v2.QueryServiceClient, *grpc.ClientConn, error) {
	return jaegerclient.Dial(j.Query)
}

// Services lists the services Jaeger has spans for.
func (j *Jaeger) Services(ctx context.Context) ([]string, error) {
	c, conn, err := j.Client()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r, err := c.GetServices(ctx, &api_v2.GetServicesRequest{})
	if err != nil {
		return nil, err
	}
	return r.GetServices(), nil
}
