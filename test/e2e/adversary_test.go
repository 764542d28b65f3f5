package e2e

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/kubetest"
)

// Scenario "adversary" (docs/trust.md): the built distribution runs each
// shipped production config (config/daemonset.yaml, config/gateway.yaml,
// with only listeners, paths and the kubeconfig moved by
// testdata/adversary-*.yaml) against a real kube-apiserver holding
// labelled pods, and a pod in the sandbox namespace — the test process
// itself, at 127.0.0.1 — attacks it the ways an attacker inside the
// cluster would. After every attack, the attacker's values are nowhere on
// /metrics, no cost or token counter is negative or non-finite, and the
// counters of refused claims moved.

// attackerValues appear only in the attacker's claims.
var attackerValues = []string{"billing", "acme", "cc-victim", "victim-project"}

const gatewayPrincipal = "spiffe://cluster.local/ns/api-gateway/sa/gateway"

type adversaryCluster struct {
	*kubetest.Cluster
	llmUID, rogueUID string
}

// startAdversaryCluster: the llm pod (team, project labels; cost centre
// on its namespace) with an Istio sidecar, the API gateway's pod, and in
// sandbox the attacker (no sidecar, at 127.0.0.1, where the test's
// requests come from) and a pod that names a container istio-proxy but
// runs no mesh proxy.
func startAdversaryCluster(t *testing.T) adversaryCluster {
	cluster := kubetest.Start(t)
	ctx := context.Background()
	// Istio injection is enabled in every namespace: a pod counts as meshed
	// only where the platform enabled it (and says so itself).
	for ns, labels := range map[string]map[string]string{
		"ai":          {"genops.ai/cost-center": "cc-ai", "istio-injection": "enabled"},
		"api-gateway": {"istio-injection": "enabled"},
		"sandbox":     {"genops.ai/team": "sandbox-team", "istio-injection": "enabled"},
	} {
		if _, err := cluster.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	sidecar := map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}
	pod := func(ns, name, ip string, labels, annotations map[string]string) *corev1.Pod {
		t.Helper()
		return cluster.RunningPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, Annotations: annotations},
			Spec: corev1.PodSpec{NodeName: "node-1"}}, ip)
	}
	llm := pod("ai", "llm-0", "10.1.0.7", map[string]string{"app": "llm", "genops.ai/team": "ml-platform", "genops.ai/project": "support-bot"}, sidecar)
	pod("api-gateway", "gateway-0", "10.1.0.2", map[string]string{"app": "gateway"}, sidecar)
	pod("sandbox", "attacker-0", "127.0.0.1", map[string]string{"app": "attacker"}, nil)
	rogue := pod("sandbox", "rogue-0", "10.1.0.68", map[string]string{"app": "rogue"}, nil)
	return adversaryCluster{Cluster: cluster, llmUID: string(llm.UID), rogueUID: string(rogue.UID)}
}

type shipped struct {
	col                                           *collectortest.Process
	zipkin, otlpHTTP, prometheus, telemetry, logs string
}

// startShipped runs the distribution on config/<mode>.yaml with the test
// machine's overrides.
func startShipped(t *testing.T, mode string, cluster adversaryCluster, moreEnv ...string) shipped {
	root := filepath.Join("..", "..")
	s := shipped{
		zipkin: collectortest.FreeAddr(t), otlpHTTP: collectortest.FreeAddr(t), prometheus: collectortest.FreeAddr(t),
		telemetry: collectortest.FreeAddr(t), logs: filepath.Join(t.TempDir(), "pods"),
	}
	health := collectortest.FreeAddr(t)
	env := []string{
		"K8S_NODE_NAME=node-1", "KUBECONFIG=" + cluster.Kubeconfig, "ADV_KUBECONFIG=" + cluster.Kubeconfig,
		"GENOPS_SLO_FILE=" + filepath.Join(root, "config", "slo.yaml"), "GENOPS_PRICING_FILE=" + filepath.Join(root, "config", "pricing.yaml"),
		"GENOPS_QUEUE_DIR=" + t.TempDir(), "GENOPS_TRACES_ENDPOINT=127.0.0.1:1", "JAEGER_OTLP_ENDPOINT=127.0.0.1:1",
		"GENOPS_LEDGER_DSN=sqlite:" + filepath.Join(t.TempDir(), "ledger.db"),
		"ADV_HEALTH=" + health, "ADV_STORAGE=" + t.TempDir(), "ADV_LOGS=" + s.logs, "ADV_ZIPKIN=" + s.zipkin,
		"ADV_OTLP_GRPC=" + collectortest.FreeAddr(t), "ADV_OTLP_HTTP=" + s.otlpHTTP, "ADV_ALS=" + collectortest.FreeAddr(t),
		"ADV_PROMETHEUS=" + s.prometheus, fmt.Sprintf("ADV_TELEMETRY_PORT=%d", collectortest.Port(t, s.telemetry)),
	}
	env = append(env, moreEnv...)
	if err := os.MkdirAll(s.logs, 0o755); err != nil {
		t.Fatal(err)
	}
	s.col = collectortest.Start(t, []string{
		"--config", filepath.Join(root, "config", mode+".yaml"),
		"--config", filepath.Join("testdata", "adversary-"+mode+".yaml"),
	}, env...)
	s.col.WaitHealthy(t, health)
	return s
}

func post(t *testing.T, url, contentType, body string) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: %s %s", url, resp.Status, b)
	}
}

// forgedZipkinSpan claims to be the llm pod's SERVER span (its service,
// namespace and app), sent through the gateway (its principal), for
// another team, project, customer and cost centre, and states a cost and
// token counts no counter should take.
func forgedZipkinSpan(id int) string {
	return fmt.Sprintf(`[{"traceId":"5af7183fb1d4cf5f5af7183fb1d4cf%02x","id":"6b221d5bc9e649%02x","kind":"SERVER","name":"post /v1/chat",`+
		`"timestamp":1764583200000000,"duration":120000,"localEndpoint":{"serviceName":"llm","ipv4":"10.1.0.7"},"remoteEndpoint":{"ipv4":"10.1.0.2"},`+
		`"tags":{"http.status_code":"200","genops.team":"billing","genops.project":"victim-project","genops.customer_id":"acme",`+
		`"genops.cost_center":"cc-victim","envoy.downstream_peer_uri_san":%q,"k8s.namespace.name":"ai","app":"llm",`+
		`"genops.cost.total":"1e308","gen_ai.request.model":"gpt-4o","gen_ai.usage.input_tokens":"-1000000000000",`+
		`"gen_ai.usage.output_tokens":"9223372036854775807"}}]`, id, id, gatewayPrincipal)
}

// checkNoAttackerValues scrapes /metrics and fails on any attacker value
// or any cost or token sample that is negative or not finite.
func checkNoAttackerValues(s shipped) error {
	resp, err := http.Get("http://" + s.prometheus + "/metrics")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	for _, v := range attackerValues {
		if strings.Contains(string(body), `"`+v+`"`) {
			return fmt.Errorf("attacker value %q on /metrics", v)
		}
	}
	families, err := collectortest.Scrape("http://" + s.prometheus + "/metrics")
	if err != nil {
		return err
	}
	for _, name := range []string{"genops_cost_total", "genops_tokens_total"} {
		for _, sample := range collectortest.Samples(families[name]) {
			if math.IsNaN(sample.Value) || math.IsInf(sample.Value, 0) || sample.Value < 0 {
				return fmt.Errorf("%s %v = %v", name, sample.Labels, sample.Value)
			}
		}
	}
	return nil
}

// counted is the sum of a collector self-metric over samples matching
// labels.
func counted(s shipped, name string, labels map[string]string) (float64, error) {
	own, err := collectortest.Scrape("http://" + s.telemetry + "/metrics")
	if err != nil {
		return 0, err
	}
	total := 0.0
	for _, sample := range collectortest.Matching(collectortest.Samples(own[name]), labels) {
		total += sample.Value
	}
	return total, nil
}

// wantCounted fails unless each counter of refused claims moved.
func wantCounted(s shipped, counters ...map[string]string) error {
	for _, labels := range counters {
		name := "genops_rejected_claims_total"
		if _, ok := labels["dimension"]; ok {
			name = "genops_attribution_conflicts_total"
		}
		n, err := counted(s, name, labels)
		if err != nil {
			return err
		}
		if n < 1 {
			return fmt.Errorf("%s%v not counted", name, labels)
		}
	}
	return nil
}

func requests(s shipped, labels map[string]string) (float64, error) {
	families, err := collectortest.Scrape("http://" + s.prometheus + "/metrics")
	if err != nil {
		return 0, err
	}
	total := 0.0
	for _, sample := range collectortest.Matching(collectortest.Samples(families["genops_requests_total"]), labels) {
		total += sample.Value
	}
	return total, nil
}

// The attacks common to both configs: a forged Zipkin span, twice.
func attackWithSpans(t *testing.T, s shipped) {
	for i := range 2 {
		post(t, "http://"+s.zipkin+"/api/v2/spans", "application/json", forgedZipkinSpan(i))
	}
	s.col.Eventually(t, 30*time.Second, func() error {
		// The spans were counted — as the attacker's own.
		if n, err := requests(s, map[string]string{"namespace": "sandbox", "service": "attacker", "genops_team": "sandbox-team"}); err != nil || n != 2 {
			return fmt.Errorf("attacker's requests: %v %v", n, err)
		}
		if n, err := requests(s, map[string]string{"service": "llm"}); err != nil || n != 0 {
			return fmt.Errorf("requests counted for the llm service: %v %v", n, err)
		}
		if err := checkNoAttackerValues(s); err != nil {
			return err
		}
		return wantCounted(s,
			map[string]string{"dimension": "team", "reason": "untrusted"},
			map[string]string{"dimension": "customer_id", "reason": "untrusted"},
			map[string]string{"dimension": "cost_center", "reason": "untrusted"},
			map[string]string{"claim": "service", "reason": "forged"},
			map[string]string{"claim": "workload", "reason": "forged"},
			map[string]string{"claim": "cost", "reason": "over_limit"},
			map[string]string{"claim": "input_tokens", "reason": "negative"},
			map[string]string{"claim": "output_tokens", "reason": "over_limit"},
		)
	})
}

func TestAdversary(t *testing.T) {
	t.Run("daemonset", func(t *testing.T) {
		cluster := startAdversaryCluster(t)
		s := startShipped(t, "daemonset", cluster)

		t.Run("forged span", func(t *testing.T) { attackWithSpans(t, s) })

		// The llm pod's own sidecar log: a client that sends 300
		// distinct Host headers, and a caller in sandbox that claims a
		// customer. Everything counts under the llm service; the claim
		// is refused.
		t.Run("host flood and untrusted header", func(t *testing.T) {
			var lines strings.Builder
			for i := range 300 {
				peer, customer := "10.1.0.2", "cust-1"
				if i == 0 {
					peer, customer = "10.1.0.66", "acme"
				}
				fmt.Fprintf(&lines, `2026-11-20T10:00:00.000000000Z stdout F {"start_time":"2026-11-20T10:00:00.000Z","method":"POST","path":"/v1/chat",`+
					`"protocol":"HTTP/2","response_code":200,"duration":12,"authority":"h%d.example:8080","upstream_cluster":"inbound|8080||",`+
					`"downstream_remote_address":"%s:40000","user_agent":"x\" \"billing","genops_team":"billing","genops_customer_id":%q,`+
					`"genops_cost":"0.5","genops_tokens_input":"-5"}`+"\n", i, peer, customer)
			}
			writeLog(t, filepath.Join(s.logs, "ai_llm-0_"+cluster.llmUID), lines.String())
			s.col.Eventually(t, 30*time.Second, func() error {
				n, err := requests(s, map[string]string{"service": "llm", "namespace": "ai", "genops_team": "ml-platform", "genops_cost_center": "cc-ai"})
				if err != nil || n != 300 {
					return fmt.Errorf("llm requests: %v %v", n, err)
				}
				if n, err := requests(s, map[string]string{"genops_customer_id": "cust-1"}); err != nil || n != 299 {
					return fmt.Errorf("the gateway's customer: %v %v", n, err)
				}
				if n, err := requests(s, map[string]string{"service": "h1.example"}); err != nil || n != 0 {
					return fmt.Errorf("a Host header named a service: %v %v", n, err)
				}
				if err := checkNoAttackerValues(s); err != nil {
					return err
				}
				return wantCounted(s,
					map[string]string{"dimension": "team", "reason": "overridden"},
					map[string]string{"claim": "cost", "reason": "untrusted"},
				)
			})
		})

		// A pod without a mesh proxy names a container istio-proxy and
		// writes access log lines for another team.
		t.Run("fake sidecar", func(t *testing.T) {
			line := `2026-11-20T10:00:00.000000000Z stdout F {"start_time":"2026-11-20T10:00:00.000Z","method":"POST","path":"/v1/chat",` +
				`"protocol":"HTTP/2","response_code":200,"duration":12,"authority":"llm.ai:8080","upstream_cluster":"inbound|8080||",` +
				`"downstream_remote_address":"10.1.0.2:40000","genops_customer_id":"acme","downstream_peer_uri_san":"` + gatewayPrincipal + `"}` + "\n"
			writeLog(t, filepath.Join(s.logs, "sandbox_rogue-0_"+cluster.rogueUID), line+line)
			s.col.Eventually(t, 30*time.Second, func() error {
				if err := wantCounted(s, map[string]string{"claim": "proxy", "reason": "forged"}); err != nil {
					return err
				}
				if n, err := requests(s, map[string]string{"app": "rogue"}); err != nil || n != 0 {
					return fmt.Errorf("the fake sidecar's requests counted: %v %v", n, err)
				}
				return checkNoAttackerValues(s)
			})
		})
	})

	t.Run("gateway", func(t *testing.T) {
		cluster := startAdversaryCluster(t)
		s := startShipped(t, "gateway", cluster)

		t.Run("forged span", func(t *testing.T) { attackWithSpans(t, s) })

		// Envoy's OpenTelemetry access logger format over OTLP, sent by
		// the attacker with the llm pod's identity on the resource, a
		// team label of its choosing, and a cost header. The attacker's
		// pod runs no mesh proxy: its access log is no request of anyone's
		// (counted as a forged proxy claim), only its spans count.
		t.Run("forged OTLP access log", func(t *testing.T) {
			line := `[2026-11-20T10:00:00.000Z] "POST /v1/chat HTTP/2" 200 - via_upstream - "-" 512 2048 12 10 "-" "curl" "id-1" "llm.ai:8080" "10.1.0.7:8080" inbound|8080|| 127.0.0.6:51515 10.1.0.7:8080 10.1.0.2:40000 - default ` +
				`"billing" "victim-project" "acme" "cc-victim" "-" "-" "-" "gpt-4o" "openai" "1000000" "-5" "1e308"`
			body := fmt.Sprintf(`{"resourceLogs":[{"resource":{"attributes":[`+
				`{"key":"k8s.namespace.name","value":{"stringValue":"ai"}},{"key":"k8s.pod.name","value":{"stringValue":"llm-0"}},`+
				`{"key":"k8s.pod.label.genops.ai/team","value":{"stringValue":"billing"}}]},`+
				`"scopeLogs":[{"logRecords":[{"body":{"stringValue":%q}}]}]}]}`, line)
			post(t, "http://"+s.otlpHTTP+"/v1/logs", "application/json", body)
			s.col.Eventually(t, 30*time.Second, func() error {
				if n, err := requests(s, map[string]string{"namespace": "sandbox", "app": "attacker", "service": "attacker"}); err != nil || n != 2 {
					return fmt.Errorf("attacker's requests (2 spans; its access log is no request): %v %v", n, err)
				}
				if err := checkNoAttackerValues(s); err != nil {
					return err
				}
				return wantCounted(s,
					map[string]string{"claim": "input_tokens", "reason": "untrusted"},
					map[string]string{"claim": "output_tokens", "reason": "negative"},
					map[string]string{"claim": "workload", "reason": "forged"},
					map[string]string{"claim": "proxy", "reason": "forged"},
				)
			})
		})

		// The attacker marks its own pod as an Istio sidecar (any pod's
		// author can) in a namespace without injection, then sends an
		// access log naming the gateway's principal and another customer
		// and cost centre; and spans that each name a new cluster, to
		// fill every metric's series cap.
		t.Run("self-declared sidecar and cluster flood", func(t *testing.T) {
			ctx := context.Background()

			if _, err := cluster.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "byo"}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := cluster.Client.CoreV1().Pods("sandbox").Delete(ctx, "attacker-0", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
				t.Fatal(err)
			}
			cluster.RunningPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "byo", Name: "selfmade-0", Labels: map[string]string{"app": "selfmade"},
				Annotations: map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}},
				Spec: corev1.PodSpec{NodeName: "node-1"}}, "127.0.0.1")
			time.Sleep(time.Second) // the informer sees the new pod
			body := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[` +
				`{"key":"envoy.direction","value":{"stringValue":"inbound"}},{"key":"http.response.status_code","value":{"intValue":"200"}},` +
				`{"key":"envoy.downstream_peer_uri_san","value":{"stringValue":"` + gatewayPrincipal + `"}},` +
				`{"key":"http.request.header.x-genops-customer-id","value":{"stringValue":"acme"}},` +
				`{"key":"http.request.header.x-genops-cost-center","value":{"stringValue":"cc-victim"}}]}]}]}]}`
			post(t, "http://"+s.otlpHTTP+"/v1/logs", "application/json", body)
			var spans strings.Builder
			spans.WriteString(`{"resourceSpans":[{"scopeSpans":[{"spans":[`)
			for i := range 300 {
				if i > 0 {
					spans.WriteString(",")
				}
				fmt.Fprintf(&spans, `{"traceId":"%032x","spanId":"%016x","name":"x","kind":2,"startTimeUnixNano":"1","endTimeUnixNano":"2",`+
					`"attributes":[{"key":"k8s.cluster.name","value":{"stringValue":"c%d"}},{"key":"k8s.pod.label.version","value":{"stringValue":"v%d"}}]}`, i+1, i+1, i, i)
			}
			spans.WriteString(`]}]}]}`)
			post(t, "http://"+s.otlpHTTP+"/v1/traces", "application/json", spans.String())
			s.col.Eventually(t, 30*time.Second, func() error {
				// Its 300 spans are its own requests; its access log is none:
				// a sidecar the platform did not inject is no proxy.
				if n, err := requests(s, map[string]string{"namespace": "byo", "service": "selfmade"}); err != nil || n != 300 {
					return fmt.Errorf("the self-declared sidecar's requests: %v %v", n, err)
				}
				if n, err := requests(s, map[string]string{"cluster": "c1"}); err != nil || n != 0 {
					return fmt.Errorf("a sender named the cluster: %v %v", n, err)
				}
				if n, err := requests(s, map[string]string{"version": "v1"}); err != nil || n != 0 {
					return fmt.Errorf("a sender named the version: %v %v", n, err)
				}
				return checkNoAttackerValues(s)
			})
		})
	})
}

func writeLog(t *testing.T, podDir, content string) {
	t.Helper()
	dir := filepath.Join(podDir, "istio-proxy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "0.log"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Authenticated ingest: with the distribution's bearertokenauth extension
// on the Zipkin listener, a span without the token is refused (401) and
// counts nowhere; with it, it is counted.
func TestBearerTokenIngest(t *testing.T) {
	zipkin, prom, health := collectortest.FreeAddr(t), collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	col := collectortest.StartConfigs(t, map[string]string{"E2E_HEALTH": health, "E2E_ZIPKIN": zipkin, "E2E_PROM": prom}, "testdata/bearer-token.yaml")
	col.WaitHealthy(t, health)
	span := func(id int) string {
		return fmt.Sprintf(`[{"traceId":"5af7183fb1d4cf5f5af7183fb1d4cf%02x","id":"6b221d5bc9e649%02x","kind":"SERVER","name":"get",`+
			`"timestamp":1764583200000000,"duration":1000,"localEndpoint":{"serviceName":"svc-%d"}}]`, id, id, id)
	}
	send := func(id int, token string) int {
		req, err := http.NewRequest(http.MethodPost, "http://"+zipkin+"/api/v2/spans", strings.NewReader(span(id)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send(1, ""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	if code := send(2, "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", code)
	}
	if code := send(3, "s3cret-token"); code/100 != 2 {
		t.Fatalf("right token: %d", code)
	}
	col.Eventually(t, 30*time.Second, func() error {
		families, err := collectortest.Scrape("http://" + prom + "/metrics")
		if err != nil {
			return err
		}
		samples := collectortest.Samples(families["genops_requests_total"])
		if len(collectortest.Matching(samples, map[string]string{"service": "svc-3"})) != 1 {
			return fmt.Errorf("the authenticated span is not counted: %v", samples)
		}
		if n := len(collectortest.Matching(samples, map[string]string{"service": "svc-1"})) + len(collectortest.Matching(samples, map[string]string{"service": "svc-2"})); n != 0 {
			return fmt.Errorf("unauthenticated spans counted: %v", samples)
		}
		return nil
	})
}

// chartMemoryLimitMiB is the chart's default memory limit; the chart sets
// GOMEMLIMIT to 80% of it.
const chartMemoryLimitMiB = 512

// bodyBound is the shipped configs' max_request_body_size.
const bodyBound = 2 << 20

// zipkinBody is a JSON array of SERVER spans of about size bytes.
func zipkinBody(size int) string {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; b.Len() < size-400; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"traceId":"%032x","id":"%016x","kind":"SERVER","name":"post /v1/chat/completions","timestamp":1764583200000000,`+
			`"duration":120000,"localEndpoint":{"serviceName":"llm","ipv4":"10.1.0.7"},"tags":{"http.status_code":"200",`+
			`"genops.customer_id":"cust-%d","user_agent":"python-httpx/0.27.0 %0100d"}}`, i+1, i+1, i, i)
	}
	b.WriteString("]")
	return b.String()
}

// The worst case of ingest against the chart's memory limit: the shipped
// gateway config, as the chart runs it (GOMEMLIMIT 80% of 512 MiB),
// takes Zipkin bodies at the 2 MiB bound from 16 senders at once, three
// times over; a body past the bound is refused. The peak resident memory
// (VmHWM) stays under the limit. The chart README ("Request size") has
// the arithmetic.
func TestIngestMemoryBound(t *testing.T) {
	cluster := startAdversaryCluster(t)
	s := startShipped(t, "gateway", cluster, fmt.Sprintf("GOMEMLIMIT=%dMiB", chartMemoryLimitMiB*8/10))
	body := zipkinBody(bodyBound)
	if len(body) > bodyBound {
		t.Fatalf("body %d bytes", len(body))
	}
	// Each sender from an address of its own (127.0.0.2 to 127.0.0.33):
	// the limit allows each client address two bodies in flight.
	clients := make([]*http.Client, 32)
	for i := range clients {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}}
		clients[i] = &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	var next atomic.Int32
	post := func(body string) (int, error) {
		c := clients[int(next.Add(1))%len(clients)]
		resp, err := c.Post("http://"+s.zipkin+"/api/v2/spans", "application/json", strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	// Peak anonymous memory, sampled through the load: the file-backed
	// part of RSS is the executable and the trace queue's memory-mapped
	// file (file_storage), page cache the kernel reclaims under the
	// pod's limit rather than killing it.
	pid := s.col.Cmd.Process.Pid
	stop, sampled := make(chan struct{}), make(chan int)
	go func() {
		peak := 0
		for {
			if kib := statusKiB(pid, "RssAnon:"); kib > peak {
				peak = kib
			}
			select {
			case <-stop:
				sampled <- peak
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	// Far more senders than the ingest_limit extension's sixteen reads
	// and four decoding slots: each body is either taken (2xx) or refused
	// with 503 before it is decoded.
	const senders, rounds = 64, 3
	taken, refused := 0, 0
	for range rounds {
		codes := make(chan int, senders)
		errs := make(chan error, senders)
		for range senders {
			go func() {
				code, err := post(body)
				errs <- err
				codes <- code
			}()
		}
		for range senders {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
			switch code := <-codes; {
			case code/100 == 2:
				taken++
			case code == http.StatusServiceUnavailable:
				refused++
			default:
				t.Fatalf("status %d", code)
			}
		}
	}
	time.Sleep(time.Second) // the pipeline drains
	close(stop)
	peakAnonKiB := <-sampled
	// A body past the bound is refused.
	if code, err := post(zipkinBody(bodyBound + 64<<10)); err != nil || code/100 == 2 {
		t.Errorf("a body over %d bytes: status %d %v", bodyBound, code, err)
	}
	t.Logf("%d senders x %d rounds of %.1f MiB Zipkin bodies (%d taken, %d refused): peak anonymous memory %.0f MiB (peak RSS with file pages %.0f MiB), chart limit %d MiB",
		senders, rounds, float64(len(body))/(1<<20), taken, refused, float64(peakAnonKiB)/1024, float64(statusKiB(pid, "VmHWM:"))/1024, chartMemoryLimitMiB)
	if taken < rounds*4 {
		t.Errorf("only %d bodies taken: the limit must admit its four slots' worth each round", taken)
	}
	// The refusals are counted where an operator looks.
	if refused > 0 {
		if v, err := counted(s, "genops_ingest_refused_total", map[string]string{"protocol": "http"}); err != nil || v != float64(refused) {
			t.Errorf("genops_ingest_refused_total{protocol=\"http\"} = %v (%v), want %d", v, err, refused)
		}
	}
	if peakAnonKiB == 0 || peakAnonKiB > chartMemoryLimitMiB*1024 {
		t.Errorf("peak anonymous memory %d KiB over the chart's %d MiB limit", peakAnonKiB, chartMemoryLimitMiB)
	}
}

// statusKiB reads one "Key: N kB" line of /proc/<pid>/status (0 if none).
func statusKiB(pid int, key string) int {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			var kib int
			fmt.Sscanf(rest, "%d", &kib)
			return kib
		}
	}
	return 0
}
