package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/genops-mesh/otelcol-genops/internal/fixtures"
	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/kubetest"
)

// serveFixture serves a real proxy scrape on a free 127.0.0.1 port, as
// the proxy would, and returns the port.
func serveFixture(t *testing.T, path, file string) int {
	t.Helper()
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(body)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// Proxy metrics without access logs: the real Istio sidecar and Linkerd
// proxy scrapes (../shared/fixtures) are served locally; the distribution
// discovers their pods through kubernetes_sd_configs against envtest's
// kube-apiserver (the pods' IP is 127.0.0.1, their container ports the
// servers'), scrapes them, and re-exports the series under their own names
// with the genops labels of the destination and source workloads.
func TestProxyMetricsGetGenOpsLabels(t *testing.T) {
	istioScrape := fixtures.Path(t, "envoy-metrics", "datadog-istio-1.11-sidecar-merged.txt")
	linkerdScrape := fixtures.Path(t, "linkerd-metrics", "linkerd2-prommatch-sampleMetrics.txt")
	istioPort := serveFixture(t, "/stats/prometheus", istioScrape)
	roguePort := serveFixture(t, "/stats/prometheus", istioScrape)
	linkerdPort := serveFixture(t, "/metrics", linkerdScrape)

	cluster := kubetest.Start(t)
	ctx := context.Background()
	core := cluster.Client.CoreV1()
	for _, ns := range []*corev1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: "default", Labels: map[string]string{"genops.ai/cost-center": "cc-books", "istio-injection": "enabled"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "emojivoto", Annotations: map[string]string{"linkerd.io/inject": "enabled"}}},
	} {
		if _, err := core.Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && ns.Name != "default" {
			t.Fatal(err)
		} else if err != nil {
			if _, err := core.Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	pod := func(ns, name, rs, hash, proxy string, port int, labels map[string]string) {
		t.Helper()
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}, Spec: corev1.PodSpec{NodeName: "node-1",
			Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}}
		if rs != "" {
			p.Labels["pod-template-hash"] = hash
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs + "-" + hash, UID: types.UID("rs-uid-" + name), Controller: ptr(true)}}
		}
		switch proxy {
		case "istio-proxy":
			p.Annotations = map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}
		case "linkerd-proxy":
			p.Annotations = map[string]string{"linkerd.io/proxy-version": "stable-2.14.10"}
		}
		if name == "rogue-0" {
			p.Annotations = nil // a container named istio-proxy, no sidecar
		}
		if proxy != "" {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: proxy, Image: "proxy:1",
				Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: int32(port)}}})
		}
		cluster.RunningPod(t, p, "127.0.0.1")
	}
	// The scraped Istio sidecar is reviews-v1's; the fixture's calls come
	// from productpage-v1. The Linkerd proxy is web's.
	pod("default", "reviews-v1-5d8f7b9c4-abcde", "reviews-v1", "5d8f7b9c4", "istio-proxy", istioPort,
		map[string]string{"app": "reviews", "genops.ai/team": "books", "genops.ai/project": "bookinfo"})
	pod("default", "productpage-v1-6c9d8b7f5-vwxyz", "productpage-v1", "6c9d8b7f5", "", 0,
		map[string]string{"app": "productpage", "genops.ai/team": "storefront"})
	pod("emojivoto", "web-0", "", "", "linkerd-proxy", linkerdPort,
		map[string]string{"app": "web", "genops.ai/team": "emoji"})
	// A pod that serves the same series on a port of a container it named
	// istio-proxy, without a sidecar: nothing it serves is re-exported.
	pod("default", "rogue-0", "", "", "istio-proxy", roguePort, map[string]string{"app": "rogue"})

	prom, health := collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	col := collectortest.StartConfigs(t, map[string]string{"E2E_HEALTH": health, "E2E_PROM": prom, "E2E_KUBECONFIG": cluster.Kubeconfig},
		"testdata/proxymetrics.yaml", "testdata/no-telemetry.yaml")
	col.WaitHealthy(t, health)

	col.Eventually(t, 60*time.Second, func() error {
		f, err := collectortest.Scrape("http://" + prom + "/metrics")
		if err != nil {
			return err
		}
		istio := collectortest.Samples(f["istio_requests_total"])
		if len(istio) == 0 {
			return fmt.Errorf("no istio_requests_total re-exported yet (families: %s)", collectortest.Names(f))
		}
		for _, s := range istio {
			if s.Labels["pod"] != "reviews-v1-5d8f7b9c4-abcde" {
				return fmt.Errorf("a series of a pod that runs no sidecar was kept: %v", s.Labels)
			}
			if s.Labels["destination_workload"] != "reviews-v1" || s.Labels["response_code"] == "" {
				return fmt.Errorf("Istio's own labels lost: %v", s.Labels)
			}
			for k, v := range map[string]string{"genops_team": "books", "genops_project": "bookinfo", "genops_cost_center": "cc-books", "source_genops_team": "storefront"} {
				if s.Labels[k] != v {
					return fmt.Errorf("istio_requests_total %s=%q, want %q: %v", k, s.Labels[k], v, s.Labels)
				}
			}
		}
		hist := collectortest.Samples(f["istio_request_duration_milliseconds"])
		if len(hist) == 0 || hist[0].Labels["genops_team"] != "books" {
			return fmt.Errorf("istio_request_duration_milliseconds: %v", hist)
		}
		linkerd := collectortest.Matching(collectortest.Samples(f["request_total"]), map[string]string{"direction": "inbound", "namespace": "emojivoto"})
		if len(linkerd) == 0 || linkerd[0].Labels["genops_team"] != "emoji" {
			return fmt.Errorf("Linkerd request_total: %v", linkerd)
		}
		if _, ok := f["envoy_cluster_upstream_rq_total"]; ok {
			return fmt.Errorf("envoy_* series were not dropped")
		}
		return nil
	})
}

func ptr[T any](v T) *T { return &v }
