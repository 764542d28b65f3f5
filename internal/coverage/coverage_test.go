package coverage

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

func ptr[T any](v T) *T { return &v }

type podSpec struct {
	ns, name, owner string
	labels, ann     map[string]string
	containers      []string
	nativeSidecar   string
	hostNetwork     bool
}

func pod(s podSpec) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: s.name, Labels: s.labels, Annotations: s.ann},
		Spec:       corev1.PodSpec{HostNetwork: s.hostNetwork},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	if s.owner != "" {
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: s.owner, Controller: ptr(true)}}
	}
	for _, c := range append([]string{"app"}, s.containers...) {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
	}
	if s.nativeSidecar != "" {
		p.Spec.InitContainers = []corev1.Container{{Name: s.nativeSidecar, RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways)}}
	}
	return p
}

func ns(name string, labels, ann map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: ann}}
}

// A cluster with one of each case: Istio by namespace label, revision,
// pod opt-out, never/always selectors; Linkerd by namespace annotation;
// OSM; Consul; an unmeshed namespace; native sidecars; teams from pod and
// namespace labels.
func cluster() []runtime.Object {
	injector := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "istio-system", Name: "istio-sidecar-injector"},
		Data: map[string]string{"config": `policy: enabled
neverInjectSelector:
  - matchLabels: {batch: "true"}
alwaysInjectSelector:
  - matchExpressions: [{key: always, operator: Exists}]
template: ignored
`},
	}
	return []runtime.Object{
		injector,
		ns("ai", map[string]string{"istio-injection": "enabled", "genops.ai/team": "ml-platform"}, nil),
		ns("rev", map[string]string{"istio.io/rev": "canary"}, nil),
		ns("off", map[string]string{"istio-injection": "disabled"}, nil),
		ns("lk", nil, map[string]string{"linkerd.io/inject": "enabled"}),
		ns("osm", map[string]string{"openservicemesh.io/monitored-by": "osm"}, map[string]string{"openservicemesh.io/sidecar-injection": "enabled"}),
		ns("plain", nil, nil),
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ai", Name: "llm-5d",
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "llm", Controller: ptr(true)}}}},
		pod(podSpec{ns: "ai", name: "llm-5d-a", owner: "llm-5d", containers: []string{"istio-proxy"}, labels: map[string]string{"genops.ai/team": "search"}}),
		pod(podSpec{ns: "ai", name: "llm-5d-b", owner: "llm-5d", labels: map[string]string{"genops.ai/team": "search"}}),
		pod(podSpec{ns: "ai", name: "job-x", labels: map[string]string{"batch": "true"}}),
		pod(podSpec{ns: "ai", name: "optout", labels: map[string]string{"sidecar.istio.io/inject": "false"}}),
		pod(podSpec{ns: "ai", name: "host", hostNetwork: true}),
		pod(podSpec{ns: "rev", name: "native", nativeSidecar: "istio-proxy"}),
		pod(podSpec{ns: "plain", name: "forced", labels: map[string]string{"sidecar.istio.io/inject": "true", "always": "x"}, containers: []string{"istio-proxy"}}),
		pod(podSpec{ns: "off", name: "nope", labels: map[string]string{"sidecar.istio.io/inject": "true"}}),
		pod(podSpec{ns: "lk", name: "web", containers: []string{"linkerd-proxy"}}),
		pod(podSpec{ns: "lk", name: "skip", ann: map[string]string{"linkerd.io/inject": "disabled"}}),
		pod(podSpec{ns: "osm", name: "bookstore", containers: []string{"envoy"}}),
		pod(podSpec{ns: "plain", name: "consul", ann: map[string]string{"consul.hashicorp.com/connect-inject": "true"}, containers: []string{"consul-dataplane"}}),
		pod(podSpec{ns: "plain", name: "lonely"}),
	}
}

func TestCollect(t *testing.T) {
	client := fake.NewClientset(cluster()...)
	r, err := Collect(context.Background(), client, Options{IstioNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		pods, meshed, attributed int
		injection                bool
		rule                     string
		team                     string
	}
	want := map[string]row{
		"ai/Deployment/llm": {2, 1, 2, true, "istio: namespace label istio-injection=enabled, policy enabled", "search"},
		"ai/Pod/job-x":      {1, 0, 1, false, "istio: neverInjectSelector batch=true", "ml-platform"},
		"ai/Pod/optout":     {1, 0, 1, false, "istio: pod label sidecar.istio.io/inject=false", "ml-platform"},
		"ai/Pod/host":       {1, 0, 1, false, "istio: hostNetwork pods are never injected", "ml-platform"},
		"rev/Pod/native":    {1, 1, 0, true, "istio: namespace label istio.io/rev=canary, policy enabled", ""},
		"plain/Pod/forced":  {1, 1, 0, true, "istio: pod label sidecar.istio.io/inject=true", ""},
		"off/Pod/nope":      {1, 0, 0, false, "istio: namespace label istio-injection=disabled", ""},
		"lk/Pod/web":        {1, 1, 0, true, "linkerd: namespace annotation linkerd.io/inject=enabled", ""},
		"lk/Pod/skip":       {1, 0, 0, false, "linkerd: pod annotation linkerd.io/inject=disabled", ""},
		"osm/Pod/bookstore": {1, 1, 0, true, "osm: namespace annotation openservicemesh.io/sidecar-injection=enabled", ""},
		"plain/Pod/consul":  {1, 1, 0, true, "consul: pod annotation consul.hashicorp.com/connect-inject=true", ""},
		"plain/Pod/lonely":  {1, 0, 0, false, "none: no mesh's injection rule selects it", ""},
	}
	if len(r.Workloads) != len(want) {
		t.Errorf("%d workloads, want %d: %+v", len(r.Workloads), len(want), r.Workloads)
	}
	for _, w := range r.Workloads {
		key := w.Namespace + "/" + w.Kind + "/" + w.Name
		x, ok := want[key]
		if !ok {
			t.Errorf("unexpected workload %s", key)
			continue
		}
		got := row{w.Pods, w.Meshed, w.Attributed, w.Injection, w.Rule, w.Team}
		if got != x {
			t.Errorf("%s:\n got %+v\nwant %+v", key, got, x)
		}
	}
	s := r.Summary
	if s.Pods != 13 || s.Meshed != 6 || s.Attributed != 5 {
		t.Errorf("summary %+v", s)
	}
	if Percent(s.MeshedShare) != "46.2%" {
		t.Errorf("meshed share %s", Percent(s.MeshedShare))
	}
}

// Without Istio's injector ConfigMap (or the right to read it) the report
// still comes, with Istio's default policy; one namespace limits it.
func TestCollectWithoutIstioConfig(t *testing.T) {
	var objs []runtime.Object
	for _, o := range cluster() {
		if _, isCM := o.(*corev1.ConfigMap); !isCM {
			objs = append(objs, o)
		}
	}
	r, err := Collect(context.Background(), fake.NewClientset(objs...), Options{Namespace: "ai", IstioNamespace: "istio-system"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range r.Workloads {
		if w.Namespace != "ai" {
			t.Errorf("namespace filter let %s through", w.Namespace)
		}
		if w.Name == "job-x" && (!w.Injection || w.Rule != "istio: namespace label istio-injection=enabled, policy enabled") {
			t.Errorf("job-x without the never selector: %+v", w)
		}
	}
	if r.Summary.Pods != 5 {
		t.Errorf("summary %+v", r.Summary)
	}
}

func TestBlindSpots(t *testing.T) {
	w := Workload{Pods: 2, Meshed: 1, Attributed: 0}
	if got := w.BlindSpots(); len(got) != 2 || got[0] != "unmeshed" || got[1] != "no team" {
		t.Fatalf("%v", got)
	}
	if got := (Workload{Pods: 1, Meshed: 1, Attributed: 1}).BlindSpots(); len(got) != 0 {
		t.Fatalf("%v", got)
	}
}
