package e2e

import (
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/kubetest"
	"github.com/genops-mesh/otelcol-genops/test/thanostest"
)

// Scenario "tiered" (docs/scaling.md): the built distribution runs the
// shipped config/tiered-agent.yaml three times (one agent per node, each
// tailing its own node's sidecar logs) and config/tiered-gateway.yaml
// twice, with only listeners, paths, the cluster and remote write set by
// environment variables, against a real kube-apiserver holding 50
// services whose pods spread over the three nodes, the gateways writing
// into a real Thanos too. One more collector reads every node's logs
// alone (testdata/tiered-single.yaml): the baseline.

const (
	tieredServices = 50
	tieredNodes    = 3
)

// tieredPod is one pod of a service, on a node, with its log file.
type tieredPod struct {
	service, namespace, name, node, ip, log string
}

// tieredCluster creates the namespaces and pods: service i in namespace
// ns-(i%5), team-(i%4) by its pods' labels, with a pod on node i%3 and,
// for even i, one more on the next node (its series then add up across
// nodes, which is what a gateway tier is for); and the agents' pod in
// otelcol-genops at 127.0.0.1, where every collector here connects from.
func tieredCluster(t *testing.T, logs string) (*kubetest.Cluster, []tieredPod) {
	cluster := kubetest.Start(t)
	ctx := context.Background()
	for _, ns := range []string{"ns-0", "ns-1", "ns-2", "ns-3", "ns-4", "otelcol-genops"} {
		if _, err := cluster.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{"istio-injection": "enabled"}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	sidecar := map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}
	var pods []tieredPod
	for i := range tieredServices {
		nodes := []int{i % tieredNodes}
		if i%2 == 0 {
			nodes = append(nodes, (i+1)%tieredNodes)
		}
		for j, n := range nodes {
			p := tieredPod{service: fmt.Sprintf("svc-%02d", i), namespace: fmt.Sprintf("ns-%d", i%5),
				name: fmt.Sprintf("svc-%02d-%d", i, j), node: fmt.Sprintf("node-%d", n+1), ip: fmt.Sprintf("10.3.%d.%d", i, j+1)}
			created := cluster.RunningPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: p.namespace, Name: p.name, Annotations: sidecar,
				Labels: map[string]string{"app": p.service, "genops.ai/team": fmt.Sprintf("team-%d", i%4)}},
				Spec: corev1.PodSpec{NodeName: p.node}}, p.ip)
			dir := filepath.Join(logs, p.node, fmt.Sprintf("%s_%s_%s", p.namespace, p.name, created.UID), "istio-proxy")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			p.log = filepath.Join(dir, "0.log")
			pods = append(pods, p)
		}
	}
	cluster.RunningPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "otelcol-genops", Name: "agent-0"},
		Spec: corev1.PodSpec{NodeName: "node-1"}}, "127.0.0.1")
	return cluster, pods
}

// tieredTraffic appends requests to the pods' logs and keeps what the
// counters must say: requests by service and availability.
type tieredTraffic struct {
	t    *testing.T
	pods []tieredPod
	n    int
	want map[string]float64 // "service/good", "service/bad"
}

// write appends, to every pod's log, per requests of its own (1 to 4,
// by the pod) with every seventh one a 503; it returns what it wrote,
// by service and availability.
func (tr *tieredTraffic) write(per int) map[string]float64 {
	batch := map[string]float64{}
	for k, p := range tr.pods {
		var lines strings.Builder
		for range per * (1 + k%4) {
			status, availability := 200, "good"
			if tr.n%7 == 0 {
				status, availability = 503, "bad"
			}
			fmt.Fprintf(&lines, `2026-12-01T10:00:00.000000000Z stdout F {"start_time":"2026-12-01T10:00:00.000Z","method":"POST","path":"/v1/chat",`+
				`"protocol":"HTTP/2","response_code":%d,"duration":%d,"authority":"%s.%s:8080","upstream_cluster":"inbound|8080||",`+
				`"downstream_remote_address":"10.9.9.9:40000","request_id":"req-%d"}`+"\n", status, 5+tr.n%400, p.service, p.namespace, tr.n)
			batch[p.service+"/"+availability]++
			tr.n++
		}
		f, err := os.OpenFile(p.log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			tr.t.Fatal(err)
		}
		if _, err := f.WriteString(lines.String()); err != nil {
			tr.t.Fatal(err)
		}
		f.Close()
	}
	for k, v := range batch {
		tr.want[k] += v
	}
	return batch
}

// series is one scrape of genops_* series: the text of each sample's
// name and labels, and its value (a histogram: its count and its sum).
type series map[string]float64

func scrapeSeries(addr string) (series, error) {
	families, err := collectortest.Scrape("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	out := series{}
	for name, mf := range families {
		if !strings.HasPrefix(name, "genops_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			key := name + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Histogram != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
				out[key+"_sum"] = m.GetHistogram().GetSampleSum()
				for _, b := range m.GetHistogram().GetBucket() {
					out[fmt.Sprintf("%s_bucket_le_%g", key, b.GetUpperBound())] = float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return out, nil
}

// requestsBy sums genops_requests_total of s by service and availability.
func requestsBy(s series) map[string]float64 {
	out := map[string]float64{}
	for k, v := range s {
		if !strings.HasPrefix(k, "genops_requests_total{") {
			continue
		}
		var svc, availability string
		for _, l := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(k, "genops_requests_total{"), "}"), ",") {
			name, value, _ := strings.Cut(l, "=")
			switch name {
			case "service":
				svc = value
			case "availability":
				availability = value
			}
		}
		out[svc+"/"+availability] += v
	}
	return out
}

// sameValue compares two samples of one series: counts exactly, a
// histogram's sum of durations to 1e-12 relative (two processes add the
// same durations in another order, and floating-point addition rounds).
func sameValue(key string, a, b float64) bool {
	if !strings.HasSuffix(key, "_sum") {
		return a == b
	}
	return math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b))
}

func sameCounts(got, want map[string]float64) error {
	for k, v := range want {
		if got[k] != v {
			return fmt.Errorf("%s: %v requests, want %v", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok && v != 0 {
			return fmt.Errorf("%s: %v requests, want none", k, v)
		}
	}
	return nil
}

// tieredGatewayEnv is the environment of a gateway on the shipped
// config/tiered-gateway.yaml: every listener on a free port, its own state
// and ledger, the SLO file, a 200 ms flush, no Jaeger; and its OTLP,
// /metrics and health addresses. more is added over it.
func tieredGatewayEnv(t testing.TB, more map[string]string) (env map[string]string, otlp, prom, health string) {
	otlp, prom, health = collectortest.FreeAddr(t), collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	env = map[string]string{
		"GENOPS_OTLP_GRPC_ENDPOINT": otlp, "GENOPS_PROMETHEUS_ENDPOINT": prom, "GENOPS_HEALTH_ENDPOINT": health,
		"GENOPS_TELEMETRY_PORT": fmt.Sprint(collectortest.Port(t, collectortest.FreeAddr(t))), "GENOPS_STORAGE_DIR": t.TempDir(),
		"GENOPS_FLUSH_INTERVAL": "200ms", "GENOPS_LEDGER_DSN": "sqlite:" + filepath.Join(t.TempDir(), "ledger.db"),
		"JAEGER_OTLP_ENDPOINT": "127.0.0.1:1", "GENOPS_SLO_FILE": filepath.Join("..", "..", "config", "slo.yaml"),
	}
	maps.Copy(env, more)
	return env, otlp, prom, health
}

// startTieredAgent runs an agent on the shipped config/tiered-agent.yaml
// (and the further config files), tailing include and forwarding to
// gateways, every listener on a free port; more is added over its
// environment. It returns the agent and its Zipkin address.
func startTieredAgent(t testing.TB, gateways []string, include string, more map[string]string, files ...string) (*collectortest.Process, string) {
	zipkin, health := collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	env := map[string]string{
		"GENOPS_GATEWAYS": "[" + strings.Join(gateways, ", ") + "]", "GENOPS_LOG_INCLUDE": include,
		"GENOPS_ZIPKIN_ENDPOINT": zipkin, "GENOPS_OTLP_GRPC_ENDPOINT": collectortest.FreeAddr(t),
		"GENOPS_OTLP_HTTP_ENDPOINT": collectortest.FreeAddr(t), "GENOPS_HEALTH_ENDPOINT": health,
		"GENOPS_TELEMETRY_PORT": fmt.Sprint(collectortest.Port(t, collectortest.FreeAddr(t))), "GENOPS_STORAGE_DIR": t.TempDir(),
	}
	maps.Copy(env, more)
	agent := collectortest.StartConfigs(t, env, append([]string{filepath.Join("..", "..", "config", "tiered-agent.yaml")}, files...)...)
	agent.WaitHealthy(t, health)
	return agent, zipkin
}

// offGateway makes a gateway take every sender as an agent, as outside
// Kubernetes it must.
var offGateway = map[string]string{"GENOPS_KUBERNETES_MODE": "off", "GENOPS_FORWARDERS": "*"}

type tieredGateway struct {
	env          map[string]string
	prom, health string
	col          *collectortest.Process
	owned        map[string]bool // services whose series it exported
}

func (g *tieredGateway) start(t *testing.T) {
	t.Helper()
	g.col = collectortest.StartConfigs(t, g.env, filepath.Join("..", "..", "config", "tiered-gateway.yaml"))
	g.col.WaitHealthy(t, g.health)
}

// TestTieredExact: N known requests over 50 services, written on three
// nodes, counted by two gateways from what three agents forwarded. Their
// union equals the expected counts by service and availability, and
// every series of the single collector, value for value (buckets and
// sums included); no series is exported by both; and by PromQL the store
// they write into (Thanos) holds the same counts, each service's series
// from one replica. Then one gateway is
// killed (SIGKILL) while requests are being written, and started again:
// every request written before or after is counted exactly, the other
// gateway's services lose nothing, and what the killed one loses stays
// within the bound docs/scaling.md states: only requests of its own
// services, of the batch written around its death.
func TestTieredExact(t *testing.T) {
	logs := t.TempDir()
	cluster, pods := tieredCluster(t, logs)
	root := filepath.Join("..", "..")

	// The gateways also write into a scale-out store (Thanos: two
	// receivers on a hash ring, a querier).
	store := thanostest.Start(t, 2)
	gateways := make([]*tieredGateway, 2)
	var addrs []string
	for i := range gateways {
		g := &tieredGateway{}
		var otlp string
		g.env, otlp, g.prom, g.health = tieredGatewayEnv(t, map[string]string{"GENOPS_KUBECONFIG": cluster.Kubeconfig,
			"GENOPS_METRICS_EXPORTERS": "[prometheus, prometheus_remote_write]", "GENOPS_REMOTE_WRITE_URL": store.WriteURLs[i],
			"GENOPS_REPLICA": fmt.Sprintf("gateway-%d", i)})
		addrs = append(addrs, otlp)
		g.start(t)
		gateways[i] = g
	}
	for n := range tieredNodes {
		node := fmt.Sprintf("node-%d", n+1)
		startTieredAgent(t, addrs, filepath.Join(logs, node, "*", "istio-proxy", "*.log"),
			map[string]string{"K8S_NODE_NAME": node, "GENOPS_KUBECONFIG": cluster.Kubeconfig})
	}
	singleProm, singleHealth := collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	single := collectortest.StartConfigs(t, map[string]string{"E2E_HEALTH": singleHealth, "E2E_PROM": singleProm,
		"E2E_LOGS": logs, "E2E_KUBECONFIG": cluster.Kubeconfig, "E2E_SLO": filepath.Join(root, "config", "slo.yaml")}, "testdata/tiered-single.yaml")
	single.WaitHealthy(t, singleHealth)

	traffic := &tieredTraffic{t: t, pods: pods, want: map[string]float64{}}
	traffic.write(10)

	// All counted: the gateways' union is the single collector's.
	var union series
	gateways[0].col.Eventually(t, 90*time.Second, func() error {
		union = series{}
		for i, g := range gateways {
			s, err := scrapeSeries(g.prom)
			if err != nil {
				return err
			}
			g.owned = map[string]bool{}
			for k, v := range s {
				if _, dup := union[k]; dup {
					return fmt.Errorf("%s is exported by both gateways", k)
				}
				union[k] = v
				if strings.HasPrefix(k, "genops_requests_total{") {
					for svc := range requestsBy(series{k: v}) {
						g.owned[strings.Split(svc, "/")[0]] = true
					}
				}
			}
			if len(g.owned) == 0 {
				return fmt.Errorf("gateway %d counts no service", i)
			}
		}
		if err := sameCounts(requestsBy(union), traffic.want); err != nil {
			return fmt.Errorf("the gateways: %w", err)
		}
		s, err := scrapeSeries(singleProm)
		if err != nil {
			return err
		}
		if err := sameCounts(requestsBy(s), traffic.want); err != nil {
			return fmt.Errorf("the single collector: %w", err)
		}
		for k, v := range s {
			if !sameValue(k, union[k], v) {
				return fmt.Errorf("%s: the gateways say %v, one collector %v", k, union[k], v)
			}
		}
		for k := range union {
			if _, ok := s[k]; !ok {
				return fmt.Errorf("%s: the gateways have it, one collector has not", k)
			}
		}
		return nil
	})
	for svc := range gateways[0].owned {
		if gateways[1].owned[svc] {
			t.Fatalf("%s is counted by both gateways", svc)
		}
	}
	// The same through remote write, by PromQL on the store's querier.
	gateways[0].col.Eventually(t, 60*time.Second, func() error {
		if err := inStore(store.Query, traffic.want); err != nil {
			return fmt.Errorf("in the store: %w", err)
		}
		return nil
	})
	t.Logf("gateway 0 owns %d services, gateway 1 %d; %d series", len(gateways[0].owned), len(gateways[1].owned), len(union))

	// Kill gateway 0 while a batch is written, bring it back, write more.
	killed := gateways[0]
	before, err := scrapeSeries(killed.prom)
	if err != nil {
		t.Fatal(err)
	}
	around := map[string]float64{}
	for i := range 6 {
		for k, v := range traffic.write(1) {
			around[k] += v
		}
		if i == 2 {
			killed.col.Kill(t)
		}
		time.Sleep(100 * time.Millisecond)
	}
	killed.start(t)
	traffic.write(5)

	var lost, aroundKilled float64
	gateways[1].col.Eventually(t, 120*time.Second, func() error {
		lost, aroundKilled = 0, 0
		after, err := scrapeSeries(killed.prom)
		if err != nil {
			return err
		}
		other, err := scrapeSeries(gateways[1].prom)
		if err != nil {
			return err
		}
		// What Prometheus would add up across the restart: the last value
		// before it, plus the new process's.
		got := requestsBy(other)
		for k, v := range requestsBy(before) {
			got[k] += v
		}
		for k, v := range requestsBy(after) {
			got[k] += v
		}
		for k, want := range traffic.want {
			svc := strings.Split(k, "/")[0]
			switch {
			case !killed.owned[svc] && got[k] != want:
				return fmt.Errorf("%s (gateway 1's): %v requests, want %v", k, got[k], want)
			case killed.owned[svc] && (got[k] > want || got[k] < want-around[k]):
				return fmt.Errorf("%s (the killed gateway's): %v requests, want %v, or at most the %v written around its death fewer",
					k, got[k], want, around[k])
			case killed.owned[svc]:
				lost += want - got[k]
				aroundKilled += around[k]
			}
		}
		for svc := range requestsBy(after) {
			if name := strings.Split(svc, "/")[0]; !killed.owned[name] {
				return fmt.Errorf("after its restart the killed gateway counts %s, which was gateway 1's", name)
			}
		}
		s, err := scrapeSeries(singleProm)
		if err != nil {
			return err
		}
		return sameCounts(requestsBy(s), traffic.want)
	})
	t.Logf("the killed gateway lost %v of the %v requests of its services written around its death", lost, aroundKilled)
}

// startTieredWithoutKubernetes runs the shipped tiered configs as they
// are outside a cluster: gateways (each with the variables env gives it)
// taking every sender as an agent, and one agent forwarding to them. It
// returns the agent, its Zipkin address and the gateways' /metrics.
func startTieredWithoutKubernetes(t *testing.T, gateways int, env func(i int) map[string]string) (agent *collectortest.Process, zipkin string, proms []string) {
	t.Helper()
	var addrs []string
	for i := range gateways {
		more := maps.Clone(offGateway)
		if env != nil {
			maps.Copy(more, env(i))
		}
		vars, otlp, prom, health := tieredGatewayEnv(t, more)
		addrs, proms = append(addrs, otlp), append(proms, prom)
		col := collectortest.StartConfigs(t, vars, filepath.Join("..", "..", "config", "tiered-gateway.yaml"))
		col.WaitHealthy(t, health)
	}
	agent, zipkin = startTieredAgent(t, addrs, filepath.Join(t.TempDir(), "*.log"), map[string]string{"GENOPS_KUBERNETES_MODE": "off"})
	return agent, zipkin, proms
}

// TestTieredSpansWithoutKubernetes: the shipped tiered configs as they
// are outside a cluster (GENOPS_KUBERNETES_MODE=off, the gateways taking
// every sender as an agent: GENOPS_FORWARDERS='*'), one agent and two
// gateways. Zipkin traces whose SERVER spans belong to several services
// at once (what contrib's loadbalancing exporter would route whole, by
// the first span) are counted once per span, each service by one gateway.
func TestTieredSpansWithoutKubernetes(t *testing.T) {
	agent, zipkin, proms := startTieredWithoutKubernetes(t, 2, nil)

	// 10 traces, each a SERVER span of every one of 30 services (one of
	// five of them a 500). Without Kubernetes a span's app is what it
	// says (the app tag): the records are routed by it.
	want := map[string]float64{}
	for tr := range 10 {
		var spans []string
		for s := range 30 {
			status, availability := 200, "good"
			if (tr+s)%5 == 0 {
				status, availability = 500, "bad"
			}
			spans = append(spans, fmt.Sprintf(`{"traceId":"5af7183fb1d4cf5f5af7183fb1d4%04x","id":"6b221d5bc9e6%04x","kind":"SERVER","name":"post /v1/chat",`+
				`"timestamp":1764583200000000,"duration":%d,"localEndpoint":{"serviceName":"span-svc-%d"},"tags":{"http.status_code":"%d","app":"span-svc-%d"}}`,
				tr, tr*100+s, 1000*(s+1), s, status, s))
			want[fmt.Sprintf("span-svc-%d/%s", s, availability)]++
		}
		post(t, "http://"+zipkin+"/api/v2/spans", "application/json", "["+strings.Join(spans, ",")+"]")
	}
	agent.Eventually(t, 60*time.Second, func() error {
		union := series{}
		owner := map[string]int{}
		counts := make([]int, len(proms))
		for i, prom := range proms {
			s, err := scrapeSeries(prom)
			if err != nil {
				return err
			}
			for k, v := range s {
				union[k] = v
			}
			for svc := range requestsBy(s) {
				name := strings.Split(svc, "/")[0]
				if o, ok := owner[name]; ok && o != i {
					return fmt.Errorf("%s is counted by both gateways", name)
				}
				if _, ok := owner[name]; !ok {
					counts[i]++
				}
				owner[name] = i
			}
		}
		if err := sameCounts(requestsBy(union), want); err != nil {
			return err
		}
		// 30 keys on a ring of two: all on one has odds 2^-29.
		if counts[0] == 0 || counts[1] == 0 {
			return fmt.Errorf("services by gateway: %v, want both to count some", counts)
		}
		return nil
	})
}

// TestTieredRemoteWrite: two gateways write into a Prometheus-compatible
// store by remote write (nothing is scraped), each labelling what it
// writes with its replica's name: a real Prometheus's remote write
// receiver, which evaluates the generated SLO rules
// (deploy/generated/prometheus/slo-rules.yaml), and a real Thanos, two
// receivers on a hash ring (each gateway writes to one; a receiver
// forwards a series to the one that owns it) and a querier over both, on
// which the rules' expressions are evaluated. By PromQL: the counts by
// service and availability are the requests sent, every service's series
// come from one replica, and the support-bot SLOs' error ratios are the
// share of bad and of slow requests.
func TestTieredRemoteWrite(t *testing.T) {
	rules := filepath.Join("..", "..", "deploy", "generated", "prometheus", "slo-rules.yaml")
	t.Run("prometheus", func(t *testing.T) {
		prom := collectortest.StartPrometheusWith(t, collectortest.PrometheusOptions{RemoteWriteReceiver: true, RuleFiles: []string{rules}})
		remoteWrite(t, []string{"http://" + prom.Addr + "/api/v1/write"}, prom, func(slo string) string {
			return `slo:sli_error:ratio_rate5m{service="support-bot",slo="` + slo + `"}`
		})
	})
	t.Run("thanos", func(t *testing.T) {
		th := thanostest.Start(t, 2)
		remoteWrite(t, th.WriteURLs, th.Query, func(slo string) string {
			return recordingRule(t, rules, "slo:sli_error:ratio_rate5m", slo)
		})
		// The series are spread over both receivers (each announces its
		// receive_replica label): the store scaled out.
		rs, err := th.Query.Query(`count(count by (receive_replica) (genops_requests_total))`)
		if v, _ := first(rs); err != nil || len(rs) != 1 || v != 2 {
			t.Errorf("receivers holding genops_requests_total: %v %v", rs, err)
		}
	})
}

// inStore checks, by PromQL on a store, that genops_requests_total by
// service and availability is want and that each service's series come
// from one gateway replica (genops_replica).
func inStore(prom *collectortest.Prometheus, want map[string]float64) error {
	rs, err := prom.Query(`sum by (service, availability) (genops_requests_total)`)
	if err != nil {
		return err
	}
	got := map[string]float64{}
	for _, r := range rs {
		v, err := r.Float()
		if err != nil {
			return err
		}
		got[r.Metric["service"]+"/"+r.Metric["availability"]] = v
	}
	if err := sameCounts(got, want); err != nil {
		return err
	}
	rs, err = prom.Query(`count by (service) (count by (service, genops_replica) (genops_requests_total))`)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if v, err := r.Float(); err != nil || v != 1 {
			return fmt.Errorf("%s is written by %v replicas", r.Metric["service"], r.Value[1])
		}
	}
	return nil
}

// first is the value of a query's first sample (NaN when there is none).
func first(rs []collectortest.Result) (float64, error) {
	if len(rs) == 0 {
		return math.NaN(), fmt.Errorf("no sample")
	}
	return rs[0].Float()
}

// recordingRule is the expression of the rule that records name for the
// SLO slo in a generated rule file.
func recordingRule(t *testing.T, file, name, slo string) string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Record, Expr string
				Labels       map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Record == name && r.Labels["slo"] == slo {
				return r.Expr
			}
		}
	}
	t.Fatalf("%s has no rule recording %s for %s", file, name, slo)
	return ""
}

// remoteWrite runs two gateways writing to writeURLs (gateway i to
// writeURLs[i % len]) and checks what store answers by PromQL; errorRatio
// is the query of an SLO's 5-minute error ratio (prom: the store's
// Prometheus query API).
func remoteWrite(t *testing.T, writeURLs []string, prom *collectortest.Prometheus, errorRatio func(slo string) string) {
	agent, zipkin, _ := startTieredWithoutKubernetes(t, 2, func(i int) map[string]string {
		return map[string]string{"GENOPS_METRICS_EXPORTERS": "[prometheus, prometheus_remote_write]",
			"GENOPS_REMOTE_WRITE_URL": writeURLs[i%len(writeURLs)], "GENOPS_REPLICA": fmt.Sprintf("gateway-%d", i)}
	})
	// support-bot (ai) of the SLO file, and nine more services; one
	// support-bot request in four is a 503. Twice, a few seconds apart, so
	// that rates have two samples.
	want := map[string]float64{}
	send := func(round int) {
		var spans []string
		for s := range 10 {
			app, ns := fmt.Sprintf("rw-svc-%d", s), "rw"
			if s == 0 {
				app, ns = "support-bot", "ai"
			}
			for n := range 8 {
				status, availability := 200, "good"
				if s == 0 && n%4 == 0 {
					status, availability = 503, "bad"
				}
				spans = append(spans, fmt.Sprintf(`{"traceId":"6af7183fb1d4cf5f5af7183fb1d4%04x","id":"7b221d5bc9e6%04x","kind":"SERVER","name":"post /v1/chat",`+
					`"timestamp":1764583200000000,"duration":1000,"localEndpoint":{"serviceName":%q},`+
					`"tags":{"http.status_code":"%d","app":%q,"k8s.namespace.name":%q}}`, round, round*1000+s*10+n, app, status, app, ns))
				want[app+"/"+availability]++
			}
		}
		post(t, "http://"+zipkin+"/api/v2/spans", "application/json", "["+strings.Join(spans, ",")+"]")
	}
	send(0)
	agent.Eventually(t, 60*time.Second, func() error {
		rs, err := prom.Query(`sum by (service) (genops_requests_total)`)
		if err != nil || len(rs) != 10 {
			return fmt.Errorf("services in Prometheus: %v %v", rs, err)
		}
		return nil
	})
	time.Sleep(3 * time.Second)
	send(1)
	agent.Eventually(t, 60*time.Second, func() error {
		if err := inStore(prom, want); err != nil {
			return err
		}
		rs, err := prom.Query(`count(count by (genops_replica) (genops_requests_total))`)
		if v, _ := first(rs); err != nil || len(rs) != 1 || v != 2 {
			return fmt.Errorf("replicas that wrote: %v %v", rs, err)
		}
		// Availability: one in four bad; latency: every request (1 ms)
		// within its threshold.
		for slo, want := range map[string]float64{"support-bot-availability": 0.25, "support-bot-latency": 0} {
			rs, err = prom.Query(errorRatio(slo))
			if err != nil || len(rs) != 1 {
				return fmt.Errorf("the recording rule of %s: %v %v", slo, rs, err)
			}
			if v, _ := first(rs); math.Abs(v-want) > 1e-9 {
				return fmt.Errorf("%s error ratio %v, want %v", slo, v, want)
			}
		}
		return nil
	})
}
