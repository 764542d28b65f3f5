package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// Sidecar access logs written the way the kubelet writes them (CRI), in
// the format a GenOps user configures, go through the built distribution:
// every good line is counted by direction and team on /metrics, and every
// bad line by reason on the collector's own telemetry.
func TestAccessLogFileThroughDistribution(t *testing.T) {
	dir := t.TempDir()
	podDir := filepath.Join(dir, "pods", "shop_checkout-7d9f8b6c5-x2x9z_5b1c6d9e-1111-2222-3333-444455556666", "istio-proxy")
	if err := os.MkdirAll(podDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(podDir, "0.log")

	genops := func(dir, team string) string {
		cluster := "inbound|8080||"
		if dir == "outbound" {
			cluster = "outbound|8080||llm.ai.svc.cluster.local"
		}
		return fmt.Sprintf(`[2026-11-20T10:00:00.000Z] "POST /v1/chat/completions HTTP/2" 200 - via_upstream - "-" 512 2048 1234 1200 "-" "python-httpx/0.27.0" "3c1f0b9e" "llm:8080" "10.0.0.7:8080" %s 127.0.0.6:51515 10.0.0.7:8080 10.0.0.9:40000 - default "%s" "cust-42" "support-bot"`, cluster, team)
	}
	var lines []string
	for range 3 {
		lines = append(lines, genops("inbound", "ml-platform"))
	}
	lines = append(lines, genops("outbound", "ml-platform"), genops("inbound", "search"))
	bad := []string{"garbage", "\x00\xff binary", genops("inbound", "x")[:60]}
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range append(lines, bad...) {
		fmt.Fprintf(f, "2026-11-20T10:00:00.000000000Z stdout F %s\n", l)
	}
	f.Close()

	prom, health, telemetry := collectortest.FreeAddr(t), collectortest.FreeAddr(t), collectortest.FreeAddr(t)

	col := collectortest.StartConfigs(t, map[string]string{"E2E_HEALTH": health, "E2E_PROM": prom, "E2E_LOGS": filepath.Join(dir, "pods"),
		"E2E_TELEMETRY_PORT": strconv.Itoa(collectortest.Port(t, telemetry))}, "testdata/accesslog.yaml", "testdata/telemetry.yaml")
	col.WaitHealthy(t, health)
	want := []struct {
		labels map[string]string
		value  float64
	}{
		{map[string]string{"envoy_direction": "inbound", "http_request_header_x_genops_team": "ml-platform"}, 3},
		{map[string]string{"envoy_direction": "outbound", "http_request_header_x_genops_team": "ml-platform"}, 1},
		{map[string]string{"envoy_direction": "inbound", "http_request_header_x_genops_team": "search"}, 1},
	}
	col.Eventually(t, 30*time.Second, func() error {
		families, err := collectortest.Scrape("http://" + prom + "/metrics")
		if err != nil {
			return err
		}
		samples := collectortest.Samples(families["access_log_records_total"])
		for _, w := range want {
			got := collectortest.Matching(samples, w.labels)
			if len(got) != 1 || got[0].Value != w.value {
				return fmt.Errorf("access_log_records_total%v = %v, want %v (all: %v; families: %s)", w.labels, got, w.value, samples, collectortest.Names(families))
			}
		}
		own, err := collectortest.Scrape("http://" + telemetry + "/metrics")
		if err != nil {
			return err
		}
		errs := collectortest.Samples(own["otelcol_receiver_mesh_access_log_parse_errors_total"])
		total := 0.0
		for _, s := range errs {
			total += s.Value
		}
		if total != float64(len(bad)) {
			return fmt.Errorf("parse errors %v, want %d in all (families: %s)", errs, len(bad), collectortest.Names(own))
		}
		return nil
	})
	if err := col.Terminate(t, 10*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

// config/daemonset.yaml parses sidecar logs with exactly the format the
// deploy/mesh snippets give Istio's file access log (preset
// istio_genops_json, accesslog.GenOpsMeshJSONFormat; deploy/mesh's test
// checks the snippets).
func TestDaemonSetFormatIsTheGenOpsFormat(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("..", "..", "config", "daemonset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := cm.Get("receivers" + confmap.KeyDelimiter + "mesh_access_log" + confmap.KeyDelimiter + "format").(string)
	if got != "istio_genops_json" {
		t.Fatalf("config/daemonset.yaml format: %q, want the preset istio_genops_json", got)
	}
}
