// Package k8smeta keeps what governance needs to know about the cluster —
// pods (by UID, namespace/name and IP), their owning workloads and
// namespaces' labels — in client-go shared informers, so that the
// governance processor and `genopsctl coverage` look workloads up in memory
// instead of calling the API server per record.
//
// It follows client-go's own examples: shared informers with a transform
// that keeps only the fields used, indexers for the lookups,
// cache.WaitForCacheSync before serving, and a clean stop.
package k8smeta

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Pod is the part of a pod that attribution reads.
type Pod struct {
	Namespace, Name, UID, IP, Node string
	Labels                         map[string]string
	// Workload is the owning workload: Deployment (through its
	// ReplicaSet), StatefulSet, DaemonSet, Job, or the pod itself.
	WorkloadKind, WorkloadName string
	// Proxy is the mesh proxy the platform injected into the pod or
	// deployed it as (ProxyIstio, ProxyLinkerd, ProxyConsul), "" for none:
	// only such a pod's proxy log is an access log (docs/trust.md).
	Proxy string
	// Start is when the kubelet started the pod (its creation while it
	// is not scheduled): traffic from its IP before then was another
	// pod's.
	Start time.Time
	// Deleted is when the informer saw the pod deleted, for a pod kept
	// for its grace period; zero for a live one.
	Deleted time.Time
}

// Mesh proxies a pod may run, as Pod.Proxy names them.
const (
	ProxyIstio   = "istio"
	ProxyLinkerd = "linkerd"
	ProxyConsul  = "consul"
)

// MeshProxy tells which mesh proxy a pod says it runs, from the marks a
// mesh's injector or installer puts on it: Istio's sidecar.istio.io/status
// annotation (sidecars and injected gateways), the label of the gateways
// and waypoints Istio deploys (Gateway API), ztunnel and the classic
// ingress/egress gateways in Istio's istio-* namespaces; Linkerd's
// linkerd.io/proxy-version annotation; Consul's
// consul.hashicorp.com/connect-inject-status: injected. A container named
// istio-proxy proves nothing: any pod can have one. A pod's author can
// write these marks too, so Store.platformProxy also asks the namespace.
func MeshProxy(p *corev1.Pod) string {
	a, l := p.Annotations, p.Labels
	switch {
	case a[proxyAnnotation] != "": // already trimmed
		return a[proxyAnnotation]
	case a["sidecar.istio.io/status"] != "", l["gateway.istio.io/managed"] != "",
		strings.HasPrefix(p.Namespace, "istio-") && (l["app"] == "ztunnel" || l["istio"] != ""):
		return ProxyIstio
	case a["linkerd.io/proxy-version"] != "":
		return ProxyLinkerd
	case a["consul.hashicorp.com/connect-inject-status"] == "injected":
		return ProxyConsul
	}
	return ""
}

// proxyAnnotation is where trimPod keeps MeshProxy's answer (the pod's
// other annotations are dropped).
const proxyAnnotation = "otelcol-genops/mesh-proxy"

// Options choose what is watched.
type Options struct {
	// NodeName restricts pods to one node (agent mode); empty watches the
	// cluster (gateway mode).
	NodeName string
	// Resync is the informers' resync period; 0 disables it.
	Resync time.Duration
	// DeleteGracePeriod is how long a deleted pod still resolves by UID,
	// name and IP (DefaultDeleteGracePeriod is contrib's); 0 forgets it at
	// once.
	DeleteGracePeriod time.Duration
	// Now is the clock of the grace period; nil is time.Now.
	Now func() time.Time
	// OnError, when set, hears every error listing or watching a
	// resource (pods, namespaces, replicasets): those client-go's watch
	// error handler reports, and those of Start's probes. Start names the
	// last one when the caches do not sync.
	OnError func(resource string, err error)
}

// probeInterval is how often Start, while it waits for the caches, lists
// one object of each resource not yet synced, to learn why: client-go's
// streaming list (WatchListClient, on by default) retries an unreachable
// or failing API server with backoff and tells no one.
const probeInterval = 3 * time.Second

const (
	indexByIP       = "ip"
	indexByUID      = "uid"
	indexByWorkload = "workload"
)

// Store answers lookups from informer caches.
type Store struct {
	pods, namespaces, replicaSets cache.SharedIndexInformer
	factories                     []informers.SharedInformerFactory
	stop                          chan struct{}
	client                        kubernetes.Interface
	opts                          Options
	// lastErr is the last list or watch error, with its resource.
	lastErr atomic.Pointer[resourceError]
	// gone holds the pods deleted within the grace period.
	gone *deleted
	// resolved[uid] is the last answer for a pod (*resolvedPod): its
	// workload and proxy are worked out once per update of the pod or
	// its namespace, not per lookup. Deletion removes the entry.
	resolved sync.Map
	// listeners hear list and watch errors besides Options.OnError
	// (every user of a shared store).
	listenersMu  sync.Mutex
	listeners    map[int]func(string, error)
	nextListener int
}

// resolvedPod is a Pod worked out from these versions of the cached
// objects (the informer replaces the object on every update).
type resolvedPod struct {
	from, ns any
	pod      Pod
}

type resourceError struct {
	resource string
	err      error
}

// New sets up the informers; Start runs them.
func New(client kubernetes.Interface, opts Options) (*Store, error) {
	podFactory := informers.NewSharedInformerFactoryWithOptions(client, opts.Resync,
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
			if opts.NodeName != "" {
				lo.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", opts.NodeName).String()
			}
		}))
	factory := informers.NewSharedInformerFactory(client, opts.Resync)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{
		gone:        newDeleted(opts.DeleteGracePeriod, opts.Now),
		pods:        podFactory.Core().V1().Pods().Informer(),
		namespaces:  factory.Core().V1().Namespaces().Informer(),
		replicaSets: factory.Apps().V1().ReplicaSets().Informer(),
		factories:   []informers.SharedInformerFactory{podFactory, factory},
		stop:        make(chan struct{}),
		client:      client,
		opts:        opts,
	}
	for resource, inf := range map[string]cache.SharedIndexInformer{"pods": s.pods, "namespaces": s.namespaces, "replicasets": s.replicaSets} {
		if err := inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *cache.Reflector, err error) {
			s.report(resource, err)
			cache.DefaultWatchErrorHandler(ctx, r, err)
		}); err != nil {
			return nil, fmt.Errorf("%s watch error handler: %w", resource, err)
		}
	}
	// Keep only what lookups read: a node's pods are many and their specs
	// are large.
	if err := s.pods.SetTransform(trimPod); err != nil {
		return nil, fmt.Errorf("pod transform: %w", err)
	}
	if err := s.namespaces.SetTransform(trimMeta); err != nil {
		return nil, fmt.Errorf("namespace transform: %w", err)
	}
	if err := s.replicaSets.SetTransform(trimMeta); err != nil {
		return nil, fmt.Errorf("replicaset transform: %w", err)
	}
	if err := s.pods.AddIndexers(cache.Indexers{
		indexByIP: func(obj any) ([]string, error) {
			p, ok := obj.(*corev1.Pod)
			if !ok {
				return nil, nil
			}
			return podIPs(p)
		},
		// namespace/workload name, as Istio's destination_workload and
		// Linkerd's dst_deployment name it: a ReplicaSet's pods under
		// their Deployment (the ReplicaSet's name without the
		// pod-template-hash suffix, so no ReplicaSet lookup is needed at
		// index time), other controllers' under their own name.
		indexByWorkload: func(obj any) ([]string, error) {
			p, ok := obj.(*corev1.Pod)
			if !ok {
				return nil, nil
			}
			_, name := Workload(p, func(string, string) []metav1.OwnerReference { return nil })
			for _, ref := range p.OwnerReferences {
				if ref.Controller != nil && *ref.Controller && ref.Kind == "ReplicaSet" && p.Labels["pod-template-hash"] != "" {
					name = deploymentOf(p, ref.Name)
				}
			}
			return []string{p.Namespace + "/" + name}, nil
		},
		indexByUID: func(obj any) ([]string, error) {
			p, ok := obj.(*corev1.Pod)
			if !ok {
				return nil, nil
			}
			return []string{string(p.UID)}, nil
		},
	}); err != nil {
		return nil, fmt.Errorf("pod indexers: %w", err)
	}
	if _, err := s.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: func(obj any) {
			p, ok := deletedPod(obj)
			if !ok {
				return
			}
			s.gone.add(p, s.pod(p))
			s.resolved.Delete(string(p.UID))
		},
	}); err != nil {
		return nil, fmt.Errorf("pod delete handler: %w", err)
	}
	return s, nil
}

// podIPs are the IPs traffic from which is a pod's. Host-network pods
// share the node's IP. A finished pod (a Job's, kept after it completed)
// still lists an IP the network may have given to another pod: traffic
// from it is the new pod's, never the finished pod's.
func podIPs(p *corev1.Pod) ([]string, error) {
	if p.Spec.HostNetwork || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return nil, nil
	}
	var ips []string
	for _, ip := range p.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	if len(ips) == 0 && p.Status.PodIP != "" {
		ips = append(ips, p.Status.PodIP)
	}
	return ips, nil
}

func trimMeta(obj any) (any, error) {
	if m, ok := obj.(metav1.ObjectMetaAccessor); ok {
		meta := m.GetObjectMeta()
		meta.SetManagedFields(nil)
		var keep map[string]string
		if v := meta.GetAnnotations()[linkerdInject]; v != "" { // a namespace's injection (platformProxy)
			keep = map[string]string{linkerdInject: v}
		}
		meta.SetAnnotations(keep)
	}
	return obj, nil
}

func trimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	var annotations map[string]string
	if proxy := MeshProxy(p); proxy != "" {
		annotations = map[string]string{proxyAnnotation: proxy}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, UID: p.UID, Labels: p.Labels, Annotations: annotations,
			OwnerReferences: p.OwnerReferences, ResourceVersion: p.ResourceVersion, CreationTimestamp: p.CreationTimestamp,
		},
		Spec:   corev1.PodSpec{NodeName: p.Spec.NodeName, HostNetwork: p.Spec.HostNetwork},
		Status: corev1.PodStatus{PodIP: p.Status.PodIP, PodIPs: p.Status.PodIPs, Phase: p.Status.Phase, StartTime: p.Status.StartTime},
	}, nil
}

// Start runs the informers and waits until their caches are synced, at
// most until ctx ends.
func (s *Store) Start(ctx context.Context) error {
	for _, f := range s.factories {
		f.Start(s.stop)
	}
	// Expiry also runs on every deletion; this frees the last ones when
	// deletions stop, and the answers kept for pods no longer cached (a
	// lookup racing the pod's deletion stores one after the delete
	// handler removed it).
	sweep := s.gone.grace
	if sweep <= 0 {
		sweep = DefaultDeleteGracePeriod
	}
	go wait.Until(s.sweep, sweep, s.stop)
	lastProbe := time.Now()
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if s.pods.HasSynced() && s.namespaces.HasSynced() && s.replicaSets.HasSynced() {
			return true, nil
		}
		if time.Since(lastProbe) >= probeInterval {
			s.probe(ctx)
			lastProbe = time.Now()
		}
		return false, nil
	})
	if err != nil {
		if last := s.lastErr.Load(); last != nil {
			return fmt.Errorf("kubernetes caches did not sync (%w): the last API error (%s, listing %s) was: %w",
				ctx.Err(), ErrorKind(last.err), last.resource, last.err)
		}
		return fmt.Errorf("kubernetes caches did not sync (%w), with no API error: the API server answers slowly or the node has very many pods; raise kubernetes.sync_timeout", ctx.Err())
	}
	return nil
}

func (s *Store) report(resource string, err error) {
	s.lastErr.Store(&resourceError{resource, err})
	if s.opts.OnError != nil {
		s.opts.OnError(resource, err)
	}
	s.listenersMu.Lock()
	defer s.listenersMu.Unlock()
	for _, fn := range s.listeners {
		fn(resource, err)
	}
}

// probe lists one object of each resource whose cache is not synced, as
// the informer would (the node's pods only in agent mode), and reports
// the error, if any.
func (s *Store) probe(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, probeInterval)
	defer cancel()
	one := metav1.ListOptions{Limit: 1}
	if !s.pods.HasSynced() {
		pods := one
		if s.opts.NodeName != "" {
			pods.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", s.opts.NodeName).String()
		}
		if _, err := s.client.CoreV1().Pods("").List(ctx, pods); err != nil {
			s.report("pods", err)
		}
	}
	if !s.namespaces.HasSynced() {
		if _, err := s.client.CoreV1().Namespaces().List(ctx, one); err != nil {
			s.report("namespaces", err)
		}
	}
	if !s.replicaSets.HasSynced() {
		if _, err := s.client.AppsV1().ReplicaSets("").List(ctx, one); err != nil {
			s.report("replicasets", err)
		}
	}
}

// ErrorKind is the kind of a Kubernetes API error, as a metric label and
// a hint: unauthorized (the token), forbidden (RBAC), unreachable (the
// address or the network), timeout, expired (a watch that fell behind;
// client-go lists again by itself), other.
func ErrorKind(err error) string {
	var netErr net.Error
	switch {
	case apierrors.IsUnauthorized(err):
		return "unauthorized"
	case apierrors.IsForbidden(err):
		return "forbidden"
	case apierrors.IsResourceExpired(err) || apierrors.IsGone(err):
		return "expired"
	case apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return "timeout"
	case errors.As(err, &netErr), utilnet.IsConnectionRefused(err), utilnet.IsConnectionReset(err), strings.Contains(err.Error(), "no such host"):
		return "unreachable"
	}
	return "other"
}

// Stop stops the informers.
func (s *Store) Stop() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	for _, f := range s.factories {
		f.Shutdown()
	}
}

// platformProxy is MeshProxy's answer (kept by trimPod) when the
// platform, not only the pod's author, says the pod is meshed: a pod's
// author can write any annotation or label on it, so an Istio or Linkerd
// pod counts only in a namespace whose injection the platform enabled
// (Istio's istio-injection=enabled or istio.io/rev label, Linkerd's
// linkerd.io/inject: enabled annotation) or in Istio's own istio-*
// namespaces. Consul's injection is cluster-wide: its pod annotation is
// taken as it is.
func (s *Store) platformProxy(p *corev1.Pod) string {
	proxy := p.Annotations[proxyAnnotation]
	if proxy == "" || proxy == ProxyConsul || (proxy == ProxyIstio && strings.HasPrefix(p.Namespace, "istio-")) {
		return proxy
	}
	obj, ok, err := s.namespaces.GetStore().GetByKey(p.Namespace)
	if err != nil || !ok {
		return ""
	}
	ns := obj.(metav1.Object)
	switch proxy {
	case ProxyIstio:
		if l := ns.GetLabels(); l["istio-injection"] == "enabled" || l["istio.io/rev"] != "" {
			return proxy
		}
	case ProxyLinkerd:
		if ns.GetAnnotations()[linkerdInject] == "enabled" {
			return proxy
		}
	}
	return ""
}

const linkerdInject = "linkerd.io/inject"

// PodByUID finds a pod by its UID, also one deleted within the grace
// period.
func (s *Store) PodByUID(uid string) (Pod, bool) {
	if p, ok := s.byIndex(indexByUID, uid); ok {
		return p, true
	}
	return s.gone.uid(uid)
}

// PodByIP finds the pod that has this IP among pods that have not
// finished (the index leaves finished ones out); a running one wins. With
// no such pod, it is the last pod deleted within the grace period that
// had the IP.
func (s *Store) PodByIP(ip string) (Pod, bool) { return s.PodByIPAt(ip, time.Time{}) }

// PodByIPAt finds the pod that had this IP at time at (a request's start):
// the live pod if it had started by then; else a pod deleted within the
// grace period that was alive at that time (an IP reused by a new pod is
// the old pod's for requests before the new one started); else the live
// pod. A zero at is PodByIP.
func (s *Store) PodByIPAt(ip string, at time.Time) (Pod, bool) {
	live, ok := s.byIndex(indexByIP, ip)
	if ok && (at.IsZero() || !live.Start.After(at)) {
		return live, true
	}
	if p, found := s.gone.ip(ip, at); found {
		return p, true
	}
	return live, ok
}

// PodByWorkload finds a pod of a workload (Deployment, StatefulSet,
// DaemonSet, Job, or a bare pod) by namespace and workload name; a running
// pod wins. Pods of one workload share their template's labels.
func (s *Store) PodByWorkload(namespace, name string) (Pod, bool) {
	return s.byIndex(indexByWorkload, namespace+"/"+name)
}

// PodByName finds a pod by namespace and name, also one deleted within
// the grace period (when no live pod has the name).
func (s *Store) PodByName(namespace, name string) (Pod, bool) {
	obj, ok, err := s.pods.GetStore().GetByKey(namespace + "/" + name)
	if err != nil || !ok {
		return s.gone.name(namespace, name)
	}
	return s.pod(obj.(*corev1.Pod)), true
}

// Pods is the number of pods in the informer's cache.
func (s *Store) Pods() int { return len(s.pods.GetStore().ListKeys()) }

// Deleted is the number of deleted pods kept for their grace period.
func (s *Store) Deleted() int { return s.gone.size() }

// Resolved is the number of pods whose resolution is kept.
func (s *Store) Resolved() int {
	n := 0
	s.resolved.Range(func(any, any) bool { n++; return true })
	return n
}

func (s *Store) sweep() {
	s.gone.expire()
	s.resolved.Range(func(uid, _ any) bool {
		if objs, err := s.pods.GetIndexer().ByIndex(indexByUID, uid.(string)); err == nil && len(objs) == 0 {
			s.resolved.Delete(uid)
		}
		return true
	})
}

func (s *Store) byIndex(index, key string) (Pod, bool) {
	objs, err := s.pods.GetIndexer().ByIndex(index, key)
	if err != nil || len(objs) == 0 {
		return Pod{}, false
	}
	best := objs[0].(*corev1.Pod)
	for _, o := range objs[1:] {
		if p := o.(*corev1.Pod); p.Status.Phase == corev1.PodRunning {
			best = p
		}
	}
	return s.pod(best), true
}

// pod resolves a cached pod: its workload (through its ReplicaSet) and
// whether the platform meshed it (through its namespace), worked out again
// only when the pod or its namespace changed.
func (s *Store) pod(p *corev1.Pod) Pod {
	ns, _, _ := s.namespaces.GetStore().GetByKey(p.Namespace)
	if r, ok := s.resolved.Load(string(p.UID)); ok {
		if r := r.(*resolvedPod); r.from == any(p) && r.ns == ns {
			return r.pod
		}
	}
	out := Pod{Namespace: p.Namespace, Name: p.Name, UID: string(p.UID), IP: p.Status.PodIP, Node: p.Spec.NodeName, Labels: p.Labels,
		Proxy: s.platformProxy(p), Start: p.CreationTimestamp.Time}
	if p.Status.StartTime != nil {
		out.Start = p.Status.StartTime.Time
	}
	rsKnown := true
	out.WorkloadKind, out.WorkloadName = Workload(p, func(namespace, name string) []metav1.OwnerReference {
		if obj, ok, _ := s.replicaSets.GetStore().GetByKey(namespace + "/" + name); ok {
			return obj.(metav1.Object).GetOwnerReferences()
		}
		rsKnown = false
		return nil
	})
	// A Deployment deleted with its pods may lose its ReplicaSet from
	// the cache first: name the Deployment as the workload index does.
	if hash := p.Labels["pod-template-hash"]; !rsKnown && out.WorkloadKind == "ReplicaSet" && hash != "" && strings.HasSuffix(out.WorkloadName, "-"+hash) {
		out.WorkloadKind, out.WorkloadName = "Deployment", deploymentOf(p, out.WorkloadName)
	}
	s.resolved.Store(string(p.UID), &resolvedPod{from: p, ns: ns, pod: out})
	return out
}

// deploymentOf is the Deployment behind a pod's ReplicaSet as the
// Deployment controller names them: the ReplicaSet's name without the
// pod's pod-template-hash suffix.
func deploymentOf(p *corev1.Pod, replicaSet string) string {
	return strings.TrimSuffix(replicaSet, "-"+p.Labels["pod-template-hash"])
}

// Workload is a pod's owning workload: its controller (StatefulSet,
// DaemonSet, Job, …), the Deployment behind a ReplicaSet (whose owners
// replicaSetOwners returns), or the pod itself.
func Workload(p *corev1.Pod, replicaSetOwners func(namespace, name string) []metav1.OwnerReference) (kind, name string) {
	kind, name = "Pod", p.Name
	for _, ref := range p.OwnerReferences {
		if ref.Controller == nil || !*ref.Controller {
			continue
		}
		kind, name = ref.Kind, ref.Name
		if ref.Kind == "ReplicaSet" {
			for _, rsRef := range replicaSetOwners(p.Namespace, ref.Name) {
				if rsRef.Controller != nil && *rsRef.Controller && rsRef.Kind == "Deployment" {
					kind, name = "Deployment", rsRef.Name
				}
			}
		}
	}
	return kind, name
}

// NamespaceLabels returns a namespace's labels.
func (s *Store) NamespaceLabels(namespace string) (map[string]string, bool) {
	obj, ok, err := s.namespaces.GetStore().GetByKey(namespace)
	if err != nil || !ok {
		return nil, false
	}
	return obj.(metav1.Object).GetLabels(), true
}
