package golden

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"gopkg.in/yaml.v3"

	"github.com/genops-mesh/otelcol-genops/config"
	"github.com/genops-mesh/otelcol-genops/connector/sliconnector"
	"github.com/genops-mesh/otelcol-genops/internal/accesslog"
	"github.com/genops-mesh/otelcol-genops/internal/fixtures"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
	"github.com/genops-mesh/otelcol-genops/processor/governanceprocessor"
)

var update = flag.Bool("update", false, "rewrite testdata/*.log (generated input) and testdata/*.series")

// pipeline is the embedded default config's governance processor and sli
// connector, in process: what `make run` does to access log records (the
// price table added, which the default config leaves out).
type pipeline struct {
	logs processor.Logs
	sli  connector.Logs
	sink *consumertest.MetricsSink
}

func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(config.Default), &raw); err != nil {
		t.Fatal(err)
	}
	conf := confmap.NewFromStringMap(raw)
	sliFactory, govFactory := sliconnector.NewFactory(), governanceprocessor.NewFactory()
	sliCfg, govCfg := sliFactory.CreateDefaultConfig(), govFactory.CreateDefaultConfig()
	for sub, cfg := range map[string]any{"connectors::sli": sliCfg, "processors::governance": govCfg} {
		c, err := conf.Sub(sub)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Unmarshal(cfg); err != nil {
			t.Fatalf("%s: %v", sub, err)
		}
	}
	// One flush, at shutdown: the golden series are the totals.
	sliCfg.(*sliconnector.Config).FlushInterval = time.Hour
	govCfg.(*governanceprocessor.Config).PricingFile = filepath.Join("..", "..", "config", "pricing.yaml")

	p := &pipeline{sink: new(consumertest.MetricsSink)}
	ctx := context.Background()
	sli, err := sliFactory.CreateLogsToMetrics(ctx, connectortest.NewNopSettings(sliFactory.Type()), sliCfg, p.sink)
	if err != nil {
		t.Fatal(err)
	}
	gov, err := govFactory.CreateLogs(ctx, processortest.NewNopSettings(govFactory.Type()), govCfg, sli)
	if err != nil {
		t.Fatal(err)
	}
	if err := sli.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := gov.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gov.Shutdown(ctx) })
	p.logs, p.sli = gov, sli
	return p
}

// series feeds records through the pipeline and returns the series the
// connector sends at shutdown.
func (p *pipeline) series(t *testing.T, ld plog.Logs) []string {
	t.Helper()
	if err := p.logs.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	if err := p.sli.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	all := p.sink.AllMetrics()
	if len(all) == 0 {
		return nil
	}
	return Series(all[len(all)-1])
}

// records parses lines with a preset as the mesh_access_log receiver
// does, under the resource of the pod whose proxy wrote them (what the
// receiver takes from /var/log/pods/<ns>_<pod>_<uid>/<container>/).
// Lines that do not parse are counted in the first line of the result.
func records(t *testing.T, format string, lines []string) (plog.Logs, string) {
	t.Helper()
	p, err := accesslog.New(format, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	res := rl.Resource().Attributes()
	res.PutStr(semconv.AttrK8sNamespace, "ai")
	res.PutStr(semconv.AttrK8sPodName, "llm-5d-abc")
	res.PutStr(semconv.AttrK8sPodUID, "0a1b2c3d-0000-1111-2222-333344445555")
	res.PutStr(semconv.AttrK8sContainerName, "istio-proxy")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	var fields accesslog.Fields
	bad := 0
	for _, l := range lines {
		lr := lrs.AppendEmpty()
		lr.Body().SetStr(l)
		if err := accesslog.StructureRecord(p, lr, &fields); err != nil {
			bad++
			lrs.RemoveIf(func(r plog.LogRecord) bool { return r == lr })
		}
	}
	return ld, fmt.Sprintf("# %s: %d lines, %d did not parse", format, len(lines), bad)
}

// Every fixture access log, through the default pipeline: the exact
// series. A change here changes what users' dashboards show; the commit
// that regenerates these files says why.
func TestFixtureSeries(t *testing.T) {
	for _, tc := range []struct {
		file, format string
		strip        func(string) string
	}{
		{"envoy-docs-default-format.log", "envoy", nil},
		{"istio-io-access-log-task.log", "istio", nil},
		{"istio-io-egress-gateway-default.log", "istio", nil},
		{"kiali-waypoint-kubectl-timestamps.log", "istio", func(l string) string { _, rest, _ := strings.Cut(l, " "); return rest }},
		{"linkerd-docs-apache.log", "linkerd_apache", nil},
		{"linkerd-docs-json.log", "linkerd_json", nil},
		{"osm-docs-default-json.log", "osm_json", nil},
		{"kiali-ztunnel.log", "ztunnel", nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			lines := fixtures.Lines(t, "envoy-access-logs", tc.file)
			if tc.strip != nil {
				for i := range lines {
					lines[i] = tc.strip(lines[i])
				}
			}
			ld, head := records(t, tc.format, lines)
			got := append([]string{head}, newPipeline(t).series(t, ld)...)
			Compare(t, filepath.Join("testdata", "fixtures", strings.TrimSuffix(tc.file, ".log")+".series"), got, *update)
		})
	}
}

// The repository's own input, generated (go test -update rewrites it):
// every x-genops-* field, several teams and customers, good and bad
// status codes, failure and policy flags, durations on and between the
// SLO buckets' bounds, two models. It needs no fixture: it runs on every
// clone.
func TestGeneratedSeries(t *testing.T) {
	input := filepath.Join("testdata", "istio_genops.log")
	if *update {
		if err := os.WriteFile(input, []byte(strings.Join(generate(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	ld, head := records(t, "istio_genops", lines)
	got := append([]string{head}, newPipeline(t).series(t, ld)...)
	Compare(t, filepath.Join("testdata", "istio_genops.series"), got, *update)
}

// generate writes 240 inbound requests to the llm pod in the istio_genops
// format, deterministically.
func generate() []string {
	teams := []string{"ml-platform", "search", "ads"}
	codes := []int{200, 200, 200, 200, 503, 429, 404, 200}
	flags := []string{"-", "-", "-", "-", "UF", "RL", "-", "UO"}
	durations := []int{3, 5, 25, 100, 250, 251, 500, 1000, 2500, 4000}
	models := [][2]string{{"gpt-4o", "openai"}, {"claude-3-5-sonnet-20241022", "anthropic"}}
	var out []string
	for i := range 240 {
		code, flag := codes[i%len(codes)], flags[i%len(flags)]
		d := durations[i%len(durations)]
		m := models[i%len(models)]
		in, outTokens := 100+i*7%900, 20+i*13%400
		tokensIn, tokensOut := fmt.Sprint(in), fmt.Sprint(outTokens)
		if code != 200 {
			tokensIn, tokensOut = "-", "-"
		}
		out = append(out, fmt.Sprintf(`[2026-11-20T10:%02d:%02d.000Z] "POST /v1/chat/completions HTTP/2" %d %s via_upstream - "-" 512 2048 %d %d "-" "python-httpx/0.27.0" "req-%04d" "llm.ai.svc.cluster.local:8080" "10.0.0.7:8080" inbound|8080|| 127.0.0.6:51515 10.0.0.7:8080 10.0.0.2:40000 outbound_.8080_._.llm.ai.svc.cluster.local default "%s" "support-bot" "cust-%d" "cc-%d" "%s" "production" "chat" "%s" "%s" "%s" "%s" "-"`,
			i/60, i%60, code, flag, d, d, i, teams[i%len(teams)], i%7, i%3, []string{"gold", "silver", "free"}[i%3], m[0], m[1], tokensIn, tokensOut))
	}
	return out
}
