// Package soak runs the built collector for a while on a node whose pods
// come and go all the time, as a DaemonSet collector lives for months on
// CI runners and batch nodes: a real kube-apiserver (envtest) where pods
// are created and deleted continuously, each writing its own
// /var/log/pods/<ns>_<pod>_<uid>/istio-proxy/0.log (rotated the kubelet's
// way, removed after the pod), and steady Zipkin spans. Every 10 s it
// samples the collector's RSS (anonymous and file), open descriptors,
// goroutines and the sizes of its state (pods cached live and deleted,
// files matched) and fails if any of them grows with the pods seen rather
// than with the pods alive. Every line a pod wrote is attributed to its
// team; none is unknown.
//
// make test runs 2 minutes (SOAK_DURATION); make soak runs 30 and keeps
// the samples and a plot in SOAK_OUT.
package soak

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/kubetest"
)

const (
	namespace = "soak"
	teams     = 5
	// concurrent pods, each living about podLife.
	concurrent = 20
	podLife    = 3 * time.Second
	// defaultGrace is the collector's kubernetes.delete_grace_period
	// here unless SOAK_GRACE says otherwise (make soak: 2m, the default):
	// short, so that the pods kept for it reach their steady number early
	// in a 2-minute run.
	defaultGrace = 15 * time.Second
)

// sample is one measurement of the collector.
type sample struct {
	at                   time.Duration
	rssAnon, rssFile     int64 // KiB
	fds, goroutines      int
	live, deleted, files int
	podsAlive, podsSeen  int64
	linesWritten         int64
}

func duration(t *testing.T) time.Duration {
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("SOAK_DURATION: %v", err)
		}
		return d
	}
	return 2 * time.Minute
}

func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak test runs minutes")
	}
	run := duration(t)
	grace := defaultGrace
	if v := os.Getenv("SOAK_GRACE"); v != "" {
		var err error
		if grace, err = time.ParseDuration(v); err != nil {
			t.Fatalf("SOAK_GRACE: %v", err)
		}
	}
	cluster := kubetest.Start(t)
	ctx := context.Background()
	if _, err := cluster.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: namespace, Labels: map[string]string{"istio-injection": "enabled"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	logs := filepath.Join(t.TempDir(), "pods")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	health, pprofAddr, prom, zipkin, telemetry := collectortest.FreeAddr(t), collectortest.FreeAddr(t), collectortest.FreeAddr(t),
		collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	col := collectortest.StartConfigs(t, map[string]string{
		"SOAK_HEALTH": health, "SOAK_PPROF": pprofAddr, "SOAK_PROM": prom, "SOAK_ZIPKIN": zipkin, "SOAK_LOGS": logs,
		"SOAK_KUBECONFIG": cluster.Kubeconfig, "SOAK_GRACE": grace.String(),
		"E2E_TELEMETRY_PORT": strconv.Itoa(collectortest.Port(t, telemetry)),
	}, "testdata/soak.yaml", "../e2e/testdata/telemetry.yaml")
	col.WaitHealthy(t, health)
	pid := col.Cmd.Process.Pid

	var c churn
	c.logs, c.cluster = logs, cluster
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range concurrent {
		wg.Go(func() { c.worker(w, stop) })
	}
	wg.Go(func() { spans(zipkin, stop) })

	var samples []sample
	start := time.Now()
	take := func() {
		s := sample{at: time.Since(start), podsAlive: c.alive.Load(), podsSeen: c.seen.Load(), linesWritten: c.lines.Load()}
		s.rssAnon, s.rssFile = rss(t, pid)
		s.fds = fds(t, pid)
		s.goroutines = goroutines(t, pprofAddr)
		self := scrape(t, "http://"+telemetry+"/metrics")
		s.live = int(self[`genops_kubernetes_pods{state="live"}`])
		s.deleted = int(self[`genops_kubernetes_pods{state="deleted"}`])
		s.files = int(self[`otelcol_receiver_mesh_access_log_files_matched`])
		samples = append(samples, s)
		t.Logf("%5.0fs rss anon %d KiB file %d KiB, fds %d, goroutines %d, pods cached %d live %d deleted, files %d; pods alive %d seen %d, lines %d",
			s.at.Seconds(), s.rssAnon, s.rssFile, s.fds, s.goroutines, s.live, s.deleted, s.files, s.podsAlive, s.podsSeen, s.linesWritten)
	}
	tick := time.NewTicker(10 * time.Second)
	for time.Since(start) < run {
		<-tick.C
		take()
	}
	tick.Stop()
	close(stop)
	wg.Wait()
	if failed := c.failed.Load(); failed != nil {
		t.Fatal(*failed)
	}

	// Every line written is counted, under its pod's team.
	want := c.lines.Load()
	var got float64
	var byTeam map[string]float64
	col.Eventually(t, 2*grace, func() error {
		byTeam = teamsOf(t, "http://"+prom+"/metrics")
		got = 0
		for _, n := range byTeam {
			got += n
		}
		if int64(got) != want {
			return fmt.Errorf("%v requests counted of %d lines written: %v", got, want, byTeam)
		}
		return nil
	})
	if n := byTeam["unknown"]; n != 0 {
		t.Errorf("%v lines attributed to unknown", n)
	}
	if out := os.Getenv("SOAK_OUT"); out != "" {
		if err := write(out, samples); err != nil {
			t.Error(err)
		}
	}
	checkFlat(t, samples)
}

// checkFlat fails when a measure grows with the pods seen: after the
// run's first third the pods seen at least double, and a measure bounded
// by the pods alive stays near the highest level of that first third.
func checkFlat(t *testing.T, samples []sample) {
	t.Helper()
	if len(samples) < 6 {
		t.Fatalf("%d samples: the run is too short to judge", len(samples))
	}
	third := len(samples) / 3
	early, last := samples[third], samples[len(samples)-1]
	// The end is the median of the last three samples: one may catch a
	// burst (a scrape, a GC).
	final := func(of func(sample) float64) float64 {
		v := []float64{of(samples[len(samples)-3]), of(samples[len(samples)-2]), of(last)}
		sort.Float64s(v)
		return v[1]
	}
	if last.podsSeen < 2*early.podsSeen {
		t.Fatalf("pods seen %d after a third of the run, %d at the end: too little churn to judge", early.podsSeen, last.podsSeen)
	}
	for _, m := range []struct {
		name     string
		of       func(sample) float64
		slack    float64 // an absolute allowance (warm-up, GC)
		relative float64
	}{
		{"anonymous RSS (KiB)", func(s sample) float64 { return float64(s.rssAnon) }, 16 * 1024, 1.25},
		{"open descriptors", func(s sample) float64 { return float64(s.fds) }, 2 * concurrent, 1.25},
		{"goroutines", func(s sample) float64 { return float64(s.goroutines) }, 2 * concurrent, 1.25},
		{"pods cached live", func(s sample) float64 { return float64(s.live) }, concurrent, 1},
		{"pods cached deleted", func(s sample) float64 { return float64(s.deleted) }, 2 * concurrent, 1.25},
		{"files matched", func(s sample) float64 { return float64(s.files) }, 2 * concurrent, 1},
	} {
		// The level is the highest of the first third (a sample may
		// catch a burst).
		level := 0.0
		for _, s := range samples[:third+1] {
			level = math.Max(level, m.of(s))
		}
		if end := final(m.of); end > level*m.relative+m.slack {
			t.Errorf("%s grows with the pods seen: %.0f at most in the first third (pods seen %d), %.0f at the end (pods seen %d)",
				m.name, level, early.podsSeen, end, last.podsSeen)
		}
	}
}

// churn creates and deletes pods, each writing its log file.
type churn struct {
	logs               string
	cluster            *kubetest.Cluster
	seen, alive, lines atomic.Int64
	failed             atomic.Pointer[string]
}

func (c *churn) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.failed.CompareAndSwap(nil, &msg)
}

// worker runs pods one after another until stop: create, write lines
// (rotating once, as the kubelet does at its size limit), delete, and
// remove the log directory after the grace period (the kubelet removes a
// deleted pod's logs).
func (c *churn) worker(w int, stop chan struct{}) {
	ctx := context.Background()
	var removals []string
	defer func() {
		for _, d := range removals {
			os.RemoveAll(d)
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		n := c.seen.Add(1)
		name := fmt.Sprintf("job-%d-%d", w, i)
		team := fmt.Sprintf("t-%d", n%teams)
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name,
			Labels:      map[string]string{"app": "job", "genops.ai/team": team},
			Annotations: map[string]string{"sidecar.istio.io/status": `{"containers":["istio-proxy"]}`}},
			Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}}
		created, err := c.cluster.Client.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			c.fail("create %s: %v", name, err)
			return
		}
		ip := fmt.Sprintf("10.%d.%d.%d", 100+w, (i/250)%250, i%250+1)
		created.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
			StartTime: &metav1.Time{Time: time.Now()}}
		if _, err := c.cluster.Client.CoreV1().Pods(namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			c.fail("status %s: %v", name, err)
			return
		}
		c.alive.Add(1)
		dir := filepath.Join(c.logs, fmt.Sprintf("%s_%s_%s", namespace, name, created.UID), "istio-proxy")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			c.fail("%v", err)
			return
		}
		// Wait until the informer knows the pod: the kubelet starts no
		// container before the API server has the pod either.
		time.Sleep(500 * time.Millisecond)
		path := filepath.Join(dir, "0.log")
		for part := range 2 {
			if err := c.write(path, name, 10); err != nil {
				c.fail("%v", err)
				return
			}
			time.Sleep(podLife / 2)
			if part == 0 {
				if err := os.Rename(path, path+"."+time.Now().Format("20060102-150405")); err != nil {
					c.fail("%v", err)
					return
				}
			}
		}
		zero := int64(0)
		if err := c.cluster.Client.CoreV1().Pods(namespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			c.fail("delete %s: %v", name, err)
			return
		}
		c.alive.Add(-1)
		removals = append(removals, filepath.Dir(dir))
		// The kubelet removes a deleted pod's directory soon after; the
		// lines were read within the grace period.
		for len(removals) > 3 {
			os.RemoveAll(removals[0])
			removals = removals[1:]
		}
	}
}

func (c *churn) write(path, pod string, n int) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	for range n {
		id := c.lines.Add(1)
		fmt.Fprintf(w, `%s stdout F [%s] "POST /v1/chat/completions HTTP/2" 200 - via_upstream - "-" 512 2048 120 100 "-" "python-httpx/0.27.0" "%s-%d" "job.soak:8080" "10.1.0.7:8080" inbound|8080|| 127.0.0.6:51515 10.1.0.7:8080 10.9.9.9:40000 - default "-" "-" "-" "-" "-" "-" "-" "-" "-" "-" "-" "-"`+"\n",
			time.Now().UTC().Format(time.RFC3339Nano), time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), pod, id)
	}
	return w.Flush()
}

// spans posts a Zipkin v2 span every 100 ms until stop.
func spans(addr string, stop chan struct{}) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		now := time.Now().UnixMicro()
		body := fmt.Sprintf(`[{"traceId":"%032x","id":"%016x","kind":"SERVER","name":"post /v1/chat","timestamp":%d,"duration":120000,"localEndpoint":{"serviceName":"llm"},"tags":{"http.status_code":"200"}}]`, i+1, i+1, now)
		resp, err := http.Post("http://"+addr+"/api/v2/spans", "application/json", strings.NewReader(body))
		if err != nil {
			continue // the collector may be busy; spans are steady load, not counted
		}
		resp.Body.Close()
	}
}

func rss(t *testing.T, pid int) (anon, file int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("the collector is gone: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "RssAnon:":
			anon = v
		case "RssFile:":
			file = v
		}
	}
	return anon, file
}

func fds(t *testing.T, pid int) int {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("the collector is gone: %v", err)
	}
	return len(entries)
}

func goroutines(t *testing.T, pprof string) int {
	resp, err := http.Get("http://" + pprof + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatalf("pprof: %v", err)
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n') // goroutine profile: total N
	n, _ := strconv.Atoi(strings.TrimSpace(line[strings.LastIndexByte(line, ' ')+1:]))
	return n
}

// scrape returns the collector's own series as name{label="v"} → value,
// the processor and receiver labels left out.
func scrape(t *testing.T, url string) map[string]float64 {
	families, err := collectortest.Scrape(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	out := map[string]float64{}
	for name, mf := range families {
		for _, s := range collectortest.Samples(mf) {
			key := name
			if st, ok := s.Labels["state"]; ok {
				key += `{state="` + st + `"}`
			}
			out[key] += s.Value
		}
	}
	return out
}

// teamsOf sums genops_requests_total of the access log records (the
// namespace of the churned pods; the spans name none) by team.
func teamsOf(t *testing.T, url string) map[string]float64 {
	families, err := collectortest.Scrape(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	out := map[string]float64{}
	for _, s := range collectortest.Samples(families["genops_requests_total"]) {
		if s.Labels["namespace"] != namespace {
			continue
		}
		out[s.Labels["genops_team"]] += s.Value
	}
	return out
}
