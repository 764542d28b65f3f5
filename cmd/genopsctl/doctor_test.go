package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genops-mesh/otelcol-genops/dashboards/promrules"
	"github.com/genops-mesh/otelcol-genops/internal/slo"
	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// genopsLine is an access log line in the istio_genops preset (what
// deploy/mesh configures) with these x-genops-* request headers and AI
// response headers ("" is "-").
func genopsLine(team, project, costCenter, model, tokensIn string) string {
	q := func(s string) string {
		if s == "" {
			s = "-"
		}
		return `"` + s + `"`
	}
	return fmt.Sprintf(`2026-11-20T10:00:00.000000000Z stdout F [2026-11-20T10:00:00.000Z] "POST /v1/chat/completions HTTP/2" 200 - via_upstream - "-" 512 2048 120 100 "-" "python-httpx/0.27.0" "req-1" "llm.ai:8080" "10.1.0.7:8080" inbound|8080|| 127.0.0.6:51515 10.1.0.7:8080 10.1.0.66:40000 - default %s %s "-" %s "-" "-" "-" %s "-" %s "-" "-"`+"\n",
		q(team), q(project), q(costCenter), q(model), q(tokensIn))
}

// doctorCollector runs the built collector on testdata/collector/doctor.yaml
// over the access logs under dir (with wrong-glob.yaml merged in when
// wrongGlob) and returns the config files (what doctor is given as
// --config, in order), its telemetry and exporter addresses. doctor reads
// the ${env:…} references the files make from the test's environment, as
// the collector does from its own.
func doctorCollector(t *testing.T, dir string, wrongGlob, openMetrics bool) (configs []string, telemetry, exporter string, col *collectortest.Process) {
	t.Helper()
	telemetry, exporter = collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	health := collectortest.FreeAddr(t)
	env := map[string]string{
		"E2E_HEALTH": health, "E2E_LOGS": dir, "E2E_PROM": exporter, "E2E_OPENMETRICS": strconv.FormatBool(openMetrics),
		"E2E_TELEMETRY_PORT": strconv.Itoa(collectortest.Port(t, telemetry)),
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	configs = []string{"testdata/collector/doctor.yaml"}
	if wrongGlob {
		configs = append(configs, "testdata/collector/wrong-glob.yaml")
	}
	configs = append(configs, "../../test/e2e/testdata/trust-every-claim.yaml", "../../test/e2e/testdata/telemetry.yaml")
	col = collectortest.StartConfigs(t, env, configs...)
	col.WaitHealthy(t, health)
	return configs, telemetry, exporter, col
}

// configFlags are doctor's --config flags for the files.
func configFlags(files []string) []string {
	var args []string
	for _, f := range files {
		args = append(args, "--config", f)
	}
	return args
}

func writePodLog(t *testing.T, dir string, lines ...string) string {
	t.Helper()
	path := filepath.Join(dir, "pods", "ai_llm-0_5b1c6d9e-1111-2222-3333-444455556666", "istio-proxy", "0.log")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runDoctor(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := newRoot()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"doctor"}, args...))
	err := cmd.Execute()
	return out.String(), err
}

// Each mistake the operable issue names, made for real against the built
// collector and a real Prometheus, and named by doctor with its fix: a
// receiver whose glob matches nothing (and what exists), a file with lines
// that do not parse, requests with no team (and the label to set), an AI
// call no price row matches, Prometheus scraping the collector's own port
// instead of the exporter's, Prometheus without exemplar storage and an
// exporter without OpenMetrics, no SLO rules loaded.
func TestDoctorNamesEachMistake(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for range 10 {
		lines = append(lines, genopsLine("", "", "", "", ""))
	}
	lines = append(lines, genopsLine("", "", "", "my-llama", "500"), "2026-11-20T10:00:00.000000000Z stdout F garbage\n",
		"2026-11-20T10:00:00.000000000Z stdout F [2026-11-20T10:00:00.000Z] \"GET\n")
	logPath := writePodLog(t, dir, lines...)
	cfg, telemetry, _, col := doctorCollector(t, dir, true, false)
	// The wrong port: Prometheus scrapes the collector's telemetry only.
	prom := collectortest.StartPrometheusWith(t, collectortest.PrometheusOptions{Targets: []string{telemetry}, NoExemplars: true})
	col.Eventually(t, 60*time.Second, func() error {
		out, _ := runDoctor(t, "--collector", "http://"+telemetry, "--window", "0")
		if !strings.Contains(out, "[unpriced]") || !strings.Contains(out, "[parse_errors]") {
			return fmt.Errorf("not yet read:\n%s", out)
		}
		if r, err := prom.Query("otelcol_process_uptime_seconds_total"); err != nil || len(r) == 0 {
			return fmt.Errorf("prometheus has not scraped the collector: %v", err)
		}
		return nil
	})

	out, err := runDoctor(t, append(configFlags(cfg), "--collector", "http://"+telemetry, "--prometheus", "http://"+prom.Addr, "--window", "1s")...)
	if err == nil {
		t.Errorf("doctor exited 0 with findings:\n%s", out)
	}
	for _, want := range []string{
		// the glob, and what exists instead
		"1. exporter prometheus does not expose exemplars [exemplars]", "enable_open_metrics: true",
		"receiver mesh_access_log/wrong matches no access log file [no_files]",
		filepath.Join(dir, "containers") + " does not exist; the nearest directory that does is " + dir + ", and it holds 1 entries: pods/",
		// the file, how many lines, why
		"[parse_errors]", logPath + ": 2 of 13 lines (15.4%) since the collector started",
		"Why (receiver mesh_access_log, since it started): delimiter 1, prefix 1",
		// no team: all 11 records; without Kubernetes, headers or span tags
		"[unknown]", "team: 100% of 11 records since the collector started fell to the default: kubernetes.mode is off, so no pod or namespace label is read; send the x-genops-team header",
		"project: 100% of 11 records", "cost_center: 100% of 11 records",
		// the model no row prices, by the processor that priced
		"[unpriced]", "governance: 1 call(s) since the collector started name a model no row of the price table matches",
		// Prometheus
		"[wrong_port]", "Prometheus scrapes the collector's own telemetry at " + telemetry + " (job otelcol-genops), which is up",
		"Prometheus stores no exemplars [exemplars]", "--enable-feature=exemplar-storage",
		"Prometheus has no SLO rules loaded [slo]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "[kubernetes]") || strings.Contains(out, "receiver mesh_access_log matches no") {
		t.Errorf("a finding of something that is fine:\n%s", out)
	}
	if strings.Contains(out, "customer_id") {
		t.Errorf("customer_id is unknown for every request without a customer, no mistake:\n%s", out)
	}
}

// The same pipeline set up right: doctor finds nothing and exits 0.
func TestDoctorHealthy(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for range 20 {
		lines = append(lines, genopsLine("ml-platform", "support-bot", "cc-ai", "gpt-4o-mini", "500"))
	}
	writePodLog(t, dir, lines...)
	cfg, telemetry, exporter, col := doctorCollector(t, dir, false, true)
	prom := collectortest.StartPrometheusWith(t, collectortest.PrometheusOptions{
		Targets:   []string{telemetry, exporter},
		RuleFiles: []string{llmRules(t)},
	})
	col.Eventually(t, 60*time.Second, func() error {
		if r, err := prom.Query("genops_requests_total"); err != nil || len(r) == 0 {
			return fmt.Errorf("no genops_requests_total in Prometheus yet: %v", err)
		}
		return nil
	})
	// A bare host:port is the telemetry's /metrics.
	out, err := runDoctor(t, append(configFlags(cfg), "--collector", telemetry, "--prometheus", "http://"+prom.Addr, "--window", "1s")...)
	if err != nil || !strings.HasPrefix(out, "No problem found. Checked: config "+strings.Join(cfg, " + ")+", collector "+telemetry+", prometheus http://"+prom.Addr) {
		t.Errorf("doctor on a healthy collector: %v\n%s", err, out)
	}
}

// An API server that cannot be reached: the collector waits for its
// caches (and does not start) while its telemetry says why; doctor names
// the kind of error and the fix.
func TestDoctorKubernetesUnreachable(t *testing.T) {
	closed := collectortest.FreeAddr(t) // nothing listens there
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://%s", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, closed)), 0o600); err != nil {
		t.Fatal(err)
	}
	telemetry := collectortest.FreeAddr(t)
	col := collectortest.StartConfigs(t, map[string]string{
		"E2E_OTLP": collectortest.FreeAddr(t), "E2E_KUBECONFIG": kubeconfig, "E2E_TELEMETRY_PORT": strconv.Itoa(collectortest.Port(t, telemetry)),
	}, "testdata/collector/unreachable-kubernetes.yaml", "../../test/e2e/testdata/telemetry.yaml")
	var out string
	col.Eventually(t, 60*time.Second, func() error {
		out, _ = runDoctor(t, "--collector", "http://"+telemetry, "--window", "1s")
		if !strings.Contains(out, "unreachable error(s) listing or watching") {
			return fmt.Errorf("not yet:\n%s", out)
		}
		return nil
	})
	for _, want := range []string{
		"the Kubernetes caches are not synced [kubernetes]",
		"governance waits for its caches",
		"unreachable: the API server cannot be reached",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor does not say %q:\n%s", want, out)
		}
	}
	if !strings.Contains(col.Output(), "Kubernetes API error") {
		t.Errorf("the collector does not log the API error:\n%s", col.Output())
	}
}

// Requests without a team, then the workload fixed: doctor names the
// workload (from Prometheus, with --collector given too), and once the
// fixed requests flow, it judges what came in its window and finds
// nothing, although the totals since the start still hold the unknown
// ones.
func TestDoctorAfterTheFix(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for range 10 {
		lines = append(lines, genopsLine("", "", "", "", ""))
	}
	path := writePodLog(t, dir, lines...)
	cfg, telemetry, exporter, col := doctorCollector(t, dir, false, true)
	prom := collectortest.StartPrometheusWith(t, collectortest.PrometheusOptions{
		Targets:   []string{telemetry, exporter},
		RuleFiles: []string{llmRules(t)},
	})
	col.Eventually(t, 60*time.Second, func() error {
		if r, err := prom.Query(`genops_requests_total{genops_team="unknown"}`); err != nil || len(r) == 0 {
			return fmt.Errorf("no unknown requests in Prometheus yet: %v", err)
		}
		return nil
	})
	args := append(configFlags(cfg), "--collector", telemetry, "--prometheus", "http://"+prom.Addr)
	args = args[:len(args):len(args)] // each run appends its own --window
	out, _ := runDoctor(t, append(args, "--window", "0")...)
	if !strings.Contains(out, `Workloads with genops_team="unknown" requests (Prometheus): ai/llm (10)`) {
		t.Errorf("doctor does not name the workload:\n%s", out)
	}

	// The fix: the same workload's requests now carry their team.
	done := make(chan struct{})
	go func() {
		defer close(done)
		out, _ = runDoctor(t, append(args, "--window", "4s")...)
	}()
	time.Sleep(time.Second)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := f.WriteString(genopsLine("ml-platform", "support-bot", "cc-ai", "", "")); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	<-done
	if strings.Contains(out, "[unknown]") {
		t.Errorf("doctor reports unknown attribution after the fix:\n%s", out)
	}
}

// llmRules writes the rules of an SLO of the llm service in ai, the
// service the test lines are requests to (the shipped example SLOs name
// others, whose series are absent).
func llmRules(t *testing.T) string {
	t.Helper()
	f, err := slo.Parse(strings.NewReader("slos:\n  - {name: llm-availability, service: llm, namespace: ai, objective: 99, indicator: {availability: {}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := toYAML("", promrules.Generate(f))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "slo-rules.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Prometheus scrapes the exporter but not the collector's telemetry, and
// loads SLO rules of services that send nothing: doctor says the
// collector alerts are blind and names the SLOs without series at once,
// not after GenOpsSLOSourceAbsent's 10 minutes.
func TestDoctorBlindAlertsAndAbsentSLOs(t *testing.T) {
	dir := t.TempDir()
	writePodLog(t, dir, genopsLine("ml-platform", "support-bot", "cc-ai", "", ""))
	cfg, telemetry, exporter, col := doctorCollector(t, dir, false, true)
	prom := collectortest.StartPrometheusWith(t, collectortest.PrometheusOptions{
		Targets:   []string{exporter},
		RuleFiles: []string{filepath.Join("..", "..", "deploy", "generated", "prometheus", "slo-rules.yaml")},
	})
	col.Eventually(t, 60*time.Second, func() error {
		if r, err := prom.Query(`genops_requests_total`); err != nil || len(r) == 0 {
			return fmt.Errorf("no genops_requests_total in Prometheus yet: %v", err)
		}
		return nil
	})
	out, _ := runDoctor(t, append(configFlags(cfg), "--collector", telemetry, "--prometheus", "http://"+prom.Addr, "--window", "0")...)
	for _, want := range []string{
		"Prometheus does not scrape the collector's own telemetry [wrong_port]",
		`ai/support-bot support-bot-availability: Prometheus has no genops_requests_total{namespace="ai",reporter="destination",service="support-bot"}`,
		`shop/checkout checkout-latency: Prometheus has no genops_request_duration_seconds_count{namespace="shop",reporter="destination",service="checkout"}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor does not say %q:\n%s", want, out)
		}
	}
}

// Prometheus scrapes an address where no exporter listens (the exporter
// left out of the metrics pipeline): doctor names the target and its
// error, not a wrong port; and a collector that took in nothing yet has
// no wrong port either.
func TestDoctorExporterNotListening(t *testing.T) {
	dir := t.TempDir()
	writePodLog(t, dir) // an empty log: no request yet
	cfg, telemetry, exporter, col := doctorCollector(t, dir, false, true)
	prom := collectortest.StartPrometheusWith(t, collectortest.PrometheusOptions{Targets: []string{telemetry, exporter}, RuleFiles: []string{llmRules(t)}})
	col.Eventually(t, 60*time.Second, func() error {
		if r, err := prom.Query(`up`); err != nil || len(r) < 2 {
			return fmt.Errorf("targets not scraped yet: %v", err)
		}
		return nil
	})
	out, _ := runDoctor(t, append(configFlags(cfg), "--collector", telemetry, "--prometheus", "http://"+prom.Addr, "--window", "0")...)
	if strings.Contains(out, "[wrong_port]") || strings.Contains(out, "[scrape]") {
		t.Errorf("no traffic yet is no scrape problem:\n%s", out)
	}

	closed := collectortest.FreeAddr(t)
	prom2 := collectortest.StartPrometheusWith(t, collectortest.PrometheusOptions{Targets: []string{telemetry, closed}})
	col.Eventually(t, 60*time.Second, func() error {
		if r, err := prom2.Query(`up == 0`); err != nil || len(r) == 0 {
			return fmt.Errorf("the closed target not scraped yet: %v", err)
		}
		return nil
	})
	out, _ = runDoctor(t, "--collector", telemetry, "--prometheus", "http://"+prom2.Addr, "--window", "0")
	if !strings.Contains(out, "Prometheus cannot scrape some targets [scrape]") || !strings.Contains(out, "http://"+closed+"/metrics") || strings.Contains(out, "[wrong_port]") {
		t.Errorf("doctor does not name the target nobody serves:\n%s", out)
	}
}

// The rules come from an SLO file the sli connector was not given: its
// latency threshold (333ms) is no bucket bound, the error ratio is never
// recorded, and the SLO is not absent either (_count exists). doctor
// names it.
func TestDoctorLatencyThresholdNotABucket(t *testing.T) {
	dir := t.TempDir()
	writePodLog(t, dir, genopsLine("ml-platform", "support-bot", "cc-ai", "", ""))
	_, telemetry, exporter, col := doctorCollector(t, dir, false, true)
	f, err := slo.Parse(strings.NewReader("slos:\n  - {name: llm-latency, service: llm, namespace: ai, objective: 99, indicator: {latency: {threshold: 333ms}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := toYAML("", promrules.Generate(f))
	if err != nil {
		t.Fatal(err)
	}
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, b, 0o600); err != nil {
		t.Fatal(err)
	}
	prom := collectortest.StartPrometheusWith(t, collectortest.PrometheusOptions{Targets: []string{telemetry, exporter}, RuleFiles: []string{rules}})
	col.Eventually(t, 60*time.Second, func() error {
		if r, err := prom.Query(`genops_request_duration_seconds_count`); err != nil || len(r) == 0 {
			return fmt.Errorf("no histogram in Prometheus yet: %v", err)
		}
		return nil
	})
	out, _ := runDoctor(t, "--prometheus", "http://"+prom.Addr)
	if !strings.Contains(out, "ai/llm llm-latency: genops_request_duration_seconds_count{") || !strings.Contains(out, "connectors.sli.slo_file") {
		t.Errorf("doctor does not name the SLO without its bucket:\n%s", out)
	}
}
