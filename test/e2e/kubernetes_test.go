package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/kubetest"
)

// Scenario "pod labels": the distribution tails a sidecar's access log and
// attributes through a real kube-apiserver (envtest, via the kubeconfig
// option). The serving pod's team label always wins: with no header, over
// a spoofed header from an untrusted caller, and over a header from the
// trusted gateway (labels beat claims, docs/trust.md); each claim that
// lost is counted with its reason. The customer, which no label carries,
// is taken from the header only when the trusted gateway sent it.
func TestPodLabelsThroughTheDistribution(t *testing.T) {
	cluster := kubetest.Start(t)
	ctx := context.Background()
	core := cluster.Client.CoreV1()
	for _, ns := range []string{"ai", "sandbox", "api-gateway"} {
		if _, err := core.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{"istio-injection": "enabled"}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pod := func(ns, name, ip string, labels map[string]string) *corev1.Pod {
		t.Helper()
		return cluster.RunningPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels,
			Annotations: map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}},
			Spec: corev1.PodSpec{NodeName: "node-1"}}, ip)
	}
	llm := pod("ai", "llm-0", "10.1.0.7", map[string]string{"app": "llm", "genops.ai/team": "ml-platform", "genops.ai/project": "support-bot"})
	pod("sandbox", "curl-0", "10.1.0.66", map[string]string{"app": "curl"})
	pod("api-gateway", "gateway-0", "10.1.0.2", map[string]string{"app": "gateway"})

	// The llm pod's sidecar log, where kubelet keeps it.
	dir := t.TempDir()
	podDir := filepath.Join(dir, "pods", fmt.Sprintf("ai_llm-0_%s", llm.UID), "istio-proxy")
	if err := os.MkdirAll(podDir, 0o755); err != nil {
		t.Fatal(err)
	}
	line := func(peerIP, team string) string {
		return fmt.Sprintf(`2026-11-20T10:00:00.000000000Z stdout F [2026-11-20T10:00:00.000Z] "POST /v1/chat/completions HTTP/2" 200 - via_upstream - "-" 512 2048 120 100 "-" "python-httpx/0.27.0" "req-1" "llm.ai:8080" "10.1.0.7:8080" inbound|8080|| 127.0.0.6:51515 10.1.0.7:8080 %s:40000 - default "%s" "-" "cust-42" "-" "-" "-" "-" "-" "-" "-" "-" "-"`, peerIP, team)
	}
	lines := []string{
		line("10.1.0.66", "-"),       // no header: the pod's label
		line("10.1.0.66", "billing"), // spoofed from the sandbox: untrusted
		line("10.1.0.2", "search"),   // from the trusted gateway: the label still wins
	}
	if err := os.WriteFile(filepath.Join(podDir, "0.log"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	prom, health, telemetry := collectortest.FreeAddr(t), collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	col := collectortest.StartConfigs(t, map[string]string{"E2E_HEALTH": health, "E2E_PROM": prom, "E2E_LOGS": filepath.Join(dir, "pods"),
		"E2E_KUBECONFIG": cluster.Kubeconfig, "E2E_TELEMETRY_PORT": strconv.Itoa(collectortest.Port(t, telemetry))},
		"testdata/kubernetes.yaml", "testdata/telemetry.yaml")
	col.WaitHealthy(t, health)

	col.Eventually(t, 30*time.Second, func() error {
		families, err := collectortest.Scrape("http://" + prom + "/metrics")
		if err != nil {
			return err
		}
		samples := collectortest.Samples(families["genops_requests_total"])
		sum := func(label, value string) float64 {
			var v float64
			for _, s := range collectortest.Matching(samples, map[string]string{label: value, "namespace": "ai", "app": "llm"}) {
				v += s.Value
			}
			return v
		}
		if sum("genops_team", "ml-platform") != 3 || sum("genops_team", "search") != 0 || sum("genops_team", "billing") != 0 {
			return fmt.Errorf("requests by team: ml-platform %v, search %v, billing %v (all: %v)",
				sum("genops_team", "ml-platform"), sum("genops_team", "search"), sum("genops_team", "billing"), samples)
		}
		if sum("genops_customer_id", "cust-42") != 1 || sum("genops_customer_id", "unknown") != 2 {
			return fmt.Errorf("requests by customer: %v", samples)
		}
		own, err := collectortest.Scrape("http://" + telemetry + "/metrics")
		if err != nil {
			return err
		}
		for _, reason := range []string{"untrusted", "overridden"} {
			conflicts := collectortest.Matching(collectortest.Samples(own["genops_attribution_conflicts_total"]),
				map[string]string{"dimension": "team", "winner": "pod_label", "reason": reason})
			if len(conflicts) != 1 || conflicts[0].Value != 1 {
				return fmt.Errorf("team conflicts won by the pod label, %s: %v (families: %s)", reason, conflicts, collectortest.Names(own))
			}
		}
		return nil
	})
}
