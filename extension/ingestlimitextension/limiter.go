// Package ingestlimitextension is HTTP and gRPC server middleware that bounds
// how many ingest requests the whole collector decodes at once. A request
// body is read and decoded after the listener's own checks (size, auth), and
// its decoded form can be several times its size; without a bound, N
// concurrent maximum-size bodies need N times that memory, and one sender
// that opens enough connections takes the process past its container limit.
// One instance is shared by every listener that names it, so the bound is
// the process's, not each listener's.
//
// It is written here because the collector has no released limiter at
// v0.158.0: the extensionlimiter interfaces are in development and come with
// no concurrency limiter, contrib's memory_limiter processor acts only after
// the body is decoded, and gRPC's max_concurrent_streams counts per
// connection.
package ingestlimitextension

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/genops-mesh/otelcol-genops/extension/ingestlimitextension/internal/metadata"
)

var (
	_ extensionmiddleware.HTTPServer = (*limiter)(nil)
	_ extensionmiddleware.GRPCServer = (*limiter)(nil)
)

type limiter struct {
	component.StartFunc
	component.ShutdownFunc

	slots   chan struct{}
	maxWait time.Duration

	// HTTP bodies are read before a slot is taken (readBody).
	reads          chan struct{}
	readsPerClient int
	readTime       time.Duration
	mu             sync.Mutex
	clients        map[string]int // bodies being read, by client address
	tb             *metadata.TelemetryBuilder
	http           metric.MeasurementOption
	grpc           metric.MeasurementOption
}

func newLimiter(cfg *Config, set component.TelemetrySettings) (*limiter, error) {
	tb, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	return &limiter{
		slots:          make(chan struct{}, cfg.MaxConcurrentRequests),
		maxWait:        cfg.MaxWait,
		reads:          make(chan struct{}, cfg.MaxConcurrentReads),
		readsPerClient: cfg.MaxReadsPerClient,
		readTime:       cfg.MaxReadTime,
		clients:        map[string]int{},
		tb:             tb,
		http:           metric.WithAttributeSet(attribute.NewSet(attribute.String("protocol", "http"))),
		grpc:           metric.WithAttributeSet(attribute.NewSet(attribute.String("protocol", "grpc"))),
		ShutdownFunc:   func(context.Context) error { tb.Shutdown(); return nil },
	}, nil
}

// acquire takes a slot, waiting at most wait (forever when wait < 0) or
// until ctx ends. It reports whether a slot was taken.
func (l *limiter) acquire(ctx context.Context, wait time.Duration) bool {
	if !take(ctx, l.slots, wait) {
		return false
	}
	l.tb.IngestInFlight.Add(ctx, 1)
	return true
}

// take puts a token into sem, at once when there is room, else waiting at
// most wait (forever when wait < 0) or until ctx ends; it reports whether
// it did. The timer is made only when the fast path fails.
func take(ctx context.Context, sem chan struct{}, wait time.Duration) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
	}
	var timeout <-chan time.Time
	if wait >= 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case sem <- struct{}{}:
		return true
	case <-timeout:
	case <-ctx.Done():
	}
	return false
}

func (l *limiter) release(ctx context.Context) {
	<-l.slots
	l.tb.IngestInFlight.Add(ctx, -1)
}

// retryAfter is the Retry-After a refused HTTP sender is told: the wait it
// already spent, rounded up to a whole second.
func (l *limiter) retryAfter() string {
	return strconv.Itoa(max(1, int((l.maxWait+time.Second-1)/time.Second)))
}

// GetHTTPHandler wraps a listener's handler: the request's body is read in
// full first (bounded in number, per client and in time, and in size by
// the listener's max_request_body_size), and only then does the request
// wait for a decoding slot. A sender that trickles its body holds a read,
// never a slot, and no more than max_reads_per_client reads.
func (l *limiter) GetHTTPHandler(context.Context) (extensionmiddleware.WrapHTTPHandlerFunc, error) {
	return func(_ context.Context, next http.Handler) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			client := clientOf(r)
			if !l.startRead(ctx, client) {
				l.refuse(ctx, w)
				return
			}
			defer l.endRead(client)
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(l.readTime))
			body, err := io.ReadAll(r.Body)
			if err != nil {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					http.Error(w, "ingest_limit: body too large", http.StatusRequestEntityTooLarge)
					return
				}
				l.tb.IngestRefused.Add(ctx, 1, l.http)
				http.Error(w, "ingest_limit: body not received in time", http.StatusRequestTimeout)
				return
			}
			_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
			if !l.acquire(ctx, l.maxWait) {
				l.refuse(ctx, w)
				return
			}
			defer l.release(ctx)
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			next.ServeHTTP(w, r)
		}), nil
	}, nil
}

func (l *limiter) refuse(ctx context.Context, w http.ResponseWriter) {
	l.tb.IngestRefused.Add(ctx, 1, l.http)
	w.Header().Set("Retry-After", l.retryAfter())
	http.Error(w, "ingest_limit: too many concurrent requests", http.StatusServiceUnavailable)
}

// clientOf is the request's client address without its port.
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// startRead takes a read for client: one of max_concurrent_reads, while
// the client holds fewer than max_reads_per_client (a client at its bound
// is refused at once: waiting would let it queue without bound).
func (l *limiter) startRead(ctx context.Context, client string) bool {
	l.mu.Lock()
	if l.clients[client] >= l.readsPerClient {
		l.mu.Unlock()
		return false
	}
	l.clients[client]++
	l.mu.Unlock()
	if take(ctx, l.reads, l.maxWait) {
		return true
	}
	l.forget(client)
	return false
}

func (l *limiter) endRead(client string) {
	<-l.reads
	l.forget(client)
}

func (l *limiter) forget(client string) {
	l.mu.Lock()
	if l.clients[client]--; l.clients[client] <= 0 {
		delete(l.clients, client)
	}
	l.mu.Unlock()
}

// GetGRPCServerOptions bounds unary calls (OTLP) like HTTP requests, and
// each message of a stream (Envoy's ALS) from the moment it is received
// until the handler asks for the next one. A stream is never refused: it
// waits for a slot.
func (l *limiter) GetGRPCServerOptions(context.Context) ([]grpc.ServerOption, error) {
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(l.unary), grpc.ChainStreamInterceptor(l.stream)}, nil
}

func (l *limiter) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if !l.acquire(ctx, l.maxWait) {
		l.tb.IngestRefused.Add(ctx, 1, l.grpc)
		return nil, status.Error(codes.ResourceExhausted, "ingest_limit: too many concurrent requests")
	}
	defer l.release(ctx)
	return handler(ctx, req)
}

func (l *limiter) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	s := &limitedStream{ServerStream: ss, l: l}
	defer s.done()
	return handler(srv, s)
}

// limitedStream holds a slot from a message's receipt until the handler
// receives the next one (or returns). gRPC reads a message before it can be
// counted, so the bound covers the handler's work on it (the pdata it
// builds), and each stream's read buffer is bounded by max_recv_msg_size.
type limitedStream struct {
	grpc.ServerStream
	l    *limiter
	held bool
}

func (s *limitedStream) RecvMsg(m any) error {
	s.done()
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if !s.l.acquire(s.Context(), -1) {
		return status.FromContextError(s.Context().Err()).Err()
	}
	s.held = true
	return nil
}

func (s *limitedStream) done() {
	if s.held {
		s.held = false
		s.l.release(s.Context())
	}
}
