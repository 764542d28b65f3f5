package e2e

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// ContribBinaryEnv points at the stock contrib collector that `make
// bench-e2e` builds from test/peers/contrib.
const ContribBinaryEnv = "GENOPS_CONTRIB_BINARY"

// wholeProcessRecords is what one iteration writes: lines or spans. Enough
// that the scrapes that wait for the count (every 250 ms; Prometheus
// scrapes every 15 s or more) are a small part of the CPU measured.
const wholeProcessRecords = 100_000

// istioRegexFor is the regex_parser regex a user of stock contrib writes
// for Istio's default TEXT format (one named group per field), followed by
// groups for the quoted fields the genops format appends.
func istioRegexFor(genops bool) string {
	re := `^\[(?P<start_time>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) (?P<protocol>\S+)" (?P<response_code>\S+) (?P<response_flags>\S+) (?P<response_code_details>\S+) (?P<connection_termination_details>\S+) "(?P<upstream_transport_failure_reason>[^"]*)" (?P<bytes_received>\S+) (?P<bytes_sent>\S+) (?P<duration>\S+) (?P<upstream_service_time>\S+) "(?P<x_forwarded_for>[^"]*)" "(?P<user_agent>[^"]*)" "(?P<request_id>[^"]*)" "(?P<authority>[^"]*)" "(?P<upstream_host>[^"]*)" (?P<upstream_cluster>\S+) (?P<upstream_local_address>\S+) (?P<downstream_local_address>\S+) (?P<downstream_remote_address>\S+) (?P<requested_server_name>\S+) (?P<route_name>\S+)`
	if genops {
		for _, f := range []string{"team", "project", "customer_id", "cost_center", "customer_tier", "environment", "feature", "model", "provider", "tokens_input", "tokens_output", "cost"} {
			re += ` "(?P<x_genops_` + f + `>[^"]*)"`
		}
	}
	return re + `$`
}

// BenchmarkWholeProcess: what a node or a gateway costs, as whole
// processes on the same input, this distribution against the same job
// done with stock contrib v0.158.0 components (test/peers/contrib,
// testdata/wholeprocess-contrib.yaml), run by `make bench-e2e`.
//
// Jobs: access_logs (Istio TEXT lines in kubelet pod log files, 10 pods
// in 5 namespaces, inbound and outbound), access_logs_genops (the same
// lines with the x-genops-* fields the mesh config adds), spans (Zipkin v2
// JSON as Istio sidecars send it, SERVER and CLIENT, 50 per request over
// 4 connections at once). Each iteration writes 100,000 records and waits
// until the process has counted all of them; the count and the sum of
// durations each side exports are checked against what was written, so
// both sides are known to have done the whole job.
//
// Reported: records per CPU-second of the collector's own PID
// (records/cpu-s; benchstat -col /impl gives the ratio), peak RSS
// (VmHWM) and the RSS once started and idle, anonymous and file-backed,
// in MiB, and the machine's steal share. Sub-benchmarks run in the order
// job/impl; `go test -count N` would repeat each one N times in a row, so
// make bench-e2e runs -count 1 N times to alternate the implementations.
func BenchmarkWholeProcess(b *testing.B) {
	contrib := os.Getenv(ContribBinaryEnv)
	if contrib == "" {
		b.Skipf("%s is not set: `make bench-e2e` builds the stock contrib collector (test/peers/contrib) and sets it", ContribBinaryEnv)
	}
	for _, job := range []string{"access_logs", "access_logs_genops", "spans"} {
		for _, impl := range []string{"genops", "contrib"} {
			b.Run("job="+job+"/impl="+impl, func(b *testing.B) {
				wholeProcess(b, job, impl, contrib)
			})
		}
	}
}

func wholeProcess(b *testing.B, job, impl, contrib string) {
	logs := b.TempDir()
	var paths []string
	for p := range 10 {
		dir := filepath.Join(logs, fmt.Sprintf("ns-%d_pod-%d-5d8f7_%08x-1c2d-4e5f-8a9b-%012x", p%5, p, p, p), "istio-proxy")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, filepath.Join(dir, "0.log"))
	}
	genops := job == "access_logs_genops"
	health, prom, zipkin := collectortest.FreeAddr(b), collectortest.FreeAddr(b), collectortest.FreeAddr(b)
	env := map[string]string{
		"E2E_HEALTH": health, "E2E_PROM": prom, "E2E_ZIPKIN": zipkin,
		"E2E_LOGS": filepath.Join(logs, "*", "istio-proxy", "*.log"),
	}
	var proc *collectortest.Process
	profile := os.Getenv("GENOPS_BENCH_PROFILE") // a directory for CPU profiles
	if impl == "genops" {
		env["E2E_FORMAT"] = map[bool]string{false: "istio", true: "istio_genops"}[genops]
		// GENOPS_BENCH_ZIPKIN=zipkin_contrib measures contrib's receiver
		// in this distribution's pipeline (the receiver's before/after).
		env["E2E_ZIPKIN_RECEIVER"] = "zipkin"
		if r := os.Getenv("GENOPS_BENCH_ZIPKIN"); r != "" {
			env["E2E_ZIPKIN_RECEIVER"] = r
		}
		configs := []string{"testdata/wholeprocess-genops.yaml"}
		if profile != "" {
			env["E2E_PPROF"] = collectortest.FreeAddr(b)
			configs = append(configs, "testdata/wholeprocess-pprof.yaml")
		}
		proc = collectortest.StartConfigs(b, env, configs...)
	} else {
		env["E2E_REGEX"] = istioRegexFor(genops)
		cmd := exec.Command(contrib, "--config", "testdata/wholeprocess-contrib.yaml")
		cmd.Env = os.Environ()
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		proc = collectortest.StartCmd(b, cmd)
	}
	proc.WaitHealthy(b, health)
	pid := proc.Cmd.Process.Pid
	time.Sleep(2 * time.Second) // settle: the idle footprint
	idleAnon, idleFile := rss(b, pid, "RssAnon"), rss(b, pid, "RssFile")

	// write returns how many requests the records written are, and the
	// sum of their durations.
	var write func() (requests, ms float64)
	if job == "spans" {
		write = func() (float64, float64) { return postSpans(b, "http://"+zipkin+"/api/v2/spans") }
	} else {
		write = func() (float64, float64) { return appendLines(b, paths, genops) }
	}
	var want, wantMs float64
	round := func() {
		n, ms := write()
		want, wantMs = want+n, wantMs+ms
		deadline := time.Now().Add(3 * time.Minute)
		for {
			n, ms, err := exported(prom, impl, job)
			// The counts are exact; durations are summed as floats in
			// another order and unit on each side. A scrape can see the
			// counter of the last export before its histogram (the
			// Prometheus exporter stores each metric of an export on its
			// own), so durations may lag a poll behind the count.
			sums := math.Abs(ms-wantMs) <= 1e-6*wantMs
			if err == nil && n == want && sums {
				return
			}
			if err == nil && n > want {
				b.Fatalf("%s counted %v records; %v were written", impl, n, want)
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s counted %v of %v records with %v of %v ms of durations: %v\n%s", impl, n, want, ms, wantMs, err, proc.Output())
			}
			time.Sleep(250 * time.Millisecond) // each scrape costs the collector CPU
		}
	}
	round() // warm up: files found, connections made, series created
	meter := collectortest.StartMeter()
	cpu0 := processCPU(b, pid)
	var profiled sync.WaitGroup
	if profile != "" && impl == "genops" {
		// Where this side's time goes (go tool pprof): the first 10 s of
		// the measured rounds.
		profiled.Go(func() {
			resp, err := http.Get("http://" + env["E2E_PPROF"] + "/debug/pprof/profile?seconds=10")
			if err != nil {
				b.Error(err)
				return
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			_ = os.WriteFile(filepath.Join(profile, job+".pprof"), buf.Bytes(), 0o644)
		})
	}
	b.ResetTimer()
	for range b.N {
		round()
	}
	b.StopTimer()
	profiled.Wait()
	if profile != "" {
		// What the process printed: with GODEBUG=gctrace=1 in the
		// environment, each garbage collection.
		_ = os.WriteFile(filepath.Join(profile, job+"-"+impl+".log"), []byte(proc.Output()), 0o644)
	}
	cpu := (processCPU(b, pid) - cpu0).Seconds()
	b.ReportMetric(float64(wholeProcessRecords*b.N)/cpu, "records/cpu-s")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
	b.ReportMetric(rss(b, pid, "VmHWM"), "peak-rss-MiB")
	b.ReportMetric(idleAnon, "idle-anon-MiB")
	b.ReportMetric(idleFile, "idle-file-MiB")
	meter.ReportSteal(b)
}

// lineSeq numbers the generated records across rounds and runs, so that
// no two are alike (request ids, trace ids).
var lineSeq int

// appendLines appends wholeProcessRecords Istio lines, CRI-wrapped, over
// the pods' files (half inbound, half outbound, the shapes of the
// istio.io samples) and returns how many requests they are and the sum
// of their durations. A request is its inbound line: this distribution
// counts a request once, at the callee's proxy (the outbound line is the
// same request seen by the caller's), and the contrib side counts the
// inbound lines (a condition on upstream_cluster).
func appendLines(b *testing.B, paths []string, genops bool) (float64, float64) {
	var chunks = make([]strings.Builder, len(paths))
	var ms float64
	for range wholeProcessRecords {
		lineSeq++
		n := lineSeq
		p := n % len(paths)
		d := 1 + n%400
		if n%2 == 0 {
			ms += float64(d)
		}
		code := []int{200, 200, 200, 503}[n%4]
		svc := fmt.Sprintf("svc-%d.ns-%d.svc.cluster.local", (n/10)%10, (n/10)%5)
		var line string
		if n%2 == 0 {
			line = fmt.Sprintf(`[2026-12-02T10:00:00.000Z] "POST /v1/chat/%d HTTP/1.1" %d - via_upstream - "-" 120 135 %d %d "-" "python-requests/2.31" "84961386-6d84-929d-98bd-%012d" "%s:8000" "10.44.1.27:8000" inbound|8000|| 127.0.0.1:41854 10.44.1.27:8000 10.44.1.23:37652 outbound_.8000_._.%s default`,
				n%50, code, d, d, n, svc, svc)
		} else {
			line = fmt.Sprintf(`[2026-12-02T10:00:00.000Z] "POST /v1/chat/%d HTTP/1.1" %d - via_upstream - "-" 120 135 %d %d "-" "python-requests/2.31" "84961386-6d84-929d-98bd-%012d" "%s:8000" "10.44.1.27:8000" outbound|8000||%s 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default`,
				n%50, code, d, d, n, svc, svc)
		}
		if genops {
			line += fmt.Sprintf(` "team-%d" "project-%d" "customer-%d" "cc-%d" "gold" "prod" "chat" "-" "-" "-" "-" "-"`, n%3, n%4, n%20, n%2)
		}
		fmt.Fprintf(&chunks[p], "2026-12-02T10:00:00.000000000Z stdout F %s\n", line)
	}
	for i, path := range paths {
		appendChunk(b, path, chunks[i].String())
	}
	return wholeProcessRecords / 2, ms
}

// postSpans sends wholeProcessRecords Zipkin v2 JSON spans as Istio's
// sidecars report them (a CLIENT span from the caller's sidecar and a
// SERVER span from the callee's, the tags Envoy's Zipkin tracer and
// Istio's custom tags set), 50 per request, over 4 connections at once,
// and returns how many requests they are and the sum of their durations.
// A request is its SERVER span: this distribution counts a request once,
// at the callee (the CLIENT span is the same request seen by the caller),
// and the contrib side's count is read for span_kind SERVER.
func postSpans(b *testing.B, url string) (float64, float64) {
	const perRequest = 50
	var bodies [][]byte
	var ms float64
	var buf bytes.Buffer
	for i := range wholeProcessRecords {
		lineSeq++
		n := lineSeq
		if i%perRequest == 0 {
			buf.Reset()
			buf.WriteByte('[')
		} else {
			buf.WriteByte(',')
		}
		d := 1 + n%400
		kind, side := "SERVER", "inbound"
		if n%2 == 1 {
			kind, side = "CLIENT", "outbound"
		} else {
			ms += float64(d)
		}
		svc, ns := (n/10)%10, (n/10)%5
		fmt.Fprintf(&buf, `{"traceId":"%016x%016x","parentId":"%016x","id":"%016x","kind":"%s","name":"svc-%d.ns-%d.svc.cluster.local:8000/v1/chat","timestamp":%d,"duration":%d,`+
			`"localEndpoint":{"serviceName":"svc-%d.ns-%d","ipv4":"10.44.%d.%d"},"remoteEndpoint":{"ipv4":"10.44.1.23","port":46520},"shared":true,`+
			`"tags":{"component":"proxy","downstream_cluster":"-","guid:x-request-id":"84961386-6d84-929d-98bd-%012d","http.method":"POST","http.protocol":"HTTP/1.1",`+
			`"http.status_code":"%d","http.url":"http://svc-%d.ns-%d:8000/v1/chat","istio.canonical_revision":"v1","istio.canonical_service":"svc-%d","istio.mesh_id":"cluster.local",`+
			`"istio.namespace":"ns-%d","node_id":"sidecar~10.44.%d.%d~svc-%d-5d8f7.ns-%d~ns-%d.svc.cluster.local","peer.address":"10.44.1.23","request_size":"120","response_flags":"-",`+
			`"response_size":"135","upstream_cluster":"%s|8000||svc-%d.ns-%d.svc.cluster.local","upstream_cluster.name":"%s|8000||svc-%d.ns-%d.svc.cluster.local","user_agent":"python-requests/2.31",`+
			`"x-genops-team":"team-%d","x-genops-project":"project-%d","x-genops-customer-id":"customer-%d"}}`,
			n, n, n+1, n, kind, svc, ns, 1764669600000000+int64(n), d*1000,
			svc, ns, svc, ns%250+1,
			n, []int{200, 200, 200, 503}[n%4], svc, ns, svc, ns, svc, ns%250+1, svc, ns, ns,
			side, svc, ns, side, svc, ns, n%3, n%4, n%20)
		if i%perRequest == perRequest-1 || i == wholeProcessRecords-1 {
			buf.WriteByte(']')
			bodies = append(bodies, bytes.Clone(buf.Bytes()))
		}
	}
	work := make(chan []byte)
	var wg sync.WaitGroup
	var failed error
	var mu sync.Mutex
	for range 4 {
		wg.Go(func() {
			for body := range work {
				resp, err := http.Post(url, "application/json", bytes.NewReader(body))
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						err = fmt.Errorf("POST %s: %s", url, resp.Status)
					}
				}
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			}
		})
	}
	for _, body := range bodies {
		work <- body
	}
	close(work)
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
	return wholeProcessRecords / 2, ms
}

// exported is how many requests a side has exported and the sum of their
// durations in milliseconds: this distribution's genops_requests_total
// and genops_request_duration_seconds, contrib's bench_requests_total and
// bench_request_duration_milliseconds (access logs) or
// traces_span_metrics_calls_total and _duration_milliseconds (spans).
func exported(prom, impl, job string) (n, ms float64, err error) {
	families, err := collectortest.Scrape("http://" + prom + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	count, hist, scale := "genops_requests_total", "genops_request_duration_seconds", 1000.0
	if impl == "contrib" {
		count, hist, scale = "bench_requests_total", "bench_request_duration_milliseconds", 1
		if job == "spans" {
			count, hist = "traces_span_metrics_calls_total", "traces_span_metrics_duration_milliseconds"
		}
	}
	mf, ok := families[count]
	if !ok {
		return 0, 0, fmt.Errorf("no %s yet", count)
	}
	// Contrib's span metrics count every span; a request is a SERVER span.
	server := func(m *dto.Metric) bool {
		if impl != "contrib" || job != "spans" {
			return true
		}
		for _, l := range m.GetLabel() {
			if l.GetName() == "span_kind" {
				return l.GetValue() == "SPAN_KIND_SERVER"
			}
		}
		return false
	}
	for _, m := range mf.GetMetric() {
		if server(m) {
			n += m.GetCounter().GetValue()
		}
	}
	if h, ok := families[hist]; ok {
		for _, m := range h.GetMetric() {
			if server(m) {
				ms += m.GetHistogram().GetSampleSum() * scale
			}
		}
	}
	return n, ms, nil
}

// appendChunk appends lines to a pod's log file in one write, as the
// kubelet's log writer does.
func appendChunk(b *testing.B, path, lines string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(lines); err != nil {
		b.Fatal(err)
	}
}

// rss is a /proc/pid/status memory field (VmHWM, RssAnon, RssFile) in MiB.
func rss(b *testing.B, pid int, field string) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
