// `make mutate` leaves this test out (-tags mutation): it starts a real
// kube-apiserver, about 6 s before the first unit test of each mutant
// runs. make test runs it.

//go:build !mutation

package governanceprocessor

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/processor/processortest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/genops-mesh/otelcol-genops/processor/governanceprocessor/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/test/kubetest"
)

// Against a real kube-apiserver and etcd (envtest), through the kubeconfig
// option a user sets: a pod with genops labels attributes the records
// addressed to its IP; a spoofed header from an untrusted caller loses to
// the label; relabelling the pod is followed by the next records.
func TestKubernetesIntegration(t *testing.T) {
	cluster := kubetest.Start(t)
	ctx := context.Background()
	core := cluster.Client.CoreV1()
	for _, ns := range []*corev1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: "ai", Labels: map[string]string{"genops.ai/cost-center": "cc-ai", "istio-injection": "enabled"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "sandbox", Labels: map[string]string{"istio-injection": "enabled"}}},
	} {
		if _, err := core.Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pod := func(ns, name, ip string, labels map[string]string) {
		t.Helper()
		cluster.RunningPod(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels,
			Annotations: map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}},
			Spec: corev1.PodSpec{NodeName: "node-1"}}, ip)
	}
	pod("ai", "llm-0", "10.1.0.7", map[string]string{"app": "llm", "genops.ai/team": "ml-platform"})
	pod("sandbox", "curl-0", "10.1.0.66", map[string]string{"app": "curl"})

	cfg := createDefaultConfig().(*Config)
	cfg.Kubernetes.Mode = KubernetesNode
	cfg.Kubernetes.NodeName = "node-1"
	cfg.Kubernetes.Kubeconfig = cluster.Kubeconfig
	// config/daemonset.yaml's rule: team headers only from the gateway.
	team := cfg.Dimensions[DimTeam]
	team.Trust = TrustWhenSourceMatches
	cfg.Dimensions[DimTeam] = team
	cfg.TrustedSources.Namespaces = []string{"api-gateway"}
	g, err := newGovernance(processortest.NewNopSettings(metadata.Type), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.start(ctx, componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.shutdown(ctx) })

	// The curl pod's sidecar logs an outbound call to the llm pod, with a
	// header claiming another team: curl is not a trusted source.
	record := func() map[string]any {
		ld := inbound("curl-0", "10.1.0.7", "", map[string]string{"x-genops-team": "billing"})
		ld.ResourceLogs().At(0).Resource().Attributes().PutStr("k8s.namespace.name", "sandbox")
		ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutStr("envoy.direction", "outbound")
		return attrsOf(t, g, ld)
	}
	got := record()
	for k, v := range map[string]any{
		"genops.team": "ml-platform", "genops.attribution.source": "pod_label", "genops.cost_center": "cc-ai",
		"app": "llm", "k8s.namespace.name": "ai", "source.app": "curl",
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}

	p, err := core.Pods("ai").Get(ctx, "llm-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Labels["genops.ai/team"] = "search"
	if _, err := core.Pods("ai").Update(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The informer's watch delivers the change; poll the next records
	// (a correctness wait, not a speed assertion).
	deadline := time.Now().Add(30 * time.Second)
	for record()["genops.team"] != "search" {
		if time.Now().After(deadline) {
			t.Fatalf("relabelled pod still attributed as %v", record()["genops.team"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
