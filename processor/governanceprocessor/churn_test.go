package governanceprocessor

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/genops-mesh/otelcol-genops/internal/k8smeta"
	"github.com/genops-mesh/otelcol-genops/internal/k8smeta/k8smetatest"
	"github.com/genops-mesh/otelcol-genops/processor/governanceprocessor/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/processor/governanceprocessor/internal/metadatatest"
)

// startWithClient starts a governance processor on a fake cluster the test
// keeps changing.
func startWithClient(t *testing.T, cfg *Config, client *fake.Clientset) *governance {
	t.Helper()
	return startGovernance(t, processortest.NewNopSettings(metadata.Type), cfg, client)
}

// podsWatched returns a wait for the moment the informers watch pods
// (call it before starting the processor): a pod deleted between their
// list and their watch is never seen deleted by the fake clientset (CI
// saw this once, on a loaded machine).
func podsWatched(t *testing.T, client *fake.Clientset) func() {
	watches := k8smetatest.Track(client)
	return func() { watches.Wait(t, "pods") }
}

// fromPodFile is an inbound record read from a pod's log file: the
// receiver names the pod by namespace, name and UID (the path).
func fromPodFile(uid, peerIP string, at time.Time) plog.Logs {
	ld := inbound("llm-5d-abc", peerIP, "", nil)
	res := ld.ResourceLogs().At(0).Resource().Attributes()
	res.PutStr("k8s.pod.uid", uid)
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).SetTimestamp(pcommon.NewTimestampFromTime(at))
	return ld
}

// The tail reads a pod's last lines after the API server deleted it: they
// are still its team's within the grace period, with the caller found by
// IP although the caller was deleted too.
func TestLinesAfterDeletion(t *testing.T) {
	client := fake.NewClientset(clusterObjects()...)
	watching := podsWatched(t, client)
	g := startWithClient(t, kubeConfig(), client)
	watching()
	ctx := context.Background()
	for _, p := range [][2]string{{"ai", "llm-5d-abc"}, {"api-gateway", "gateway-0"}} {
		if err := client.CoreV1().Pods(p[0]).Delete(ctx, p[1], metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); g.store.Deleted() < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the deletions were not seen")
		}
	}
	got := attrsOf(t, g, fromPodFile("uid-llm-5d-abc", "10.0.0.2", time.Now().Add(-time.Second)))
	if got["genops.team"] != "ml-platform" || got["k8s.deployment.name"] != "llm" || got["source.k8s.pod.name"] != "gateway-0" {
		t.Errorf("a deleted pod's last line: %v", got)
	}

	// With no grace period they are unknown: what the grace period is for.
	client = fake.NewClientset(clusterObjects()...)
	watching = podsWatched(t, client)
	cfg := kubeConfig()
	cfg.Kubernetes.DeleteGracePeriod = 0
	g = startWithClient(t, cfg, client)
	watching()
	if err := client.CoreV1().Pods("ai").Delete(ctx, "llm-5d-abc", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, ok := g.store.PodByUID("uid-llm-5d-abc"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the deletion was not seen")
		}
	}
	if got := attrsOf(t, g, fromPodFile("uid-llm-5d-abc", "10.0.0.2", time.Now())); got["genops.team"] == "ml-platform" {
		t.Errorf("without a grace period a deleted pod still resolved: %v", got)
	}
}

// The governance processors of one collector share one set of informers:
// the DaemonSet's three pipelines watch the node's pods once.
func TestProcessorsShareInformers(t *testing.T) {
	client := fake.NewClientset(clusterObjects()...)
	before := k8smeta.Shared()
	gs := []*governance{startWithClient(t, kubeConfig(), client), startWithClient(t, kubeConfig(), client), startWithClient(t, kubeConfig(), client)}
	if gs[0].store != gs[1].store || gs[1].store != gs[2].store || k8smeta.Shared() != before+1 {
		t.Fatalf("three processors hold %d stores", k8smeta.Shared()-before)
	}
	_ = gs[0].shutdown(context.Background())
	if got := attrsOf(t, gs[1], inbound("llm-5d-abc", "10.0.0.2", "", nil)); got["genops.team"] != "ml-platform" {
		t.Errorf("after one processor shut down, another lost the cluster: %v", got)
	}
	// A different grace period is another cache.
	cfg := kubeConfig()
	cfg.Kubernetes.DeleteGracePeriod = time.Minute
	other := startWithClient(t, cfg, client)
	if other.store == gs[1].store {
		t.Error("processors with different grace periods share a store")
	}
}

// Batches are processed concurrently, without a lock: the same records
// get the same attributes whatever the interleaving (run with -race).
func TestConcurrentBatches(t *testing.T) {
	g := newTestGovernance(t, pricedConfig(), nil)
	want := attrsOf(t, g, parsedBatch(t, 1))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				ld := parsedBatch(t, 50)
				out, err := g.processLogs(context.Background(), ld)
				if err != nil {
					t.Error(err)
					return
				}
				rl := out.ResourceLogs().At(0)
				for _, lr := range rl.ScopeLogs().At(0).LogRecords().All() {
					got := readerView(rl.Resource().Attributes(), lr.Attributes())
					for _, k := range []string{"genops.team", "genops.customer_id", "genops.cost", "source.k8s.pod.name"} {
						if fmt.Sprint(got[k]) != fmt.Sprint(want[k]) {
							t.Errorf("%s = %v, want %v", k, got[k], want[k])
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
}

// genops_kubernetes_pods says how many pods the caches hold, live and
// kept for the grace period: what an operator watches on a churning node.
func TestPodsGauge(t *testing.T) {
	tt := newTelemetry(t)
	client := fake.NewClientset(clusterObjects()...)
	g := startGovernance(t, metadatatest.NewSettings(tt), kubeConfig(), client)
	if live := point(t, tt, "genops.kubernetes.pods", map[string]string{"state": "live"}); live != 6 {
		t.Errorf("live pods %d, want 6", live)
	}
	if err := client.CoreV1().Pods("sandbox").Delete(context.Background(), "curl-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); g.store.Deleted() < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the deletion was not seen")
		}
	}
	live := point(t, tt, "genops.kubernetes.pods", map[string]string{"state": "live"})
	deleted := point(t, tt, "genops.kubernetes.pods", map[string]string{"state": "deleted"})
	if live != 5 || deleted != 1 {
		t.Errorf("after a deletion: live %d deleted %d, want 5 and 1", live, deleted)
	}
}
