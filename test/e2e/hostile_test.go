package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// rssBoundMiB is the documented bound (docs/testing.md) on the collector's
// resident memory through the hostile-input scenario: the chart's default
// memory limit.
const rssBoundMiB = 512

// Scenario "hostile input": malformed and truncated lines, truncated JSON,
// oversized, binary and control-character header values in the same files
// as good lines, then a burst of 1,000,000 records with distinct customer
// ids over OTLP. The collector stays up; every good record is counted;
// the parse error and series overflow counters say what happened; RSS
// stays under the documented bound.
func TestHostileInput(t *testing.T) {
	dir := t.TempDir()
	textDir := filepath.Join(dir, "pods", "ai_llm-0_5b1c6d9e-1111-2222-3333-444455556666", "istio-proxy")
	jsonDir := filepath.Join(dir, "json", "ai_llm-1_5b1c6d9e-1111-2222-3333-444455556667", "istio-proxy")
	for _, d := range []string{textDir, jsonDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	line := func(team, customer string) string {
		return fmt.Sprintf(`[2026-11-20T10:00:00.000Z] "POST /v1/chat/completions HTTP/2" 200 - via_upstream - "-" 512 2048 120 100 "-" "python-httpx/0.27.0" "req-1" "llm.ai:8080" "10.1.0.7:8080" inbound|8080|| 127.0.0.6:51515 10.1.0.7:8080 10.1.0.66:40000 - default "%s" "-" "%s" "-" "-" "-" "-" "-" "-" "-" "-" "-"`, team, customer)
	}
	good := []string{
		line("ml-platform", "cust-1"),
		line(strings.Repeat("x", 100_000), "cust-2"),     // oversized team: falls back, still counted
		line("ml-platform", "cust-\x00\x01\x7f\u202e"),   // control characters
		line("ml-platform", "\xff\xfe\xfd binary \x80"),  // invalid UTF-8
		line("ml-platform", strings.Repeat("é", 10_000)), // long multi-byte value
		line(`ml-"quoted"-team`, "cust-3"),               // quotes inside a quoted value that split no field
		// a 50 KB Host header (Envoy allows 60 KiB): the service label
		// it gives is folded (cardinality.max_value_length), the
		// request still counted
		strings.Replace(line("ml-platform", "cust-4"), `"llm.ai:8080"`, `"`+strings.Repeat("h", 50_000)+`:8080"`, 1),
	}
	bad := []string{
		"garbage",
		"\x00\x01\x02\xff\xfe",
		line("ml-platform", "cust-1")[:80], // truncated
		"",
		// a value holding the separator of two quoted fields: the line
		// splits two ways, a parse error (reason "ambiguous"), never a
		// shifted record
		line(`ml-platform" "injected`, "cust-3"),
	}
	var text strings.Builder
	for i := range max(len(good), len(bad)) {
		if i < len(good) {
			fmt.Fprintf(&text, "2026-11-20T10:00:00.000000000Z stdout F %s\n", good[i])
		}
		if i < len(bad) {
			fmt.Fprintf(&text, "2026-11-20T10:00:00.000000000Z stdout F %s\n", bad[i])
		}
	}
	if err := os.WriteFile(filepath.Join(textDir, "0.log"), []byte(text.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	okJSON := `{"start_time":"2026-11-20T10:00:00.000Z","method":"POST","path":"/v1/chat","protocol":"HTTP/2","response_code":200,"response_flags":"-","bytes_received":1,"bytes_sent":2,"duration":3,"upstream_cluster":"inbound|8080||","downstream_remote_address":"10.1.0.66:40000","route_name":"default"}`
	jsonLines := []string{okJSON, okJSON[:60], `{"response_code": "two hundred"`, okJSON, `[1,2,3]`}
	var js strings.Builder
	for _, l := range jsonLines {
		fmt.Fprintf(&js, "2026-11-20T10:00:00.000000000Z stdout F %s\n", l)
	}
	if err := os.WriteFile(filepath.Join(jsonDir, "0.log"), []byte(js.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	prom, health, telemetry, otlp := collectortest.FreeAddr(t), collectortest.FreeAddr(t), collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	col := collectortest.StartConfigs(t, map[string]string{"E2E_HEALTH": health, "E2E_PROM": prom, "E2E_OTLP": otlp,
		"E2E_LOGS": filepath.Join(dir, "pods"), "E2E_JSON_LOGS": filepath.Join(dir, "json"), "E2E_TELEMETRY_PORT": strconv.Itoa(collectortest.Port(t, telemetry))},
		"testdata/hostile.yaml", "testdata/trust-every-claim.yaml", "testdata/telemetry.yaml")
	col.WaitHealthy(t, health)

	requests := func() (float64, error) {
		families, err := collectortest.Scrape("http://" + prom + "/metrics")
		if err != nil {
			return 0, err
		}
		var sum float64
		for _, s := range collectortest.Samples(families["genops_requests_total"]) {
			sum += s.Value
		}
		return sum, nil
	}
	const goodJSON = 2
	wantFiles := float64(len(good) + goodJSON)
	col.Eventually(t, 30*time.Second, func() error {
		n, err := requests()
		if err != nil {
			return err
		}
		if n != wantFiles {
			return fmt.Errorf("genops_requests_total = %v, want %v good records from the files", n, wantFiles)
		}
		own, err := collectortest.Scrape("http://" + telemetry + "/metrics")
		if err != nil {
			return err
		}
		var errs float64
		for _, s := range collectortest.Samples(own["otelcol_receiver_mesh_access_log_parse_errors_total"]) {
			errs += s.Value
		}
		// Every bad line, the empty one included (reason "empty").
		if want := float64(len(bad) + len(jsonLines) - goodJSON); errs != want {
			return fmt.Errorf("parse errors %v, want %v", errs, want)
		}
		families, err := collectortest.Scrape("http://" + prom + "/metrics")
		if err != nil {
			return err
		}
		if len(collectortest.Matching(collectortest.Samples(families["genops_series_overflow_total"]), map[string]string{"label": "service"})) == 0 {
			return fmt.Errorf("no genops_series_overflow_total{label=service} for the 50 KB Host header")
		}
		return nil
	})

	// The burst: 1,000,000 records, each with a new customer id.
	conn, err := grpc.NewClient(otlp, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := plogotlp.NewGRPCClient(conn)
	const burst, perBatch = 1_000_000, 5_000
	for b := range burst / perBatch {
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("k8s.namespace.name", "ai")
		rl.Resource().Attributes().PutStr("service.name", "llm")
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		lrs.EnsureCapacity(perBatch)
		for i := range perBatch {
			a := lrs.AppendEmpty().Attributes()
			a.PutStr("envoy.direction", "inbound")
			a.PutInt("http.response.status_code", 200)
			a.PutStr("http.request.header.x-genops-team", "ml-platform")
			a.PutStr("http.request.header.x-genops-customer-id", fmt.Sprintf("burst-%d", b*perBatch+i))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := client.Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
		cancel()
		if err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
	}

	var rss float64
	col.Eventually(t, 60*time.Second, func() error {
		n, err := requests()
		if err != nil {
			return err
		}
		if n != wantFiles+burst {
			return fmt.Errorf("genops_requests_total = %v, want %v", n, wantFiles+burst)
		}
		own, err := collectortest.Scrape("http://" + telemetry + "/metrics")
		if err != nil {
			return err
		}
		overflow := collectortest.Matching(collectortest.Samples(own["genops_series_overflow_total"]), map[string]string{"label": "genops_customer_id"})
		families, err := collectortest.Scrape("http://" + prom + "/metrics")
		if err == nil && len(overflow) == 0 {
			overflow = collectortest.Matching(collectortest.Samples(families["genops_series_overflow_total"]), map[string]string{"label": "genops_customer_id"})
		}
		if len(overflow) == 0 {
			return fmt.Errorf("no genops_series_overflow_total{label=genops_customer_id} yet")
		}
		for _, s := range collectortest.Samples(own["otelcol_process_memory_rss_bytes"]) {
			rss = s.Value
		}
		return nil
	})
	t.Logf("after 1,000,000 distinct customers: RSS %.1f MiB (bound %d MiB)", rss/(1<<20), rssBoundMiB)
	if rss == 0 || rss > rssBoundMiB<<20 {
		t.Errorf("RSS %.1f MiB, documented bound %d MiB", rss/(1<<20), rssBoundMiB)
	}
	if col.Exited() {
		t.Fatal("the collector exited")
	}
}
