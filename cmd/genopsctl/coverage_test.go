package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/genops-mesh/otelcol-genops/internal/coverage"
	"github.com/genops-mesh/otelcol-genops/test/kubetest"
)

// genopsctl coverage against a real kube-apiserver, through a kubeconfig:
// an Istio-injected namespace with a meshed, labelled pod and an opted-out
// pod, and an unmeshed namespace.
func TestCoverageCommand(t *testing.T) {
	cluster := kubetest.Start(t)
	ctx := context.Background()
	core := cluster.Client.CoreV1()
	for _, ns := range []*corev1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: "ai", Labels: map[string]string{"istio-injection": "enabled"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "legacy"}},
	} {
		if _, err := core.Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ai", Name: "llm", Labels: map[string]string{"genops.ai/team": "ml-platform"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "llm:1"}, {Name: "istio-proxy", Image: "proxyv2:1"}}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ai", Name: "batch", Labels: map[string]string{"sidecar.istio.io/inject": "false"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "batch:1"}}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "legacy", Name: "cron"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "cron:1"}}}},
	} {
		if _, err := core.Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	out, err := run(t, "coverage", "--kubeconfig", cluster.Kubeconfig)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"ai         Pod/llm    1     1       on: istio: namespace label istio-injection=enabled, policy enabled  ml-platform (pod)  -",
		"ai         Pod/batch  1     0       off: istio: pod label sidecar.istio.io/inject=false",
		"unmeshed, no team",
		"legacy     Pod/cron   1     0       off: none: no mesh's injection rule selects it",
		"3 pods: 1 meshed (33.3%), 1 attributed to a team (33.3%)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	out, err = run(t, "coverage", "--kubeconfig", cluster.Kubeconfig, "-n", "ai", "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var r coverage.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if r.Summary.Pods != 2 || r.Summary.Meshed != 1 || len(r.Workloads) != 2 {
		t.Errorf("json report %+v", r)
	}

	if out, err := run(t, "coverage", "--kubeconfig", cluster.Kubeconfig, "-o", "yaml"); err == nil || !strings.Contains(out, "use table or json") {
		t.Errorf("bad -o accepted: %v\n%s", err, out)
	}
}
