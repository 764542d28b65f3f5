package ingestlimitextension

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/genops-mesh/otelcol-genops/extension/ingestlimitextension/internal/metadatatest"
)

func newTestLimiter(t *testing.T, n int, wait time.Duration) (*limiter, *componenttest.Telemetry) {
	t.Helper()
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tt.Shutdown(context.Background()) })
	cfg := createDefaultConfig().(*Config)
	cfg.MaxConcurrentRequests, cfg.MaxWait = n, wait
	cfg.MaxReadsPerClient = cfg.MaxConcurrentReads // tests send from one address
	ext, err := NewFactory().Create(context.Background(), metadatatest.NewSettings(tt), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ext.(*limiter), tt
}

func handler(t *testing.T, l *limiter, next http.Handler) http.Handler {
	t.Helper()
	wrap, err := l.GetHTTPHandler(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h, err := wrap(context.Background(), next)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// A request past the bound waits max_wait, then is refused with 503 and a
// Retry-After, is counted, and its body is never read.
func TestHTTPRefusesPastTheBound(t *testing.T) {
	l, tt := newTestLimiter(t, 1, 0)
	entered, unblock := make(chan struct{}), make(chan struct{})
	var reads atomic.Int32
	h := handler(t, l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		if reads.Add(1) == 1 {
			close(entered)
			<-unblock
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()

	first := make(chan int)
	go func() {
		resp, err := http.Post(srv.URL, "text/plain", nil)
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-entered

	resp, err := http.Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("second request: status %d, Retry-After %q; want 503 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("%d bodies read, want 1: a refused body must not be read", n)
	}
	metadatatest.AssertEqualIngestRefused(t, tt, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("protocol", "http"))},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualIngestInFlight(t, tt, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())

	close(unblock)
	if code := <-first; code != http.StatusOK {
		t.Errorf("first request: status %d", code)
	}
	// The slot is free again.
	resp, err = http.Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after release: status %d", resp.StatusCode)
	}
	metadatatest.AssertEqualIngestInFlight(t, tt, []metricdata.DataPoint[int64]{{Value: 0}}, metricdatatest.IgnoreTimestamp())
}

// Many senders at once: every request is served (they wait their turn) and
// never more than the bound are inside the handler together, across two
// listeners sharing one extension.
func TestHTTPBoundIsSharedByListeners(t *testing.T) {
	const bound, senders = 3, 40
	l, _ := newTestLimiter(t, bound, time.Minute)
	l.reads, l.readsPerClient = make(chan struct{}, senders), senders // every body read at once: the bound is the slots
	var inside, peak atomic.Int32
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		n := inside.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond) // give the others a chance to overlap
		inside.Add(-1)
	})
	a, b := httptest.NewServer(handler(t, l, next)), httptest.NewServer(handler(t, l, next))
	defer a.Close()
	defer b.Close()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range senders {
		wg.Go(func() {
			url := a.URL
			if i%2 == 1 {
				url = b.URL
			}
			resp, err := http.Get(url)
			if err != nil || resp.StatusCode != http.StatusOK {
				failed.Add(1)
			}
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed", failed.Load(), senders)
	}
	if p := peak.Load(); p > bound || p < 1 {
		t.Errorf("peak %d requests inside the handlers, bound %d", p, bound)
	}
}

// A sender that gives up while waiting frees nothing it did not take.
func TestHTTPCancelledWhileWaiting(t *testing.T) {
	l, _ := newTestLimiter(t, 1, time.Hour)
	if !l.acquire(context.Background(), 0) {
		t.Fatal("first slot")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	handler(t, l, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("handler ran without a slot")
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil).WithContext(ctx))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d", rec.Code)
	}
	if len(l.slots) != 1 {
		t.Errorf("%d slots held, want 1", len(l.slots))
	}
}

func TestGRPCUnary(t *testing.T) {
	l, tt := newTestLimiter(t, 1, 0)
	if !l.acquire(context.Background(), 0) {
		t.Fatal("first slot")
	}
	_, err := l.unary(context.Background(), nil, &grpc.UnaryServerInfo{}, func(context.Context, any) (any, error) {
		t.Error("handler ran without a slot")
		return nil, nil
	})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("err %v, want RESOURCE_EXHAUSTED", err)
	}
	metadatatest.AssertEqualIngestRefused(t, tt, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("protocol", "grpc"))},
	}, metricdatatest.IgnoreTimestamp())
	l.release(context.Background())
	ran := false
	if _, err := l.unary(context.Background(), nil, &grpc.UnaryServerInfo{}, func(context.Context, any) (any, error) {
		ran = len(l.slots) == 1
		return nil, nil
	}); err != nil || !ran {
		t.Errorf("with a free slot: err %v, ran holding the slot %v", err, ran)
	}
	if len(l.slots) != 0 {
		t.Errorf("slot not released")
	}
}

// fakeStream delivers n messages, then io.EOF.
type fakeStream struct {
	ctx context.Context
	n   int
}

func (f *fakeStream) RecvMsg(any) error {
	if f.n == 0 {
		return io.EOF
	}
	f.n--
	return nil
}
func (f *fakeStream) SendMsg(any) error            { return nil }
func (f *fakeStream) Context() context.Context     { return f.ctx }
func (f *fakeStream) SetHeader(metadata.MD) error  { return nil }
func (f *fakeStream) SendHeader(metadata.MD) error { return nil }
func (f *fakeStream) SetTrailer(metadata.MD)       {}

// A stream message holds a slot from receipt until the next receive; the
// stream's end frees it whatever the handler did.
func TestGRPCStreamHoldsASlotPerMessage(t *testing.T) {
	l, _ := newTestLimiter(t, 1, 0)
	var heldDuring []int
	err := l.stream(nil, &fakeStream{ctx: context.Background(), n: 3}, &grpc.StreamServerInfo{}, func(_ any, ss grpc.ServerStream) error {
		for {
			if err := ss.RecvMsg(nil); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			heldDuring = append(heldDuring, len(l.slots))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(heldDuring) != 3 || heldDuring[0] != 1 || heldDuring[2] != 1 {
		t.Errorf("slots held while handling each message: %v, want [1 1 1]", heldDuring)
	}
	if len(l.slots) != 0 {
		t.Errorf("slot not released at the stream's end")
	}
	// A handler that returns while holding a message's slot frees it too.
	_ = l.stream(nil, &fakeStream{ctx: context.Background(), n: 1}, &grpc.StreamServerInfo{}, func(_ any, ss grpc.ServerStream) error {
		return ss.RecvMsg(nil)
	})
	if len(l.slots) != 0 {
		t.Errorf("slot not released when the handler returned early")
	}
	// A stream waits (it is never refused) and a cancelled one gives up.
	if !l.acquire(context.Background(), 0) {
		t.Fatal("slot")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = l.stream(nil, &fakeStream{ctx: ctx, n: 1}, &grpc.StreamServerInfo{}, func(_ any, ss grpc.ServerStream) error {
		return ss.RecvMsg(nil)
	})
	if status.Code(err) != codes.Canceled {
		t.Errorf("cancelled stream: %v", err)
	}
	if len(l.slots) != 1 {
		t.Errorf("%d slots held, want 1", len(l.slots))
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		ok  bool
	}{
		{*createDefaultConfig().(*Config), true},
		{Config{MaxConcurrentRequests: 1, MaxConcurrentReads: 1, MaxReadsPerClient: 1, MaxReadTime: time.Second}, true},
		{Config{MaxConcurrentRequests: 0, MaxWait: time.Second, MaxConcurrentReads: 1, MaxReadsPerClient: 1, MaxReadTime: time.Second}, false},
		{Config{MaxConcurrentRequests: 2, MaxWait: -time.Second, MaxConcurrentReads: 1, MaxReadsPerClient: 1, MaxReadTime: time.Second}, false},
		{Config{MaxConcurrentRequests: 2, MaxConcurrentReads: 2, MaxReadsPerClient: 3, MaxReadTime: time.Second}, false},
		{Config{MaxConcurrentRequests: 2, MaxConcurrentReads: 2, MaxReadsPerClient: 1}, false},
	} {
		if err := c.cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v: %v", c.cfg, err)
		}
	}
}

// A slow sender (outsider's finding: six connections trickling 2 MB
// bodies held every slot for as long as they liked) holds a read, not a
// decoding slot: other clients' requests go through meanwhile; its own
// third connection is refused at once; and a body that does not arrive
// within max_read_time is cut.
func TestSlowSenderHoldsNoSlot(t *testing.T) {
	l, _ := newTestLimiter(t, 1, 200*time.Millisecond)
	l.readsPerClient = 2
	l.readTime = 300 * time.Millisecond
	var served atomic.Int32
	srv := httptest.NewServer(handler(t, l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		served.Add(1)
	})))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	slow := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\nab")
		return c
	}
	a, b := slow(), slow()
	defer a.Close()
	defer b.Close()
	for l.readers() < 2 {
		time.Sleep(time.Millisecond) // both slow bodies are being read
	}
	// The same client's third request is refused at once.
	c := slow()
	defer c.Close()
	reply := make([]byte, 12)
	if _, err := io.ReadFull(c, reply); err != nil || string(reply) != "HTTP/1.1 503" {
		t.Errorf("third slow connection: %q %v", reply, err)
	}
	// Another client is served while the slow bodies trickle (the test
	// server sees one address; its own quota is lifted to play another).
	l.mu.Lock()
	l.clients["127.0.0.1"] -= 2
	l.mu.Unlock()
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("span"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || served.Load() != 1 {
		t.Errorf("another client while slow bodies trickle: %d, served %d", resp.StatusCode, served.Load())
	}
	l.mu.Lock()
	l.clients["127.0.0.1"] += 2
	l.mu.Unlock()
	// The slow bodies are cut at max_read_time and their reads freed.
	for _, conn := range []net.Conn{a, b} {
		_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
		if _, err := io.ReadFull(conn, reply); err != nil || string(reply) != "HTTP/1.1 408" {
			t.Errorf("slow body: %q %v", reply, err)
		}
	}
	for l.readers() != 0 {
		time.Sleep(time.Millisecond)
	}
	if served.Load() != 1 {
		t.Errorf("a cut body reached the handler")
	}
}

// readers is how many bodies are being read now.
func (l *limiter) readers() int { return len(l.reads) }
