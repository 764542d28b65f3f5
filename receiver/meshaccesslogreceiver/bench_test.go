package meshaccesslogreceiver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/filelogreceiver"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/genops-mesh/otelcol-genops/receiver/meshaccesslogreceiver/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// benchLines is the size of the file each iteration reads.
const benchLines = 100_000

// istioRegex is what a user of the stock file_log receiver writes for
// Istio's default format: one named group per field.
const istioRegex = `^\[(?P<start_time>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) (?P<protocol>\S+)" (?P<response_code>\S+) (?P<response_flags>\S+) (?P<response_code_details>\S+) (?P<connection_termination_details>\S+) "(?P<upstream_transport_failure_reason>[^"]*)" (?P<bytes_received>\S+) (?P<bytes_sent>\S+) (?P<duration>\S+) (?P<upstream_service_time>\S+) "(?P<x_forwarded_for>[^"]*)" "(?P<user_agent>[^"]*)" "(?P<request_id>[^"]*)" "(?P<authority>[^"]*)" "(?P<upstream_host>[^"]*)" (?P<upstream_cluster>\S+) (?P<upstream_local_address>\S+) (?P<downstream_local_address>\S+) (?P<downstream_remote_address>\S+) (?P<requested_server_name>\S+) (?P<route_name>\S+)$`

var (
	benchFileOnce sync.Once
	benchFileDir  string
)

// benchFile writes benchLines Istio-format lines (the shapes of the
// istio.io samples, inbound and outbound, with distinct request ids) once
// per process.
func benchFile(b *testing.B) string {
	benchFileOnce.Do(func() {
		dir, err := os.MkdirTemp("", "meshaccesslog-bench-")
		if err != nil {
			b.Fatal(err)
		}
		var sb strings.Builder
		for i := range benchLines {
			if i%2 == 0 {
				fmt.Fprintf(&sb, `[2020-11-25T21:26:18.409Z] "GET /status/%d HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-%012d" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default`+"\n", i%500, i)
			} else {
				fmt.Fprintf(&sb, `[2020-11-25T21:26:18.409Z] "GET /status/%d HTTP/1.1" 418 - via_upstream - "-" 0 135 3 1 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-%012d" "httpbin:8000" "127.0.0.1:80" inbound|8000|| 127.0.0.1:41854 10.44.1.27:80 10.44.1.23:37652 outbound_.8000_._.httpbin.foo.svc.cluster.local default`+"\n", i%500, i)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "access.log"), []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		benchFileDir = dir
	})
	return filepath.Join(benchFileDir, "*.log")
}

func confFromYAML(b *testing.B, yml string, cfg any) {
	retrieved, err := confmap.NewRetrievedFromYAML([]byte(yml))
	if err != nil {
		b.Fatal(err)
	}
	conf, err := retrieved.AsConf()
	if err != nil {
		b.Fatal(err)
	}
	if err := conf.Unmarshal(cfg); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFileReceiver reads the same file of Istio access log lines,
// start to end, into a consumer that only counts records: this receiver
// (format: istio) against the stock file_log receiver with a regex_parser
// for the same format and a timestamp parse, as in one `make bench` run
// (benchstat -col /impl shows the ratio). Each iteration is a fresh
// receiver reading all benchLines lines.
func BenchmarkFileReceiver(b *testing.B) {
	glob := benchFile(b)
	impls := []struct {
		name    string
		factory receiver.Factory
		yaml    string
	}{
		{"mesh_access_log", NewFactory(), fmt.Sprintf("include: [%s]\nstart_at: beginning\npoll_interval: 10ms\nunwrap: none\nformat: istio\n", glob)},
		{"file_log_regex", filelogreceiver.NewFactory(), fmt.Sprintf(`include: [%s]
start_at: beginning
poll_interval: 10ms
operators:
  - type: regex_parser
    regex: '%s'
    timestamp:
      parse_from: attributes.start_time
      layout_type: gotime
      layout: '2006-01-02T15:04:05.000Z'
`, glob, istioRegex)},
	}
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			cfg := impl.factory.CreateDefaultConfig()
			confFromYAML(b, impl.yaml, cfg)
			var records atomic.Int64
			next, err := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
				records.Add(int64(ld.LogRecordCount()))
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			set := receivertest.NewNopSettings(impl.factory.Type())
			if impl.factory.Type() == metadata.Type {
				set = receivertest.NewNopSettings(metadata.Type)
			}
			b.ReportAllocs()
			meter := collectortest.StartMeter()
			b.ResetTimer()
			for b.Loop() {
				records.Store(0)
				r, err := impl.factory.CreateLogs(context.Background(), set, cfg, next)
				if err != nil {
					b.Fatal(err)
				}
				if err := r.Start(context.Background(), componenttest.NewNopHost()); err != nil {
					b.Fatal(err)
				}
				deadline := time.Now().Add(5 * time.Minute)
				for records.Load() < benchLines {
					if time.Now().After(deadline) {
						b.Fatalf("%s read %d of %d lines", impl.name, records.Load(), benchLines)
					}
					time.Sleep(time.Millisecond)
				}
				if err := r.Shutdown(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			lines := float64(benchLines) * float64(b.N)
			b.ReportMetric(lines/b.Elapsed().Seconds(), "lines/s")
			// Per core: lines per second of CPU the whole process used
			// (readers, parsing, GC), whatever the number of cores.
			b.ReportMetric(lines/meter.CPU().Seconds(), "lines/cpu-s")
			meter.ReportSteal(b)
		})
	}
}
