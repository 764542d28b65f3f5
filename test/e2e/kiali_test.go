package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/genops-mesh/otelcol-genops/dashboards/kiali"
	"github.com/genops-mesh/otelcol-genops/internal/fixtures"
	"github.com/genops-mesh/otelcol-genops/internal/slo"
	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/kialitest"
	"github.com/genops-mesh/otelcol-genops/test/kubetest"
)

// serveGrowing serves a real proxy scrape on a free 127.0.0.1 port as a
// proxy whose traffic repeats: the n-th scrape has every sample value
// times n (counters grow, histograms keep their shape), so that rates
// over it are not zero. It returns the port.
func serveGrowing(t *testing.T, path, file string) int {
	t.Helper()
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
		k := float64(n.Add(1))
		var out bytes.Buffer
		for _, line := range strings.Split(string(body), "\n") {
			if i := strings.LastIndexByte(line, ' '); i > 0 && !strings.HasPrefix(line, "#") {
				if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
					line = line[:i+1] + strconv.FormatFloat(v*k, 'g', -1, 64)
				}
			}
			out.WriteString(line + "\n")
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(out.Bytes())
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// sendAICalls sends SERVER spans of the support-bot workload (app
// support-bot, version v1, namespace ai) over OTLP/gRPC: AI calls of two
// teams and tiers with token usage, and rate-limited ones.
func sendAICalls(t *testing.T, endpoint string) {
	t.Helper()
	ctx := context.Background()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(resource.NewSchemaless(
		attribute.String("service.name", "support-bot"), attribute.String("k8s.namespace.name", "ai"),
		attribute.String("app", "support-bot"), attribute.String("version", "v1"))))
	tracer := tp.Tracer("genops-e2e")
	start := time.Now().Add(-time.Second)
	for i := range 30 {
		team, tier, status, flags := "ml-platform", "gold", 200, "-"
		if i%3 == 0 {
			team, tier = "search", "free"
		}
		if i%10 == 0 {
			status, flags = 429, "RL"
		}
		_, span := tracer.Start(ctx, "POST /v1/chat/completions", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start),
			trace.WithAttributes(
				attribute.String("genops.team", team), attribute.String("genops.project", "support"),
				attribute.String("genops.customer_id", fmt.Sprintf("cust-%d", i%4)), attribute.String("genops.customer_tier", tier),
				attribute.String("gen_ai.request.model", "gpt-4o-mini"),
				attribute.Int("gen_ai.usage.input_tokens", 1_000), attribute.Int("gen_ai.usage.output_tokens", 200),
				attribute.String("response_flags", flags), attribute.Int("http.response.status_code", status)))
		span.End(trace.WithTimestamp(start.Add(time.Duration(50+i*10) * time.Millisecond)))
	}
	if err := tp.Shutdown(ctx); err != nil { // flushes
		t.Fatal(err)
	}
}

// Every generated Kiali dashboard in a real Kiali (built from its Go
// module), against envtest's kube-apiserver and a real Prometheus that
// scrapes the distribution: for every dashboard and every chart, Kiali
// answers non-empty series split by the chart's label; with the app and
// version filters Kiali adds on an app's and a workload's page, what the
// user sees is what docs/dashboards.md says; and a pod annotated
// kiali.io/dashboards lists the dashboard under its workload's and app's
// runtimes.
func TestKialiDashboards(t *testing.T) {
	istioPort := serveGrowing(t, "/stats/prometheus", fixtures.Path(t, "envoy-metrics", "datadog-istio-1.11-sidecar-merged.txt"))
	linkerdPort := serveGrowing(t, "/metrics", fixtures.Path(t, "linkerd-metrics", "linkerd2-prommatch-sampleMetrics.txt"))

	cluster := kubetest.Start(t)
	ctx := context.Background()
	core := cluster.Client.CoreV1()
	for _, ns := range []*corev1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: "ai", Labels: map[string]string{"istio-injection": "enabled"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "bookinfo", Labels: map[string]string{"istio-injection": "enabled"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "emojivoto", Annotations: map[string]string{"linkerd.io/inject": "enabled"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "istio-system"}},
	} {
		if _, err := core.Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pod := func(ns, name, proxy string, port int, labels, annotations map[string]string) {
		t.Helper()
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, Annotations: annotations},
			Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}}
		switch proxy {
		case "istio-proxy":
			p.Annotations["sidecar.istio.io/status"] = `{"containers":["istio-proxy"]}`
		case "linkerd-proxy":
			p.Annotations["linkerd.io/proxy-version"] = "stable-2.14.10"
		}
		if proxy != "" {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: proxy, Image: "proxy:1",
				Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: int32(port)}}})
		}
		cluster.RunningPod(t, p, "127.0.0.1")
	}
	pod("ai", "support-bot", "", 0, map[string]string{"app": "support-bot", "version": "v1"},
		map[string]string{"kiali.io/dashboards": kiali.Name})
	pod("bookinfo", "reviews-v1", "istio-proxy", istioPort, map[string]string{"app": "reviews", "version": "v1", "genops.ai/team": "books"},
		map[string]string{"kiali.io/dashboards": kiali.Name + "-istio"})
	pod("emojivoto", "web", "linkerd-proxy", linkerdPort, map[string]string{"app": "web", "version": "v2", "genops.ai/team": "emoji"},
		map[string]string{"kiali.io/dashboards": kiali.Name + "-linkerd"})

	prom, health, otlp := collectortest.FreeAddr(t), collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	col := collectortest.StartConfigs(t, map[string]string{"E2E_HEALTH": health, "E2E_PROM": prom, "E2E_OTLP": otlp, "E2E_KUBECONFIG": cluster.Kubeconfig},
		"testdata/kiali.yaml", "testdata/no-telemetry.yaml")
	col.WaitHealthy(t, health)
	p := collectortest.StartPrometheus(t, []string{prom})

	// Every dashboard the generator makes: an SLO file with both proxy
	// sources gets the -istio and -linkerd ones.
	all := kiali.Dashboards(&slo.File{SLOs: []slo.SLO{{Source: slo.SourceIstio}, {Source: slo.SourceLinkerd}}})
	k := kialitest.Start(t, cluster.Kubeconfig, "http://"+p.Addr, all, kiali.Settings())

	trafficTwice(t, col, p, "genops_tokens_total", func() { sendAICalls(t, otlp) })

	// Each chart's series and the label they are split by.
	type want struct {
		namespace, dashboard string
		split                map[string]string // chart → group label
	}
	for _, w := range []want{
		{"ai", kiali.Name, map[string]string{"Requests by team": "genops_team", "Cost by team": "genops_team", "Tokens by type": "token_type",
			"Latency by customer tier": "genops_customer_tier", "Policy events (rate limited, denied, circuit open…)": "policy"}},
		{"bookinfo", kiali.Name + "-istio", map[string]string{"Requests by team": "genops_team", "Latency by team": "genops_team"}},
		{"emojivoto", kiali.Name + "-linkerd", map[string]string{"Requests by team": "genops_team", "Latency by team": "genops_team"}},
	} {
		col.Eventually(t, 90*time.Second, func() error {
			d, err := k.Dashboard(w.namespace, w.dashboard, 5*time.Minute, nil)
			if err != nil {
				return err
			}
			if len(d.Charts) != len(w.split) {
				return fmt.Errorf("%s: %d charts, want %d", w.dashboard, len(d.Charts), len(w.split))
			}
			for _, c := range d.Charts {
				label, ok := w.split[c.Name]
				if !ok {
					return fmt.Errorf("%s: unexpected chart %q", w.dashboard, c.Name)
				}
				if c.Error != "" {
					return fmt.Errorf("%s / %s: %s", w.dashboard, c.Name, c.Error)
				}
				values := splitValues(c, label)
				if len(values) == 0 {
					return fmt.Errorf("%s / %s: no series with a %s label with data (%d series)", w.dashboard, c.Name, label, len(c.Metrics))
				}
				t.Logf("%s / %s: %s = %v", w.dashboard, c.Name, label, values)
			}
			return nil
		})
	}

	// The filters Kiali adds: on an app's page app, on a workload's page
	// app and version. Every genops_* series has app; only
	// genops_requests_total has version (the metric contract), so on the
	// page of a workload whose pods have a version label only "Requests by
	// team" has data (docs/dashboards.md says so). The proxies' series get
	// both from the pod's labels (the daemonset's scrape relabels them).
	for _, tc := range []struct {
		namespace, dashboard, filters string
		nonEmpty                      []string
	}{
		{"ai", kiali.Name, "app:support-bot", []string{"Requests by team", "Cost by team", "Tokens by type", "Latency by customer tier", "Policy events (rate limited, denied, circuit open…)"}},
		{"ai", kiali.Name, "app:support-bot,version:v1", []string{"Requests by team"}},
		{"ai", kiali.Name, "app:someone-else", nil},
		{"bookinfo", kiali.Name + "-istio", "app:reviews", []string{"Requests by team", "Latency by team"}},
		{"bookinfo", kiali.Name + "-istio", "app:reviews,version:v1", []string{"Requests by team", "Latency by team"}},
		{"emojivoto", kiali.Name + "-linkerd", "app:web", []string{"Requests by team", "Latency by team"}},
		{"emojivoto", kiali.Name + "-linkerd", "app:web,version:v2", []string{"Requests by team", "Latency by team"}},
	} {
		d, err := k.Dashboard(tc.namespace, tc.dashboard, 5*time.Minute, url.Values{"labelsFilters": {tc.filters}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range d.Charts {
			for _, m := range c.Metrics {
				if len(m.Datapoints) > 0 {
					got = append(got, c.Name)
					break
				}
			}
		}
		if strings.Join(got, "|") != strings.Join(tc.nonEmpty, "|") {
			t.Errorf("%s labelsFilters=%s: charts with data %q, want %q", tc.dashboard, tc.filters, got, tc.nonEmpty)
		}
	}

	// A pod annotated kiali.io/dashboards lists the dashboard among its
	// workload's and its app's runtimes.
	for _, path := range []string{"/api/namespaces/ai/workloads/support-bot", "/api/namespaces/ai/apps/support-bot"} {
		var v struct {
			Runtimes []struct {
				Name          string `json:"name"`
				DashboardRefs []struct {
					Template string `json:"template"`
					Title    string `json:"title"`
				} `json:"dashboardRefs"`
			} `json:"runtimes"`
		}
		if err := k.Get(path, nil, &v); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range v.Runtimes {
			for _, ref := range r.DashboardRefs {
				found = found || (r.Name == "GenOps" && ref.Template == kiali.Name && ref.Title == "GenOps governance")
			}
		}
		if !found {
			t.Errorf("%s: runtimes %+v lack the GenOps governance dashboard", path, v.Runtimes)
		}
	}
}

// splitValues are the values of label among a chart's series that have a
// non-zero data point.
func splitValues(c kialitest.Chart, label string) []string {
	seen := map[string]bool{}
	for _, m := range c.Metrics {
		v, ok := m.Labels[label]
		if !ok {
			continue
		}
		for _, dp := range m.Datapoints {
			if dp.Value > 0 {
				seen[v] = true
			}
		}
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
