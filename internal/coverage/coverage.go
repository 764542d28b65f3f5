// Package coverage answers, for `genopsctl coverage`, which workloads the
// mesh and GenOps can see: whether their pods run a mesh proxy, whether
// injection is on for them and by which rule, and whether they carry a
// team. Blind spots — unmeshed pods and pods without a team — are the
// point of the report.
//
// The injection rules are the meshes' own, written out here because no
// library exposes them without importing the mesh's control plane:
//
//   - Istio (istiod's injectRequired): hostNetwork pods and kube-system /
//     kube-public are never injected; the webhook only sees pods of a
//     namespace labelled istio-injection=enabled or istio.io/rev=…, or pods
//     labelled sidecar.istio.io/inject=true, and never of a namespace
//     labelled istio-injection=disabled; then the pod's
//     sidecar.istio.io/inject label or annotation, then the injector
//     config's neverInjectSelector, alwaysInjectSelector and policy (the
//     istio-sidecar-injector ConfigMap).
//   - Linkerd: the pod's linkerd.io/inject annotation, else the namespace's.
//   - OSM: the namespace must be monitored (openservicemesh.io/monitored-by
//     label); then the pod's openservicemesh.io/sidecar-injection
//     annotation, else the namespace's.
//   - Consul: the pod's consul.hashicorp.com/connect-inject annotation.
package coverage

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/genops-mesh/otelcol-genops/internal/k8smeta"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// Options choose what is read.
type Options struct {
	// Namespace limits the report to one namespace; empty reads all.
	Namespace string
	// IstioNamespace holds the istio-sidecar-injector ConfigMap.
	IstioNamespace string
}

// Workload is one row of the report.
type Workload struct {
	Namespace string `json:"namespace"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Pods      int    `json:"pods"`
	// Meshed pods run a mesh proxy container (native sidecars in
	// initContainers count).
	Meshed int    `json:"meshed"`
	Proxy  string `json:"proxy,omitempty"`
	// Injection says whether the meshes' rules inject the workload's pods,
	// and Rule which rule decided it.
	Injection bool   `json:"injection"`
	Rule      string `json:"rule"`
	// Attributed pods have a team from their labels or their namespace's.
	Attributed int    `json:"attributed"`
	Team       string `json:"team,omitempty"`
	TeamSource string `json:"team_source,omitempty"`
}

// BlindSpots names what the workload hides: "unmeshed", "no team".
func (w Workload) BlindSpots() []string {
	var out []string
	if w.Meshed < w.Pods {
		out = append(out, "unmeshed")
	}
	if w.Attributed < w.Pods {
		out = append(out, "no team")
	}
	return out
}

// Summary counts pods over the whole report.
type Summary struct {
	Pods            int     `json:"pods"`
	Meshed          int     `json:"meshed"`
	Attributed      int     `json:"attributed"`
	MeshedShare     float64 `json:"meshed_share"`
	AttributedShare float64 `json:"attributed_share"`
}

// Report is what `genopsctl coverage` prints.
type Report struct {
	Workloads []Workload `json:"workloads"`
	Summary   Summary    `json:"summary"`
}

// Injector is Istio's sidecar injector configuration (the parts that
// decide injection).
type Injector struct {
	Policy               string                 `json:"policy"`
	NeverInjectSelector  []metav1.LabelSelector `json:"neverInjectSelector"`
	AlwaysInjectSelector []metav1.LabelSelector `json:"alwaysInjectSelector"`
}

// Collect reads pods, namespaces, replicasets and Istio's injector config
// from the cluster and builds the report.
func Collect(ctx context.Context, client kubernetes.Interface, opts Options) (*Report, error) {
	pods, err := client.CoreV1().Pods(opts.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	nsList, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	rsList, err := client.AppsV1().ReplicaSets(opts.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing replicasets: %w", err)
	}
	var injector *Injector
	if opts.IstioNamespace != "" {
		cm, err := client.CoreV1().ConfigMaps(opts.IstioNamespace).Get(ctx, "istio-sidecar-injector", metav1.GetOptions{})
		switch {
		case err == nil:
			injector = &Injector{}
			if err := yaml.Unmarshal([]byte(cm.Data["config"]), injector); err != nil {
				return nil, fmt.Errorf("%s/istio-sidecar-injector: %w", opts.IstioNamespace, err)
			}
		case apierrors.IsNotFound(err) || apierrors.IsForbidden(err):
			// No Istio, or not ours to read: its namespace and pod labels
			// still decide; policy is Istio's default.
		default:
			return nil, fmt.Errorf("reading Istio's injector config: %w", err)
		}
	}
	namespaces := map[string]corev1.Namespace{}
	for _, ns := range nsList.Items {
		namespaces[ns.Name] = ns
	}
	rsOwners := map[string][]metav1.OwnerReference{}
	for _, rs := range rsList.Items {
		rsOwners[rs.Namespace+"/"+rs.Name] = rs.OwnerReferences
	}
	return Analyze(pods.Items, namespaces, rsOwners, injector), nil
}

// Analyze builds the report from objects already read.
func Analyze(pods []corev1.Pod, namespaces map[string]corev1.Namespace, rsOwners map[string][]metav1.OwnerReference, injector *Injector) *Report {
	byKey := map[string]*Workload{}
	var keys []string
	for i := range pods {
		p := &pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		kind, name := k8smeta.Workload(p, func(ns, rs string) []metav1.OwnerReference { return rsOwners[ns+"/"+rs] })
		key := p.Namespace + "/" + kind + "/" + name
		w, ok := byKey[key]
		ns := namespaces[p.Namespace]
		if !ok {
			w = &Workload{Namespace: p.Namespace, Kind: kind, Name: name}
			w.Injection, w.Rule = Injected(p, &ns, injector)
			byKey[key] = w
			keys = append(keys, key)
		}
		w.Pods++
		if proxy := Proxy(p); proxy != "" {
			w.Meshed++
			w.Proxy = proxy
		}
		if team, source := Team(p, &ns); team != "" {
			w.Attributed++
			if w.Team == "" {
				w.Team, w.TeamSource = team, source
			}
		}
	}
	sort.Strings(keys)
	r := &Report{Workloads: []Workload{}}
	for _, k := range keys {
		w := *byKey[k]
		r.Workloads = append(r.Workloads, w)
		r.Summary.Pods += w.Pods
		r.Summary.Meshed += w.Meshed
		r.Summary.Attributed += w.Attributed
	}
	if r.Summary.Pods > 0 {
		r.Summary.MeshedShare = float64(r.Summary.Meshed) / float64(r.Summary.Pods)
		r.Summary.AttributedShare = float64(r.Summary.Attributed) / float64(r.Summary.Pods)
	}
	return r
}

// proxyContainers are the container names the meshes inject.
var proxyContainers = map[string]bool{
	"istio-proxy":      true, // Istio
	"linkerd-proxy":    true, // Linkerd
	"envoy":            true, // OSM
	"envoy-sidecar":    true, // Consul (before dataplane)
	"consul-dataplane": true, // Consul
}

// Proxy returns the name of the pod's mesh proxy container, or "". A proxy
// in initContainers counts only as a native sidecar (restartPolicy Always).
func Proxy(p *corev1.Pod) string {
	for _, c := range p.Spec.Containers {
		if proxyContainers[c.Name] {
			return c.Name
		}
	}
	for _, c := range p.Spec.InitContainers {
		if proxyContainers[c.Name] && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			return c.Name
		}
	}
	return ""
}

// Team is the pod's team and where it came from: the pod's genops.ai/team
// label, else its namespace's.
func Team(p *corev1.Pod, ns *corev1.Namespace) (team, source string) {
	key := semconv.LabelTeam
	if v := p.Labels[key]; v != "" {
		return v, "pod_label"
	}
	if v := ns.Labels[key]; v != "" {
		return v, "namespace_label"
	}
	return "", ""
}

// Injected decides whether a mesh injects the pod, and by which rule.
func Injected(p *corev1.Pod, ns *corev1.Namespace, injector *Injector) (bool, string) {
	if ok, rule, decided := istio(p, ns, injector); decided {
		return ok, rule
	}
	if v, where := annotation(p, ns, "linkerd.io/inject"); v != "" {
		return v == "enabled" || v == "ingress", fmt.Sprintf("linkerd: %s annotation linkerd.io/inject=%s", where, v)
	}
	if _, monitored := ns.Labels["openservicemesh.io/monitored-by"]; monitored {
		v, where := annotation(p, ns, "openservicemesh.io/sidecar-injection")
		if v == "" {
			return false, "osm: monitored namespace without sidecar-injection enabled"
		}
		return v == "enabled", fmt.Sprintf("osm: %s annotation openservicemesh.io/sidecar-injection=%s", where, v)
	}
	if v := p.Annotations["consul.hashicorp.com/connect-inject"]; v != "" {
		return v == "true", "consul: pod annotation consul.hashicorp.com/connect-inject=" + v
	}
	return false, "none: no mesh's injection rule selects it"
}

func annotation(p *corev1.Pod, ns *corev1.Namespace, key string) (value, where string) {
	if v := p.Annotations[key]; v != "" {
		return v, "pod"
	}
	if v := ns.Annotations[key]; v != "" {
		return v, "namespace"
	}
	return "", ""
}

// istio follows istiod's webhook selection and injectRequired. decided is
// false when Istio has no say over the pod (its webhook never sees it and
// nothing Istio-specific is set), so other meshes' rules apply.
func istio(p *corev1.Pod, ns *corev1.Namespace, injector *Injector) (inject bool, rule string, decided bool) {
	const podKey = "sidecar.istio.io/inject"
	nsLabel, nsLabelled := ns.Labels["istio-injection"]
	rev, revLabelled := ns.Labels["istio.io/rev"]
	podLabel := p.Labels[podKey]
	switch {
	case nsLabelled && nsLabel == "disabled":
		return false, "istio: namespace label istio-injection=disabled", true
	case nsLabelled && nsLabel == "enabled", revLabelled, podLabel == "true":
	default:
		if podLabel != "" || p.Annotations[podKey] != "" {
			return false, "istio: " + podKey + " set, but the namespace is not labelled for injection", true
		}
		return false, "", false
	}
	if p.Spec.HostNetwork {
		return false, "istio: hostNetwork pods are never injected", true
	}
	if ns.Name == "kube-system" || ns.Name == "kube-public" {
		return false, "istio: " + ns.Name + " is never injected", true
	}
	if podLabel != "" {
		return podLabel == "true", "istio: pod label " + podKey + "=" + podLabel, true
	}
	if v := p.Annotations[podKey]; v != "" {
		return v == "true", "istio: pod annotation " + podKey + "=" + v, true
	}
	policy := "enabled"
	if injector != nil {
		for _, sel := range injector.NeverInjectSelector {
			if matches(sel, p.Labels) {
				return false, "istio: neverInjectSelector " + metav1.FormatLabelSelector(&sel), true
			}
		}
		for _, sel := range injector.AlwaysInjectSelector {
			if matches(sel, p.Labels) {
				return true, "istio: alwaysInjectSelector " + metav1.FormatLabelSelector(&sel), true
			}
		}
		if injector.Policy != "" {
			policy = injector.Policy
		}
	}
	why := "namespace label istio-injection=enabled"
	if !nsLabelled || nsLabel != "enabled" {
		if revLabelled {
			why = "namespace label istio.io/rev=" + rev
		} else {
			why = "pod label " + podKey + "=true"
		}
	}
	return policy == "enabled", fmt.Sprintf("istio: %s, policy %s", why, policy), true
}

func matches(sel metav1.LabelSelector, podLabels map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(&sel)
	if err != nil || s.Empty() {
		return false
	}
	return s.Matches(labels.Set(podLabels))
}

// Percent formats a share for the table.
func Percent(share float64) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", share*100), "0"), ".") + "%"
}
