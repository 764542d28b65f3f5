package e2e

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/genops-mesh/otelcol-genops/dashboards/grafana"
	"github.com/genops-mesh/otelcol-genops/internal/slo"
	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// call is one AI request the support-bot service served.
type call struct {
	team, customer string
	status         int
	duration       time.Duration
}

// sendSpans sends SERVER spans through the OpenTelemetry Go SDK over
// OTLP/gRPC, as an instrumented service would, with gen_ai usage.
func sendSpans(t *testing.T, endpoint string, calls []call) {
	t.Helper()
	ctx := context.Background()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(resource.NewSchemaless(
		attribute.String("service.name", "support-bot"), attribute.String("k8s.namespace.name", "ai"))))
	tracer := tp.Tracer("genops-e2e")
	start := time.Now().Add(-time.Minute)
	for _, c := range calls {
		_, span := tracer.Start(ctx, "POST /v1/chat/completions", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start),
			trace.WithAttributes(
				attribute.String("genops.team", c.team), attribute.String("genops.customer_id", c.customer),
				attribute.String("gen_ai.request.model", "gpt-4o-mini"),
				attribute.Int("gen_ai.usage.input_tokens", 10_000), attribute.Int("gen_ai.usage.output_tokens", 2_000),
				attribute.Int("http.response.status_code", c.status)))
		if c.status >= 500 {
			span.SetStatus(codes.Error, "upstream failed")
		}
		span.End(trace.WithTimestamp(start.Add(c.duration)))
	}
	if err := tp.Shutdown(ctx); err != nil { // flushes
		t.Fatal(err)
	}
}

// startSpanPipeline runs the distribution as spans reach it in a cluster
// (OTLP → governance → sli → Prometheus exporter) and a real Prometheus
// scraping it every second with the rules generated from config/slo.yaml.
// It returns the OTLP gRPC address.
func startSpanPipeline(t *testing.T) (otlp string, col *collectortest.Process, p *collectortest.Prometheus) {
	t.Helper()
	prom, health := collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	otlp = collectortest.FreeAddr(t)
	root := filepath.Join("..", "..")
	col = collectortest.StartConfigs(t, map[string]string{"E2E_HEALTH": health, "E2E_PROM": prom, "E2E_OTLP": otlp},
		"testdata/prometheus.yaml", "testdata/trust-every-claim.yaml", "testdata/no-telemetry.yaml")
	col.WaitHealthy(t, health)
	p = collectortest.StartPrometheus(t, []string{prom}, filepath.Join(root, "deploy", "generated", "prometheus", "slo-rules.yaml"))

	return otlp, col, p
}

// trafficTwice sends traffic, waits until Prometheus has metric, and
// sends it again a few scrapes later: rates over it are then not zero.
func trafficTwice(t *testing.T, col *collectortest.Process, p *collectortest.Prometheus, metric string, send func()) {
	t.Helper()
	send()
	col.Eventually(t, 30*time.Second, func() error {
		r, err := p.Query(metric)
		if err != nil || len(r) == 0 {
			return fmt.Errorf("no %s in Prometheus yet (%v)", metric, err)
		}
		return nil
	})
	time.Sleep(3 * time.Second)
	send()
}

// The collector's output in a real Prometheus: cost per team equals the
// price table's sum to the cent, the generated rules evaluate, and every
// query of every generated Grafana dashboard runs and returns data (but
// those about traffic this test does not make: istio_* series, firing
// alerts, the checkout SLO).
func TestPrometheusCostRulesAndDashboards(t *testing.T) {
	otlp, col, p := startSpanPipeline(t)
	root := filepath.Join("..", "..")
	batch := func() []call {
		var calls []call
		for i := range 20 {
			status, d := 200, 300*time.Millisecond
			if i%10 == 0 {
				status = 503
			}
			if i%4 == 0 {
				d = 3 * time.Second
			}
			calls = append(calls, call{"ml-platform", fmt.Sprintf("cust-%d", i%2), status, d})
		}
		for range 5 {
			calls = append(calls, call{"search", "cust-9", 200, 150 * time.Millisecond})
		}
		return calls
	}
	trafficTwice(t, col, p, "genops_requests_total", func() { sendSpans(t, otlp, batch()) })

	// 40 and 10 calls of 10,000 input and 2,000 output tokens of
	// gpt-4o-mini at 0.15 and 0.60 USD per million: 0.0027 USD each.
	want := map[string]float64{"ml-platform": 40 * 0.0027, "search": 10 * 0.0027}
	col.Eventually(t, 30*time.Second, func() error {
		r, err := p.Query(`sum by (genops_team) (genops_cost_total{currency="USD",model="gpt-4o-mini",provider="openai"})`)
		if err != nil {
			return err
		}
		got := map[string]float64{}
		for _, s := range r {
			v, _ := s.Float()
			got[s.Metric["genops_team"]] = v
		}
		for team, w := range want {
			if math.Round(got[team]*100) != math.Round(w*100) || math.Abs(got[team]-w) > 1e-9 {
				return fmt.Errorf("cost of %s = %v, want %v (all: %v)", team, got[team], w, got)
			}
		}
		return nil
	})

	f, err := slo.ParseFile(filepath.Join(root, "config", "slo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	exprs := dashboardQueries(t, f)
	expectEmpty := regexp.MustCompile(`istio_requests_total|ALERTS|checkout`)
	col.Eventually(t, 60*time.Second, func() error {
		var missing []string
		for _, e := range exprs {
			r, err := p.Query(e)
			if err != nil {
				t.Fatalf("a dashboard query fails in Prometheus: %v", err)
			}
			if len(r) == 0 && !expectEmpty.MatchString(e) {
				missing = append(missing, e)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return fmt.Errorf("%d of %d dashboard queries return no data yet, e.g.\n%s", len(missing), len(exprs), missing[0])
		}
		return nil
	})
	t.Logf("%d dashboard queries ran in Prometheus", len(exprs))
}

// dashboardQueries returns every panel query of the generated dashboards
// with Grafana's variables replaced as Grafana would ("All" is .*).
func dashboardQueries(t *testing.T, f *slo.File) []string {
	t.Helper()
	out := queriesOf(t, grafana.Cost, grafana.Traffic, func() (dashboard.Dashboard, error) { return grafana.SLOs(f) })
	if len(out) < 30 {
		t.Fatalf("only %d dashboard queries found", len(out))
	}
	return out
}

// queriesOf returns every panel query of the dashboards that builds make.
func queriesOf(t *testing.T, builds ...func() (dashboard.Dashboard, error)) []string {
	t.Helper()
	vars := strings.NewReplacer("$__rate_interval", "1m", "$__range", "5m", "$__interval", "15s")
	labelVar := regexp.MustCompile(`\$[a-z_]+`)
	var out []string
	for _, build := range builds {
		d, err := build()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Panels {
			if p.Panel == nil {
				continue
			}
			for _, target := range p.Panel.Targets {
				var expr string
				switch q := target.(type) {
				case *prometheus.Dataquery:
					expr = q.Expr
				case prometheus.Dataquery:
					expr = q.Expr
				default:
					t.Fatalf("panel %v: target of type %T", p.Panel.Title, target)
				}
				out = append(out, labelVar.ReplaceAllString(vars.Replace(expr), ".*"))
			}
		}
	}
	return out
}
