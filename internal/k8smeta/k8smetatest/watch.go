// Package k8smetatest helps tests that run informers on client-go's fake
// clientset: the fake's watch does not replay what changed between an
// informer's list and its watch, so a test that deletes or relabels right
// after starting the informers could change nothing they ever see. It
// waits until they watch.
package k8smetatest

import (
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

// Watches records which resources (pods, namespaces, …) informers on a
// fake clientset have started to watch.
type Watches struct {
	mu   sync.Mutex
	seen map[string]bool
}

// Track records the watches on client from now on: call it before the
// informers start.
func Track(client *fake.Clientset) *Watches {
	w := &Watches{seen: map[string]bool{}}
	client.PrependWatchReactor("*", func(action clienttesting.Action) (bool, watch.Interface, error) {
		var opts metav1.ListOptions
		if wa, ok := action.(clienttesting.WatchActionImpl); ok {
			opts = wa.ListOptions
		}
		watcher, err := client.Tracker().Watch(action.GetResource(), action.GetNamespace(), opts)
		if err != nil {
			return false, nil, err
		}
		w.mu.Lock()
		w.seen[action.GetResource().Resource] = true
		w.mu.Unlock()
		return true, watcher, nil
	})
	return w
}

// Wait waits until every one of resources is watched (readiness only: a
// minute at most, then the test fails).
func (w *Watches) Wait(t testing.TB, resources ...string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		w.mu.Lock()
		all := true
		for _, r := range resources {
			all = all && w.seen[r]
		}
		seen := len(w.seen)
		w.mu.Unlock()
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the informers never watched all of %v (%d resources watched)", resources, seen)
		}
	}
}
