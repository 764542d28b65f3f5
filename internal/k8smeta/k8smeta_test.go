package k8smeta

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/genops-mesh/otelcol-genops/internal/k8smeta/k8smetatest"
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
	return startStoreWith(t, Options{}, objs...)
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

// clock is a settable clock for the grace period.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func startStoreWith(t *testing.T, opts Options, objs ...any) (*Store, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset()
	ctx := context.Background()
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.Namespace:
			_, err = client.CoreV1().Namespaces().Create(ctx, o, metav1.CreateOptions{})
		case *appsv1.ReplicaSet:
			_, err = client.AppsV1().ReplicaSets(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *corev1.Pod:
			_, err = client.CoreV1().Pods(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	watches := k8smetatest.Track(client)
	s, err := New(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	watches.Wait(t, "pods", "namespaces", "replicasets")
	return s, client
}

// eventually waits for the informer to deliver what cond looks for.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// The last lines of a pod are read after the API deleted it (the tail lags
// by a poll interval): within the grace period the pod still resolves by
// UID, name and IP, as it was, with its workload; after it, it does not,
// and the store forgets it.
func TestDeletedPodResolvesForTheGracePeriod(t *testing.T) {
	ns, rs, pod := testObjects()
	clk := &clock{now: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	s, client := startStoreWith(t, Options{DeleteGracePeriod: 2 * time.Minute, Now: clk.Now}, ns, rs, pod)
	if err := client.AppsV1().ReplicaSets("ai").Delete(context.Background(), rs.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := client.CoreV1().Pods("ai").Delete(context.Background(), pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deletion", func() bool { return s.Deleted() == 1 })
	clk.Add(2 * time.Minute)
	for name, lookup := range map[string]func() (Pod, bool){
		"uid":  func() (Pod, bool) { return s.PodByUID("5b1c6d9e-1111") },
		"ip":   func() (Pod, bool) { return s.PodByIP("10.0.0.7") },
		"name": func() (Pod, bool) { return s.PodByName("ai", "llm-7d9f8b6c5-x2x9z") },
	} {
		p, ok := lookup()
		// The ReplicaSet went first: the Deployment is still named.
		if !ok || p.Labels["genops.ai/team"] != "ml-platform" || p.WorkloadKind != "Deployment" || p.WorkloadName != "llm" {
			t.Errorf("%s within the grace period: %+v %v", name, p, ok)
		}
	}
	clk.Add(time.Second)
	for name, lookup := range map[string]func() (Pod, bool){
		"uid":  func() (Pod, bool) { return s.PodByUID("5b1c6d9e-1111") },
		"ip":   func() (Pod, bool) { return s.PodByIP("10.0.0.7") },
		"name": func() (Pod, bool) { return s.PodByName("ai", "llm-7d9f8b6c5-x2x9z") },
	} {
		if p, ok := lookup(); ok {
			t.Errorf("%s after the grace period: %+v", name, p)
		}
	}
	s.sweep()
	if s.Deleted() != 0 || s.Resolved() != 0 {
		t.Errorf("after the grace period the store keeps %d deleted pods and %d resolved", s.Deleted(), s.Resolved())
	}
}

// With no grace period a deleted pod is forgotten at once.
func TestNoGracePeriod(t *testing.T) {
	ns, rs, pod := testObjects()
	s, client := startStoreWith(t, Options{}, ns, rs, pod)
	if _, ok := s.PodByUID("5b1c6d9e-1111"); !ok {
		t.Fatal("the pod is not found")
	}
	if err := client.CoreV1().Pods("ai").Delete(context.Background(), pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deletion", func() bool { _, ok := s.PodByUID("5b1c6d9e-1111"); return !ok })
	if _, ok := s.PodByIP("10.0.0.7"); ok {
		t.Error("the deleted pod's IP resolves")
	}
}

// An IP the network gives to a new pod is the old pod's for requests that
// started while the old pod was alive, and the new pod's for requests
// after the new pod started.
func TestReusedIPByRequestTime(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	clk := &clock{now: t0.Add(10 * time.Minute)}
	old := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "batch-a", Namespace: "ai", UID: "uid-a", Labels: map[string]string{"genops.ai/team": "a"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.9", StartTime: &metav1.Time{Time: t0}}}
	s, client := startStoreWith(t, Options{DeleteGracePeriod: 2 * time.Minute, Now: clk.Now}, old)
	if err := client.CoreV1().Pods("ai").Delete(context.Background(), "batch-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deletion", func() bool { return s.Deleted() == 1 })
	deletedAt := clk.Now()
	started := deletedAt.Add(5 * time.Second)
	clk.Add(10 * time.Second)
	reuser := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "batch-b", Namespace: "ai", UID: "uid-b", Labels: map[string]string{"genops.ai/team": "b"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.9", StartTime: &metav1.Time{Time: started}}}
	if _, err := client.CoreV1().Pods("ai").Create(context.Background(), reuser, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new pod", func() bool { _, ok := s.PodByUID("uid-b"); return ok })
	for _, tc := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"a request while the old pod ran", deletedAt.Add(-30 * time.Second), "batch-a"},
		{"a request at the old pod's deletion", deletedAt, "batch-a"},
		{"a request between the two", deletedAt.Add(2 * time.Second), "batch-b"},
		{"a request after the new pod started", started, "batch-b"},
		{"a request of unknown time", time.Time{}, "batch-b"},
	} {
		if p, ok := s.PodByIPAt("10.0.0.9", tc.at); !ok || p.Name != tc.want {
			t.Errorf("%s: %q %v, want %s", tc.name, p.Name, ok, tc.want)
		}
	}
}

// A finished pod that is deleted leaves no IP behind: the network may have
// given it to another pod already.
func TestDeletedFinishedPodKeepsNoIP(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	done := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "job-x", Namespace: "ai", UID: "uid-x"},
		Status: corev1.PodStatus{Phase: corev1.PodSucceeded, PodIP: "10.0.0.4"}}
	s, client := startStoreWith(t, Options{DeleteGracePeriod: time.Minute, Now: clk.Now}, done)
	if err := client.CoreV1().Pods("ai").Delete(context.Background(), "job-x", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deletion", func() bool { return s.Deleted() == 1 })
	if p, ok := s.PodByIP("10.0.0.4"); ok {
		t.Errorf("a finished, deleted pod answered for its IP: %+v", p)
	}
	if _, ok := s.PodByUID("uid-x"); !ok {
		t.Error("the finished pod does not resolve by UID within the grace period")
	}
}

// Churn leaves nothing behind: the store holds the pods alive plus those
// deleted within one grace period, however many it has seen.
func TestChurnIsBounded(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	s, client := startStoreWith(t, Options{DeleteGracePeriod: time.Minute, Now: clk.Now})
	ctx := context.Background()
	for i := range 200 {
		name := fmt.Sprintf("job-%d", i)
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ci", UID: types.UID("uid-" + name)},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.1.%d.%d", i/250, i%250)}}
		if _, err := client.CoreV1().Pods("ci").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the pod", func() bool { _, ok := s.PodByUID("uid-" + name); return ok })
		if err := client.CoreV1().Pods("ci").Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the deletion", func() bool { _, ok := s.gone.uid("uid-" + name); return ok })
		clk.Add(time.Second) // 60 deletions per grace period
	}
	if n := s.Deleted(); n > 61 {
		t.Errorf("%d deleted pods kept; at most one grace period's (61)", n)
	}
	s.gone.mu.RLock()
	sizes := []int{len(s.gone.byUID), len(s.gone.byName), len(s.gone.byIP), len(s.gone.queue)}
	s.gone.mu.RUnlock()
	for _, n := range sizes {
		if n > 61 {
			t.Errorf("internal sizes %v: one grows with the pods seen", sizes)
		}
	}
	clk.Add(2 * time.Minute)
	s.sweep()
	if s.Deleted() != 0 || s.Resolved() != 0 {
		t.Errorf("after churn stopped: %d deleted, %d resolved kept", s.Deleted(), s.Resolved())
	}
}
