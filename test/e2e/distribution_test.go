// Package e2e tests the built otelcol-genops binary as a user runs it.
package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openzipkin/zipkin-go"
	"github.com/openzipkin/zipkin-go/model"
	zipkinhttp "github.com/openzipkin/zipkin-go/reporter/http"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// defaultConfigEnv moves every listener of the embedded default
// configuration to a free loopback port; the variable names are documented
// in config/default.yaml.
type defaultConfigEnv struct {
	zipkin, otlpGRPC, otlpHTTP, prometheus, health, telemetry, ledger string
}

func newDefaultConfigEnv(t *testing.T) defaultConfigEnv {
	return defaultConfigEnv{
		zipkin:     collectortest.FreeAddr(t),
		otlpGRPC:   collectortest.FreeAddr(t),
		otlpHTTP:   collectortest.FreeAddr(t),
		prometheus: collectortest.FreeAddr(t),
		health:     collectortest.FreeAddr(t),
		telemetry:  collectortest.FreeAddr(t),
		ledger:     filepath.Join(t.TempDir(), "genops-ledger.db"),
	}
}

func (e defaultConfigEnv) vars(t *testing.T) []string {
	return []string{
		"GENOPS_ZIPKIN_ENDPOINT=" + e.zipkin,
		"GENOPS_OTLP_GRPC_ENDPOINT=" + e.otlpGRPC,
		"GENOPS_OTLP_HTTP_ENDPOINT=" + e.otlpHTTP,
		"GENOPS_PROMETHEUS_ENDPOINT=" + e.prometheus,
		"GENOPS_HEALTH_ENDPOINT=" + e.health,
		"GENOPS_TELEMETRY_PORT=" + strconv.Itoa(collectortest.Port(t, e.telemetry)),
		"GENOPS_LEDGER_FILE=" + e.ledger,
	}
}

// A span sent with zipkin-go's HTTP reporter to the collector running on
// its embedded default configuration (no flags) shows up as the GenOps
// contract's series on the Prometheus exporter, labelled with the genops.*
// tags it carried, and SIGTERM stops it cleanly.
func TestDefaultConfigZipkinSpanBecomesMetric(t *testing.T) {
	env := newDefaultConfigEnv(t)
	col := collectortest.Start(t, nil, env.vars(t)...)
	col.WaitHealthy(t, env.health)

	reporter := zipkinhttp.NewReporter("http://"+env.zipkin+"/api/v2/spans",
		zipkinhttp.BatchInterval(50*time.Millisecond))
	endpoint, err := zipkin.NewEndpoint("checkout", "127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	tracer, err := zipkin.NewTracer(reporter, zipkin.WithLocalEndpoint(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	const spans = 3
	for range spans {
		span := tracer.StartSpan("post /v1/chat/completions", zipkin.Kind(model.Server))
		span.Tag("genops.team", "ml-platform")
		span.Tag("genops.project", "support-bot")
		span.Tag("http.status_code", "200")
		span.Finish()
	}
	if err := reporter.Close(); err != nil { // flushes the batch
		t.Fatalf("zipkin reporter: %v", err)
	}

	metricsURL := "http://" + env.prometheus + "/metrics"
	want := map[string]string{ // the labels of genops_request_duration_seconds
		"service":        "checkout",
		"genops_team":    "ml-platform",
		"genops_project": "support-bot",
		"reporter":       "destination",
	}
	col.Eventually(t, 30*time.Second, func() error {
		families, err := collectortest.Scrape(metricsURL)
		if err != nil {
			return err
		}
		requests := collectortest.Matching(collectortest.Samples(families["genops_requests_total"]), map[string]string{
			"service": "checkout", "genops_team": "ml-platform", "genops_project": "support-bot",
			"reporter": "destination", "response_code_class": "2xx", "availability": "good",
		})
		if len(requests) != 1 || requests[0].Value != spans {
			return fmt.Errorf("genops_requests_total: want one series of %d, got %v (families: %s)", spans, requests, collectortest.Names(families))
		}
		durations := collectortest.Matching(collectortest.Samples(families["genops_request_duration_seconds"]), want)
		if len(durations) != 1 || durations[0].Value != spans {
			return fmt.Errorf("genops_request_duration_seconds: want one histogram of %d, got %v", spans, durations)
		}
		return nil
	})

	start := time.Now()
	if err := col.Terminate(t, 10*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, col.Output())
	}
	t.Logf("clean exit %s after SIGTERM", time.Since(start).Round(time.Millisecond))
}

func minimalConfig(zipkinAddr string) string {
	return `
receivers:
  zipkin:
    endpoint: ` + zipkinAddr + `
exporters:
  debug: {}
service:
  pipelines:
    traces:
      receivers: [zipkin]
      exporters: [debug]
  telemetry:
    metrics:
      level: none
`
}

// A configuration with an unknown key fails before anything starts, with
// the collector's own error naming the key; `validate` says the same.
func TestBrokenConfigNamesTheKey(t *testing.T) {
	broken := collectortest.WriteConfig(t, strings.Replace(minimalConfig("127.0.0.1:0"), "endpoint:", "endpiont:", 1))
	good := collectortest.WriteConfig(t, minimalConfig("127.0.0.1:0"))

	for _, tc := range []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"run broken", []string{"--config", broken}, true},
		{"validate broken", []string{"validate", "--config", broken}, true},
		{"validate good", []string{"validate", "--config", good}, false},
		{"validate embedded default", []string{"validate"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			col := collectortest.Start(t, tc.args)
			err := col.Wait(t, 60*time.Second)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("want exit 0, got %v:\n%s", err, col.Output())
				}
				return
			}
			if err == nil {
				t.Fatalf("want a non-zero exit, got 0:\n%s", col.Output())
			}
			if !strings.Contains(col.Output(), "endpiont") {
				t.Fatalf("error does not name the bad key %q:\n%s", "endpiont", col.Output())
			}
		})
	}
}

// A port already taken by another process: the collector exits non-zero
// and the error names the address.
func TestPortInUseNamesThePort(t *testing.T) {
	taken := collectortest.Listen(t)
	cfg := collectortest.WriteConfig(t, minimalConfig(taken))
	col := collectortest.Start(t, []string{"--config", cfg})
	if err := col.Wait(t, 60*time.Second); err == nil {
		t.Fatalf("want a non-zero exit, got 0:\n%s", col.Output())
	}
	port := strconv.Itoa(collectortest.Port(t, taken))
	if !strings.Contains(col.Output(), ":"+port) {
		t.Fatalf("error does not name port %s:\n%s", port, col.Output())
	}
}

// The configurations shipped for the two deployment modes are valid for this
// distribution (every component they name is in it and every key is known).
func TestShippedConfigsValidate(t *testing.T) {
	for _, name := range []string{"default.yaml", "daemonset.yaml", "gateway.yaml", "tiered-agent.yaml", "tiered-gateway.yaml"} {
		t.Run(name, func(t *testing.T) {
			// The DaemonSet sets K8S_NODE_NAME from the downward API; k8s_attributes checks it.
			col := collectortest.Start(t, []string{"validate", "--config", filepath.Join("..", "..", "config", name)},
				"K8S_NODE_NAME=node-1", "GENOPS_SLO_FILE="+filepath.Join("..", "..", "config", "slo.yaml"),
				"GENOPS_PRICING_FILE="+filepath.Join("..", "..", "config", "pricing.yaml"),
				"GENOPS_LEDGER_DSN=postgres://genops@127.0.0.1:5432/ledger")
			if err := col.Wait(t, 60*time.Second); err != nil {
				t.Fatalf("validate config/%s: %v\n%s", name, err, col.Output())
			}
		})
	}
}
