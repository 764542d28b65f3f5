package e2e

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// BenchmarkTieredAgent: what a tiered agent costs per 10,000 requests, as
// a whole process, against an agent that counts locally (the daemonset
// mode's job, testdata/bench-local.yaml) on the same lines. Each
// iteration appends 10,000 istio_genops_json lines across 10 pods' logs
// and waits until they are counted (on the gateway, or locally). Reported:
// CPU-seconds of the agent's own PID per 10,000 requests (cpu-s/op), and
// for tiered the bytes it sent to the gateway (bytes/op, gzip-compressed
// OTLP as the shipped config sends it, through a counting proxy).
// Without Kubernetes (GENOPS_KUBERNETES_MODE=off): the informer's cost is
// the same in both modes.
func BenchmarkTieredAgent(b *testing.B) {
	for _, impl := range []string{"tiered", "local"} {
		b.Run("impl="+impl, func(b *testing.B) {
			root := filepath.Join("..", "..")
			logs := b.TempDir()
			var agent *collectortest.Process
			var sent *atomic.Int64
			var counted string // the /metrics that counts
			// Ten pods in five namespaces, their files created with their
			// first lines, after the agent started (read from the
			// beginning: testdata/from-beginning.yaml).
			var paths []string
			for p := range 10 {
				dir := filepath.Join(logs, fmt.Sprintf("ns-%d_pod-%d_uid-%d", p%5, p, p), "istio-proxy")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					b.Fatal(err)
				}
				paths = append(paths, filepath.Join(dir, "0.log"))
			}
			if impl == "tiered" {
				env, otlp, prom, gwHealth := tieredGatewayEnv(b, offGateway)
				gw := collectortest.StartConfigs(b, env, filepath.Join(root, "config", "tiered-gateway.yaml"))
				gw.WaitHealthy(b, gwHealth)
				var proxy string
				proxy, sent = countingProxy(b, otlp)
				agent, _ = startTieredAgent(b, []string{proxy}, filepath.Join(logs, "*", "istio-proxy", "*.log"),
					map[string]string{"GENOPS_KUBERNETES_MODE": "off"}, "testdata/from-beginning.yaml")
				counted = prom
			} else {
				counted = collectortest.FreeAddr(b)
				health := collectortest.FreeAddr(b)
				agent = collectortest.StartConfigs(b, map[string]string{"E2E_HEALTH": health, "E2E_PROM": counted,
					"E2E_LOGS": filepath.Join(logs, "*", "istio-proxy", "*.log")}, "testdata/bench-local.yaml")
				agent.WaitHealthy(b, health)
			}

			var chunk [10]strings.Builder
			for n := range 10_000 {
				fmt.Fprintf(&chunk[n%10], `2026-12-01T10:00:00.000000000Z stdout F {"start_time":"2026-12-01T10:00:00.000Z","method":"POST","path":"/v1/chat",`+
					`"protocol":"HTTP/2","response_code":%d,"duration":%d,"authority":"svc-%d.ns-%d:8080","upstream_cluster":"inbound|8080||",`+
					`"downstream_remote_address":"10.9.9.9:40000","request_id":"req-%d","genops_team":"team-%d"}`+"\n",
					[]int{200, 200, 200, 503}[n%4], 5+n%400, n%10, n%10%5, n, n%3)
			}
			total := 0
			round := func() {
				for i, path := range paths {
					appendChunk(b, path, chunk[i].String())
				}
				total += 10_000
				deadline := time.Now().Add(2 * time.Minute)
				for {
					s, err := scrapeSeries(counted)
					var n float64
					for _, v := range requestsBy(s) {
						n += v
					}
					if err == nil && n >= float64(total) {
						return
					}
					if time.Now().After(deadline) {
						b.Fatalf("%v of %d requests counted: %v", n, total, err)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			round() // warm up: files found, connections made
			cpu0 := processCPU(b, agent.Cmd.Process.Pid)
			var bytes0 int64
			if sent != nil {
				bytes0 = sent.Load()
			}
			b.ResetTimer()
			for range b.N {
				round()
			}
			b.StopTimer()
			b.ReportMetric((processCPU(b, agent.Cmd.Process.Pid)-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			if sent != nil {
				b.ReportMetric(float64(sent.Load()-bytes0)/float64(b.N), "bytes/op")
			}
		})
	}
}

// countingProxy forwards TCP connections to target and counts the bytes
// sent towards it.
func countingProxy(b *testing.B, target string) (string, *atomic.Int64) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	b.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(countingWriter{out, &n}, in)
				out.Close()
			}()
			go func() {
				defer wg.Done()
				_, _ = io.Copy(in, out)
				in.Close()
			}()
		}
	}()
	return l.Addr().String(), &n
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// processCPU is the user and system CPU time of pid so far
// (/proc/pid/stat, in clock ticks of 10 ms).
func processCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name, which is in parentheses.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
