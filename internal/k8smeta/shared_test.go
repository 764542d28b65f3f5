package k8smeta

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// Three governance processors of one collector with the same Kubernetes
// settings share one set of informers; the last release stops it.
func TestSharedStore(t *testing.T) {
	ns, rs, pod := testObjects()
	client := fake.NewClientset(ns, rs, pod)
	var created atomic.Int32
	newStore := func() (*Store, error) {
		created.Add(1)
		return New(client, Options{})
	}
	key := Key{NodeName: "node-1", DeleteGracePeriod: time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var releases []func()
	var first *Store
	for i := range 3 {
		s, release, err := Acquire(ctx, key, newStore, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = s
		} else if s != first {
			t.Fatalf("user %d got another store", i)
		}
		releases = append(releases, release)
	}
	other, releaseOther, err := Acquire(ctx, Key{NodeName: "node-2"}, newStore, nil)
	if err != nil {
		t.Fatal(err)
	}
	if other == first || created.Load() != 2 || Shared() != 2 {
		t.Fatalf("%d stores created, %d held; want 2 (one per key)", created.Load(), Shared())
	}
	releaseOther()
	releases[0]()
	releases[0]() // twice is once
	releases[1]()
	if _, ok := first.PodByUID("5b1c6d9e-1111"); !ok || Shared() != 1 {
		t.Fatal("the store stopped while a user held it")
	}
	releases[2]()
	if Shared() != 0 {
		t.Fatalf("%d stores held after every release", Shared())
	}
	select {
	case <-first.stop:
	default:
		t.Fatal("the last release did not stop the store")
	}
}

// A store that does not sync is not kept: every user waiting for it gets
// the error and hears the API errors, and the next one starts afresh.
func TestSharedStoreThatDoesNotSync(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	var heard atomic.Int32
	newStore := func() (*Store, error) { return New(client, Options{}) }
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, _, err := Acquire(ctx, Key{Kubeconfig: "broken"}, newStore, func(string, error) { heard.Add(1) })
	if err == nil {
		t.Fatal("a store that cannot list pods started")
	}
	if heard.Load() == 0 {
		t.Error("the user did not hear the API errors")
	}
	if Shared() != 0 {
		t.Errorf("a store that did not sync is kept (%d)", Shared())
	}
}
