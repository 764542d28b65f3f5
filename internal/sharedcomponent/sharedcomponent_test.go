package sharedcomponent

import (
	"context"
	"errors"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
)

type counted struct {
	starts, stops int
	startErr      error
}

func (c *counted) Start(context.Context, component.Host) error { c.starts++; return c.startErr }
func (c *counted) Shutdown(context.Context) error              { c.stops++; return nil }

func load(t *testing.T, m *Map[string, *counted], key string, made *int) *Component[*counted] {
	t.Helper()
	c, err := m.LoadOrStore(key, func() (*counted, error) { *made++; return &counted{}, nil })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A connector in a logs and a traces pipeline: one component, started by
// the first Start, stopped by the last Shutdown and not before.
func TestStartFirstStopLast(t *testing.T) {
	ctx, host := context.Background(), componenttest.NewNopHost()
	m := NewMap[string, *counted]()
	made := 0
	logs, traces := load(t, m, "sli", &made), load(t, m, "sli", &made)
	if made != 1 || logs.Unwrap() != traces.Unwrap() || m.Len() != 1 {
		t.Fatalf("made %d components (want 1), same=%v, map holds %d", made, logs.Unwrap() == traces.Unwrap(), m.Len())
	}
	other := load(t, m, "sli/2", &made)
	if made != 2 || other.Unwrap() == logs.Unwrap() {
		t.Fatal("another key shares the component")
	}
	c := logs.Unwrap()
	for _, r := range []*Component[*counted]{logs, traces} {
		if err := r.Start(ctx, host); err != nil {
			t.Fatal(err)
		}
	}
	if c.starts != 1 {
		t.Fatalf("started %d times, want 1", c.starts)
	}
	_ = logs.Shutdown(ctx)
	_ = logs.Shutdown(ctx) // a second Shutdown of one reference gives nothing back
	if c.stops != 0 || m.Len() != 2 {
		t.Fatalf("stopped %d times with the traces side still running (map holds %d)", c.stops, m.Len())
	}
	_ = traces.Shutdown(ctx)
	if c.stops != 1 || m.Len() != 1 {
		t.Fatalf("stopped %d times after the last Shutdown (want 1); map holds %d", c.stops, m.Len())
	}
	// A new pipeline (a config reload) gets a new component.
	again := load(t, m, "sli", &made)
	if made != 3 || again.Unwrap() == c {
		t.Fatal("a stopped component was handed out again")
	}
}

// A component that failed to start reports the error to every reference,
// is started once, and is still shut down.
func TestStartErrorForEveryReference(t *testing.T) {
	ctx, host := context.Background(), componenttest.NewNopHost()
	m := NewMap[string, *counted]()
	boom := errors.New("boom")
	create := func() (*counted, error) { return &counted{startErr: boom}, nil }
	a, _ := m.LoadOrStore("k", create)
	b, _ := m.LoadOrStore("k", create)
	if err := a.Start(ctx, host); !errors.Is(err, boom) {
		t.Fatalf("first Start: %v", err)
	}
	if err := b.Start(ctx, host); !errors.Is(err, boom) {
		t.Fatalf("second Start: %v", err)
	}
	_ = a.Shutdown(ctx)
	_ = b.Shutdown(ctx)
	if c := a.Unwrap(); c.starts != 1 || c.stops != 1 {
		t.Fatalf("starts %d stops %d, want 1 and 1", c.starts, c.stops)
	}
}

// An unstarted component is shut down too (the collector may shut down a
// pipeline whose start failed elsewhere).
func TestShutdownUnstarted(t *testing.T) {
	m := NewMap[string, *counted]()
	made := 0
	r := load(t, m, "k", &made)
	_ = r.Shutdown(context.Background())
	if r.Unwrap().stops != 1 || m.Len() != 0 {
		t.Fatalf("stops %d, map holds %d", r.Unwrap().stops, m.Len())
	}
}

func TestCreateError(t *testing.T) {
	m := NewMap[string, *counted]()
	boom := errors.New("bad config")
	if _, err := m.LoadOrStore("k", func() (*counted, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if m.Len() != 0 {
		t.Fatal("a component that failed to build is kept")
	}
}

// References taken and given back from many goroutines (run with -race):
// the component is stopped exactly once per generation, never while a
// reference holds it.
func TestConcurrentReferences(t *testing.T) {
	ctx, host := context.Background(), componenttest.NewNopHost()
	m := NewMap[string, *safeCounted]()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				r, err := m.LoadOrStore("k", func() (*safeCounted, error) { return &safeCounted{}, nil })
				if err != nil {
					t.Error(err)
					return
				}
				_ = r.Start(ctx, host)
				if r.Unwrap().stopped() {
					t.Error("a reference holds a stopped component")
				}
				_ = r.Shutdown(ctx)
			}
		}()
	}
	wg.Wait()
	if m.Len() != 0 {
		t.Fatalf("map holds %d after every reference was given back", m.Len())
	}
}

type safeCounted struct {
	mu    sync.Mutex
	stops int
}

func (c *safeCounted) Start(context.Context, component.Host) error { return nil }
func (c *safeCounted) Shutdown(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stops++
	if c.stops > 1 {
		panic("stopped twice")
	}
	return nil
}
func (c *safeCounted) stopped() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.stops > 0 }
