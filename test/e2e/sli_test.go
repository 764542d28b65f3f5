package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// Sidecar access logs through the built distribution into the metric
// contract: both sidecars log each request and it counts once; 503s and
// upstream failures are bad; latency lands in the SLO file's buckets.
//
// The governance processor takes the team from the header (no cluster
// here: kubernetes.mode off).
func TestAccessLogsToSLIMetrics(t *testing.T) {
	dir := t.TempDir()
	writeLog := func(pod string, lines []string) {
		d := filepath.Join(dir, "pods", "ai_"+pod+"_0a1b2c3d-0000-1111-2222-333344445555", "istio-proxy")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, l := range lines {
			fmt.Fprintf(&b, "2026-11-20T10:00:00.000000000Z stdout F %s\n", l)
		}
		if err := os.WriteFile(filepath.Join(d, "0.log"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	line := func(direction string, code int, flags string, durationMs int, team string) string {
		cluster := "inbound|8080||"
		if direction == "outbound" {
			cluster = "outbound|8080||llm.ai.svc.cluster.local"
		}
		return fmt.Sprintf(`[2026-11-20T10:00:00.000Z] "POST /v1/chat/completions HTTP/2" %d %s via_upstream - "-" 512 2048 %d %d "-" "python-httpx/0.27.0" "3c1f0b9e" "llm.ai.svc.cluster.local:8080" "10.0.0.7:8080" %s 127.0.0.6:51515 10.0.0.7:8080 10.0.0.9:40000 - default "%s" "cust-42" "support-bot"`,
			code, flags, durationMs, durationMs, cluster, team)
	}
	// The server's sidecar (pod llm-0) and the client's (pod client-0) log
	// the same four requests.
	requests := []struct {
		code       int
		flags      string
		durationMs int
	}{{200, "-", 120}, {200, "-", 1800}, {503, "UF", 3}, {200, "-", 40}}
	var server, client []string
	for _, r := range requests {
		server = append(server, line("inbound", r.code, r.flags, r.durationMs, "ml-platform"))
		client = append(client, line("outbound", r.code, r.flags, r.durationMs+1, "ml-platform"))
	}
	writeLog("llm-0", server)
	writeLog("client-0", client)

	prom, health := collectortest.FreeAddr(t), collectortest.FreeAddr(t)

	col := collectortest.StartConfigs(t, map[string]string{"E2E_HEALTH": health, "E2E_PROM": prom, "E2E_LOGS": filepath.Join(dir, "pods")},
		"testdata/sli.yaml", "testdata/trust-every-claim.yaml", "testdata/no-telemetry.yaml")
	col.WaitHealthy(t, health)
	base := map[string]string{"namespace": "ai", "service": "llm", "route": "default", "genops_team": "ml-platform",
		"genops_project": "support-bot", "genops_customer_id": "cust-42", "genops_cost_center": "unknown", "reporter": "destination"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	col.Eventually(t, 30*time.Second, func() error {
		families, err := collectortest.Scrape("http://" + prom + "/metrics")
		if err != nil {
			return err
		}
		requests := collectortest.Samples(families["genops_requests_total"])
		for _, w := range []struct {
			labels map[string]string
			value  float64
		}{
			{with(map[string]string{"availability": "good", "response_code_class": "2xx"}), 3},
			{with(map[string]string{"availability": "bad", "response_code_class": "5xx"}), 1},
		} {
			got := collectortest.Matching(requests, w.labels)
			if len(got) != 1 || got[0].Value != w.value {
				return fmt.Errorf("genops_requests_total%v = %v, want %v (all: %v)", w.labels, got, w.value, requests)
			}
		}
		if src := collectortest.Matching(requests, map[string]string{"reporter": "source"}); len(src) != 0 {
			return fmt.Errorf("the client sidecar's records were counted: %v", src)
		}
		// The histogram's buckets include the SLO file's 2s and 500ms
		// thresholds, written as the rules write them.
		buckets := families["genops_request_duration_seconds"]
		if buckets == nil || len(buckets.GetMetric()) != 1 {
			return fmt.Errorf("genops_request_duration_seconds: %v", buckets)
		}
		h := buckets.GetMetric()[0].GetHistogram()
		le := map[float64]uint64{}
		for _, b := range h.GetBucket() {
			le[b.GetUpperBound()] = b.GetCumulativeCount()
		}
		if h.GetSampleCount() != 4 || le[0.5] != 3 || le[2] != 4 {
			return fmt.Errorf("histogram count %d, le=0.5 %d (want 3), le=2 %d (want 4): %v", h.GetSampleCount(), le[0.5], le[2], le)
		}
		return nil
	})
}
