package k8smeta

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// A collector runs one governance processor per pipeline (the DaemonSet
// config has three); each used to build its own informers, so a node's
// pods were watched and cached three times. Stores are shared instead,
// one per distinct Key in the process, as the collector's own
// sharedcomponent package shares a receiver between pipelines: the first
// user creates and starts it, the last one to release it stops it. RBAC is
// unchanged: the same resources are watched, once.

// Key identifies the stores that can be shared: the same cluster (its
// kubeconfig, "" for in-cluster), the same pods (NodeName) and the same
// grace period. Client tells apart clients made another way (tests' fake
// clientsets).
type Key struct {
	Kubeconfig, NodeName string
	DeleteGracePeriod    time.Duration
	Client               string
}

var registry = struct {
	sync.Mutex
	stores map[Key]*sharedStore
}{stores: map[Key]*sharedStore{}}

type sharedStore struct {
	store *Store
	users int
	// ready is closed when the first user's Start returned; err is its
	// error.
	ready chan struct{}
	err   error
}

// Acquire returns the started store for key, creating it with newStore
// and starting it (waiting at most until ctx ends) if no user holds one.
// A later user waits for the first one's start, at most until its own ctx
// ends. onError hears the store's list and watch errors until release.
// The caller calls release once, when it stops using the store.
func Acquire(ctx context.Context, key Key, newStore func() (*Store, error), onError func(resource string, err error)) (store *Store, release func(), err error) {
	registry.Lock()
	sh := registry.stores[key]
	first := sh == nil
	if first {
		s, err := newStore()
		if err != nil {
			registry.Unlock()
			return nil, nil, err
		}
		sh = &sharedStore{store: s, ready: make(chan struct{})}
		registry.stores[key] = sh
	}
	sh.users++
	unsubscribe := sh.store.subscribe(onError)
	registry.Unlock()

	var once sync.Once
	release = func() {
		once.Do(func() {
			unsubscribe()
			registry.Lock()
			defer registry.Unlock()
			sh.users--
			if sh.users == 0 {
				if registry.stores[key] == sh {
					delete(registry.stores, key)
				}
				sh.store.Stop()
			}
		})
	}
	if first {
		sh.err = sh.store.Start(ctx)
		if sh.err != nil {
			// Nobody may reuse a store that did not sync: the next
			// user starts afresh.
			registry.Lock()
			if registry.stores[key] == sh {
				delete(registry.stores, key)
			}
			registry.Unlock()
		}
		close(sh.ready)
	} else {
		select {
		case <-sh.ready:
		case <-ctx.Done():
			release()
			return nil, nil, fmt.Errorf("kubernetes caches did not sync (%w) while another processor started them", ctx.Err())
		}
	}
	if sh.err != nil {
		release()
		return nil, nil, sh.err
	}
	return sh.store, release, nil
}

// Shared is the number of stores the process holds (for tests).
func Shared() int {
	registry.Lock()
	defer registry.Unlock()
	return len(registry.stores)
}

// subscribe adds a listener of list and watch errors; the returned func
// removes it.
func (s *Store) subscribe(fn func(resource string, err error)) func() {
	if fn == nil {
		return func() {}
	}
	s.listenersMu.Lock()
	defer s.listenersMu.Unlock()
	s.nextListener++
	id := s.nextListener
	if s.listeners == nil {
		s.listeners = map[int]func(string, error){}
	}
	s.listeners[id] = fn
	return func() {
		s.listenersMu.Lock()
		defer s.listenersMu.Unlock()
		delete(s.listeners, id)
	}
}
