package promrules

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/genops-mesh/otelcol-genops/internal/slo"
)

// slothSpecs are Sloth prometheus/v1 specs over the metric contract, as a
// team moving its SLOs would bring them: availability and a latency with a
// fractional threshold, each under Sloth's 30-day and 28-day periods.
var slothSpecs = map[string]string{
	"availability": `version: "prometheus/v1"
service: "checkout"
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(genops_requests_total{namespace="shop",service="checkout",availability="bad"}[{{.window}}]))
        total_query: sum(rate(genops_requests_total{namespace="shop",service="checkout"}[{{.window}}]))
    alerting:
      name: CheckoutAvailability
      page_alert: {labels: {severity: page}}
      ticket_alert: {labels: {severity: ticket}}
`,
	"latency": `version: "prometheus/v1"
service: "checkout"
slos:
  - name: latency
    objective: 99
    sli:
      events:
        error_query: sum(rate(genops_request_duration_seconds_count{namespace="shop",service="checkout"}[{{.window}}])) - sum(rate(genops_request_duration_seconds_bucket{namespace="shop",service="checkout",le="0.4"}[{{.window}}]))
        total_query: sum(rate(genops_request_duration_seconds_count{namespace="shop",service="checkout"}[{{.window}}]))
    alerting:
      name: CheckoutLatency
      page_alert: {labels: {severity: page}}
      ticket_alert: {labels: {severity: ticket}}
`,
}

// slothScenario is traffic with a share of bad events (a multiple of the
// error budget) and the outcome the workbook's factors give for it,
// written out here (not computed by the code under test). The data runs
// 150 minutes: a steady share is the same over every window; a last-hour
// burst x is x over 1h, 5m and 30m, about 0.4x over 6h, 1d and 3d, 0.5x
// over 2h.
type slothScenario struct {
	name         string
	share        func(budget float64) badShare
	page, ticket map[string]bool // by period
}

func both(v bool) map[string]bool { return map[string]bool{"30d": v, "28d": v} }

var slothScenarios = []slothScenario{
	// 30d: page 14.4 (1h/5m) or 6 (6h/30m), ticket 3 (1d/2h) or 1 (3d/6h);
	// 28d: 13.44, 5.6, 2.8, 0.933 (Sloth) or 1 (this project).
	{"steady 0.9x", steady(0.9), both(false), both(false)},
	{"steady 1.1x", steady(1.1), both(false), both(true)},
	{"steady 5.3x", steady(5.3), both(false), both(true)},
	{"steady 6.6x", steady(6.6), both(true), both(true)},
	{"all requests fail", steady(1 / 0.001), both(true), both(true)},
	{"last hour 2.2x", burst(2.2), both(false), both(false)},
	{"last hour 3.5x", burst(3.5), both(false), both(true)},
	{"last hour 13x", burst(13), both(false), both(true)},
	{"last hour 20x", burst(20), both(true), both(true)},
}

// The bursts keep a margin of one evaluation (5 minutes) from each
// threshold: Sloth puts its recording and alerting rules in separate
// groups, which promtool (and Prometheus) may evaluate in either order,
// so Sloth's alerts can see the ratios of the evaluation before (a 16x
// burst paged or not from run to run: its 1h ratio crosses 14.4 between
// minutes 140 and 145). This project's rules are one group per SLO,
// recording rules first.

func steady(x float64) func(float64) badShare {
	return func(budget float64) badShare { return constant(min(1, x*budget)) }
}

func burst(x float64) func(float64) badShare {
	return func(budget float64) badShare { return lastHour(min(1, x*budget)) }
}

// TestSlothAgrees is the differential check of issue #23: Sloth v0.16.0
// (built from its Go module, test/peers/sloth) generates rules from the
// same specs this project imports; both rule sets get the same series in
// promtool, scenario by scenario (shares of bad events just below and
// above each burn rate, bursts, 100% errors, zero traffic, no series), and
// must page and ticket alike.
func TestSlothAgrees(t *testing.T) {
	promtool := promtoolOrSkip(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH: Sloth is run with go tool")
	}
	slothMod, err := filepath.Abs(filepath.Join("..", "..", "test", "peers", "sloth", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, spec := range slothSpecs {
		for _, period := range []string{"30d", "28d"} {
			t.Run(name+"/"+period, func(t *testing.T) {
				specFile := filepath.Join(dir, name+"-"+period+".sloth.yaml")
				if err := os.WriteFile(specFile, []byte(spec), 0o644); err != nil {
					t.Fatal(err)
				}
				slothRules := filepath.Join(dir, name+"-"+period+"-sloth-rules.yaml")
				cmd := exec.Command(goBin, "tool", "-modfile="+slothMod, "sloth", "generate", "--no-log",
					"--default-slo-period="+period, "-i", specFile, "-o", slothRules)
				cmd.Env = append(os.Environ(), "GONOSUMDB=go.opentelemetry.io,github.com/open-telemetry")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("sloth generate: %v\n%s", err, out)
				}
				_, f, err := slo.Import(bytes.NewReader([]byte(spec)))
				if err != nil {
					t.Fatal(err)
				}
				window, _ := time.ParseDuration(map[string]string{"30d": "720h", "28d": "672h"}[period])
				f.SLOs[0].Window = window // Sloth's period is a flag, not in the spec
				ours := filepath.Join(dir, name+"-"+period+"-rules.yaml")
				if err := os.WriteFile(ours, marshal(t, Generate(f)), 0o644); err != nil {
					t.Fatal(err)
				}
				s := f.SLOs[0]
				var tests []Test
				for _, sc := range slothScenarios {
					tests = append(tests, outcomeTest(sc.name, inputSeries(s, sc.share(s.ErrorBudget())), sc.page[period], sc.ticket[period]))
				}
				tests = append(tests,
					outcomeTest("zero traffic", flat(inputSeries(s, constant(0))), false, false),
					outcomeTest("no series", []Series{{Series: `up{job="x"}`, Values: "1x150"}}, false, false))
				for _, rules := range []string{slothRules, ours} {
					tf := TestFile{RuleFiles: []string{rules}, EvaluationInterval: "5m", Tests: tests}
					testFile := rules + ".test.yaml"
					if err := os.WriteFile(testFile, marshal(t, tf), 0o644); err != nil {
						t.Fatal(err)
					}
					if out, err := exec.Command(promtool, "test", "rules", testFile).CombinedOutput(); err != nil {
						t.Errorf("%s: %v\n%s", filepath.Base(rules), err, out)
					}
				}
			})
		}
	}
}

// outcomeTest checks which burn-rate tiers fire at minute 145, by the
// severity label both rule sets put on their alerts.
func outcomeTest(name string, series []Series, page, ticket bool) Test {
	t := Test{Name: name, Interval: "1m", InputSeries: series}
	for _, tier := range []struct {
		severity string
		fires    bool
	}{{"page", page}, {"ticket", ticket}} {
		// The comment names the scenario in promtool's report. The
		// absent alert is this project's only (Sloth has none): a
		// ticket when an SLO has no series, checked by the generated
		// tests.
		et := ExprTest{Expr: fmt.Sprintf("count(ALERTS{alertstate=\"firing\",severity=%q,alertname!=%q}) # %s", tier.severity, AbsentAlert, name), EvalTime: fmt.Sprintf("%dm", minutes-5), ExpSamples: []Sample{}}
		if tier.fires {
			et.ExpSamples = append(et.ExpSamples, Sample{Labels: "{}", Value: 1})
		}
		t.PromQLExprTest = append(t.PromQLExprTest, et)
	}
	return t
}
