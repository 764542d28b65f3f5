package k8smeta

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

func ptr[T any](v T) *T { return &v }

func testObjects() (*corev1.Namespace, *appsv1.ReplicaSet, *corev1.Pod) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ai", Labels: map[string]string{"genops.ai/cost-center": "cc-42"}}}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "llm-7d9f8b6c5", Namespace: "ai",
		OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "llm", Controller: ptr(true)}}}}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "llm-7d9f8b6c5-x2x9z", Namespace: "ai", UID: types.UID("5b1c6d9e-1111"),
			Labels:          map[string]string{"app": "llm", "version": "v2", "genops.ai/team": "ml-platform", "pod-template-hash": "7d9f8b6c5"},
			Annotations:     map[string]string{"big": "dropped by the transform"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "llm-7d9f8b6c5", Controller: ptr(true)}}},
		Spec:   corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "llm", Image: "llm:2"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.7", PodIPs: []corev1.PodIP{{IP: "10.0.0.7"}, {IP: "fd00::7"}}},
	}
	return ns, rs, pod
}

func startStore(t *testing.T, objs ...any) (*Store, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset()
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.Namespace:
			_, err = client.CoreV1().Namespaces().Create(context.Background(), o, metav1.CreateOptions{})
		case *appsv1.ReplicaSet:
			_, err = client.AppsV1().ReplicaSets(o.Namespace).Create(context.Background(), o, metav1.CreateOptions{})
		case *corev1.Pod:
			_, err = client.CoreV1().Pods(o.Namespace).Create(context.Background(), o, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(client, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s, client
}

func TestLookups(t *testing.T) {
	ns, rs, pod := testObjects()
	s, _ := startStore(t, ns, rs, pod)
	for name, lookup := range map[string]func() (Pod, bool){
		"uid":  func() (Pod, bool) { return s.PodByUID("5b1c6d9e-1111") },
		"ip":   func() (Pod, bool) { return s.PodByIP("10.0.0.7") },
		"ipv6": func() (Pod, bool) { return s.PodByIP("fd00::7") },
		"name": func() (Pod, bool) { return s.PodByName("ai", "llm-7d9f8b6c5-x2x9z") },
		// As Istio's destination_workload and Linkerd's dst_deployment
		// name it.
		"workload": func() (Pod, bool) { return s.PodByWorkload("ai", "llm") },
	} {
		p, ok := lookup()
		if !ok {
			t.Errorf("%s: not found", name)
			continue
		}
		if p.Name != "llm-7d9f8b6c5-x2x9z" || p.Labels["genops.ai/team"] != "ml-platform" || p.WorkloadKind != "Deployment" || p.WorkloadName != "llm" || p.Node != "node-1" {
			t.Errorf("%s: %+v", name, p)
		}
	}
	if _, ok := s.PodByIP("10.9.9.9"); ok {
		t.Error("an unknown IP was found")
	}
	if l, ok := s.NamespaceLabels("ai"); !ok || l["genops.ai/cost-center"] != "cc-42" {
		t.Errorf("namespace labels %v %v", l, ok)
	}
	obj, _, _ := s.pods.GetStore().GetByKey("ai/llm-7d9f8b6c5-x2x9z")
	if kept := obj.(*corev1.Pod); len(kept.Annotations) != 0 || len(kept.Spec.Containers) != 0 {
		t.Errorf("the transform kept more than lookups need: %+v", kept)
	}
}

// A relabelled pod is seen by the next lookup, through the watch.
func TestRelabelIsFollowed(t *testing.T) {
	ns, rs, pod := testObjects()
	s, client := startStore(t, ns, rs, pod)
	pod.Labels["genops.ai/team"] = "search"
	if _, err := client.CoreV1().Pods("ai").Update(context.Background(), pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if p, _ := s.PodByIP("10.0.0.7"); p.Labels["genops.ai/team"] == "search" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the relabel was not seen")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Only what a mesh's injector or the platform writes makes a pod a proxy:
// a container named istio-proxy does not.
func TestMeshProxy(t *testing.T) {
	for _, tc := range []struct {
		name string
		pod  corev1.Pod
		want string
	}{
		{"istio sidecar", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ai", Annotations: map[string]string{"sidecar.istio.io/status": "{}"}}}, ProxyIstio},
		{"istio managed gateway", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "edge", Labels: map[string]string{"gateway.istio.io/managed": "istio.io-gateway-controller"}}}, ProxyIstio},
		{"ztunnel", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "istio-system", Labels: map[string]string{"app": "ztunnel"}}}, ProxyIstio},
		{"classic ingress gateway", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "istio-ingress", Labels: map[string]string{"istio": "ingressgateway"}}}, ProxyIstio},
		{"istio label outside istio's namespaces", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "sandbox", Labels: map[string]string{"istio": "ingressgateway", "app": "ztunnel"}}}, ""},
		{"linkerd", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ai", Annotations: map[string]string{"linkerd.io/proxy-version": "edge-25.1.1"}}}, ProxyLinkerd},
		{"consul", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ai", Annotations: map[string]string{"consul.hashicorp.com/connect-inject-status": "injected"}}}, ProxyConsul},
		{"a container named istio-proxy", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "sandbox"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "istio-proxy"}}}}, ""},
	} {
		if got := MeshProxy(&tc.pod); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
		trimmed, _ := trimPod(&tc.pod)
		if got := MeshProxy(trimmed.(*corev1.Pod)); got != tc.want {
			t.Errorf("%s, trimmed: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A finished Job's pod keeps listing the IP the network has since given to
// another pod: traffic from that IP is the new pod's, even while the new
// one is still Pending (its init containers running), never the finished
// pod's (whose team would be billed).
func TestPodByIPSkipsFinishedPods(t *testing.T) {
	done := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pay-job-xyz", Namespace: "payments", UID: "uid-done"},
		Status: corev1.PodStatus{Phase: corev1.PodSucceeded, PodIP: "10.0.0.3"}}
	pending := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "att-init", Namespace: "attacker", UID: "uid-pending"},
		Status: corev1.PodStatus{Phase: corev1.PodPending, PodIP: "10.0.0.3"}}
	s, _ := startStore(t, done, pending)
	if p, ok := s.PodByIP("10.0.0.3"); !ok || p.Name != "att-init" {
		t.Errorf("PodByIP: %+v %v, want att-init", p, ok)
	}
	s, _ = startStore(t, done)
	if p, ok := s.PodByIP("10.0.0.3"); ok {
		t.Errorf("a finished pod answered: %+v", p)
	}
}
