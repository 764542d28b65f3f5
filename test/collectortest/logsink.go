package collectortest

import (
	"context"
	"net"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
)

// LogSink is an OTLP/gRPC logs endpoint that outlives the collector under
// test, so what the collector delivered can be counted across restarts
// and crashes: every record's value of one attribute is tallied.
type LogSink struct {
	plogotlp.UnimplementedGRPCServer
	// Addr is the sink's host:port.
	Addr    string
	key     string
	mu      sync.Mutex
	seen    map[string]int
	records int
}

// StartLogSink serves OTLP logs on a free 127.0.0.1 port until the test
// ends, counting records by the value of the attribute key.
func StartLogSink(t testing.TB, key string) *LogSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &LogSink{Addr: ln.Addr().String(), key: key, seen: map[string]int{}}
	srv := grpc.NewServer()
	plogotlp.RegisterGRPCServer(srv, s)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return s
}

// Export records a batch.
func (s *LogSink) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rls := req.Logs().ResourceLogs()
	for i := range rls.Len() {
		sls := rls.At(i).ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				s.record(lrs.At(k))
			}
		}
	}
	return plogotlp.NewExportResponse(), nil
}

func (s *LogSink) record(lr plog.LogRecord) {
	s.records++
	if v, ok := lr.Attributes().Get(s.key); ok {
		s.seen[v.AsString()]++
	}
}

// Counts returns how many records carried each value, and the number of
// records in all.
func (s *LogSink) Counts() (map[string]int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.seen))
	for k, v := range s.seen {
		out[k] = v
	}
	return out, s.records
}
