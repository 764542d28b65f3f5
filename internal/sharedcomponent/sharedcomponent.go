// Package sharedcomponent lets the instances that the collector creates
// for one configured component (one per signal: a connector used as the
// exporter of a logs and of a traces pipeline is created twice) share a
// single underlying component, started by the first Start and stopped by
// the last Shutdown.
//
// Why not the collector's own: go.opentelemetry.io/collector/internal/
// sharedcomponent (and contrib's copy) is an internal package, which Go
// does not let another module import. This one follows its API (NewMap,
// LoadOrStore, Unwrap, Start, Shutdown) with one difference on purpose:
// the collector's stops the component at the first Shutdown, this one at
// the last. The collector shuts pipelines down one node at a time, so a
// connector's traces side may still be fed while its logs side is being
// shut down; what it counts after the first Shutdown would never be
// flushed.
package sharedcomponent

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
)

// Map holds the shared components by key (a component.ID).
type Map[K comparable, V component.Component] struct {
	mu         sync.Mutex
	components map[K]*shared[V]
}

// NewMap returns an empty map.
func NewMap[K comparable, V component.Component]() *Map[K, V] {
	return &Map[K, V]{components: map[K]*shared[V]{}}
}

// LoadOrStore returns a reference to the shared component of key,
// creating the component with create when the map holds none (or only
// one that is shutting down). Each reference's Shutdown gives it back.
func (m *Map[K, V]) LoadOrStore(key K, create func() (V, error)) (*Component[V], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if sh := m.components[key]; sh != nil {
		sh.mu.Lock()
		live := !sh.stopped
		if live {
			sh.refs++
		}
		sh.mu.Unlock()
		if live {
			return &Component[V]{shared: sh}, nil
		}
	}
	v, err := create()
	if err != nil {
		return nil, err
	}
	sh := &shared[V]{component: v, refs: 1}
	sh.remove = func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.components[key] == sh {
			delete(m.components, key)
		}
	}
	m.components[key] = sh
	return &Component[V]{shared: sh}, nil
}

// Len is the number of components the map holds.
func (m *Map[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.components)
}

type shared[V component.Component] struct {
	component V
	remove    func()

	mu       sync.Mutex
	refs     int // references handed out by LoadOrStore and not shut down
	started  bool
	startErr error
	stopped  bool
}

// Component is one reference to a shared component: what a factory
// returns to the collector for one signal.
type Component[V component.Component] struct {
	*shared[V]
	once sync.Once // this reference's Shutdown gives it back once
}

// Unwrap returns the shared component.
func (c *Component[V]) Unwrap() V {
	return c.component
}

// Start starts the shared component on the first call of any reference,
// and returns that call's error to every later one.
func (c *Component[V]) Start(ctx context.Context, host component.Host) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started {
		c.started = true
		c.startErr = c.component.Start(ctx, host)
	}
	return c.startErr
}

// Shutdown gives this reference back; the last one removes the component
// from the map and shuts it down (whether or not it started: the
// collector's contract lets a component be shut down unstarted).
func (c *Component[V]) Shutdown(ctx context.Context) error {
	last := false
	c.once.Do(func() {
		c.mu.Lock()
		c.refs--
		last = c.refs == 0
		if last {
			c.stopped = true
		}
		c.mu.Unlock()
	})
	if !last {
		return nil
	}
	c.remove()
	return c.component.Shutdown(ctx)
}
