package promrules

import (
	"bytes"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/genops-mesh/otelcol-genops/internal/slo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func exampleFile(t *testing.T) *slo.File {
	t.Helper()
	f, err := slo.ParseFile(filepath.Join("..", "..", "config", "slo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// extraSLOs covers what the example does not: objective 100, a 7-day
// window, a 28-day one; matchers, labels, an alert name, a for, a
// description and a fractional threshold (issue #23).
const extraSLOs = `slos:
  - name: ledger-never-fails
    service: ledger
    namespace: payments
    team: payments
    objective: 100
    indicator: {availability: {}}
  - name: search-weekly
    service: search
    namespace: web
    objective: 99.5
    window: 7d
    indicator: {availability: {}}
    alerting:
      ticket: {disabled: true}
  - name: checkout-route-latency
    service: checkout
    namespace: shop
    objective: 99
    window: 28d
    description: Checkout answers within 400ms.
    labels: {category: latency}
    matchers: {route: /checkout}
    indicator: {latency: {threshold: 0.4s}}
    alerting:
      name: CheckoutSlow
      page: {for: 1m, labels: {routing_key: payments}}
`

// proxySLOs read the mesh's own metrics (issue #9): the rules' input
// series in the generated promtool tests are shaped like the Istio and
// Linkerd scrapes in ../shared/fixtures.
const proxySLOs = `slos:
  - name: reviews-availability
    service: reviews
    namespace: default
    team: books
    objective: 99.9
    source: istio
    indicator: {availability: {}}
  - name: reviews-latency
    service: reviews
    namespace: default
    team: books
    objective: 99
    source: istio
    indicator: {latency: {threshold: 2500ms}}
  - name: web-availability
    service: web
    namespace: emojivoto
    team: emoji
    objective: 99.5
    source: linkerd
    indicator: {availability: {}}
  - name: web-latency
    service: web
    namespace: emojivoto
    objective: 99
    source: linkerd
    indicator: {latency: {threshold: 1s}}
`

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s is stale: go test ./dashboards/... -update, then read the diff", path)
	}
}

func TestBurnFactors(t *testing.T) {
	month := 30 * 24 * time.Hour
	for i, want := range []float64{14.4, 6} {
		if got := PageWindows[i].Factor(month); got != want {
			t.Errorf("page %d: %v, want %v", i, got, want)
		}
	}
	for i, want := range []float64{3, 1} {
		if got := TicketWindows[i].Factor(month); got != want {
			t.Errorf("ticket %d: %v, want %v", i, got, want)
		}
	}
	// Shorter windows: Sloth's 7-day table; 28 days: the workbook's
	// shares; every factor at least 1.
	for window, want := range map[time.Duration][]float64{
		7 * 24 * time.Hour:  {13.44, 3.5, 1.4, 1},
		28 * 24 * time.Hour: {13.44, 5.6, 2.8, 1},
	} {
		page, ticket := Windows(window)
		var got []float64
		for _, w := range append(slices.Clone(page), ticket...) {
			got = append(got, w.Factor(window))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: factors %v, want %v", WindowString(window), got, want)
		}
	}
	for window := time.Hour; window <= 366*24*time.Hour; window += 7 * time.Hour {
		page, ticket := Windows(window)
		for _, w := range append(slices.Clone(page), ticket...) {
			if f := w.Factor(window); f < 1 {
				t.Errorf("%s: %s/%s factor %v is below 1", WindowString(window), w.Long, w.Short, f)
			}
		}
	}
}

func TestLeMatcher(t *testing.T) {
	for sec, want := range map[float64]string{2: `le=~"2|2\\.0"`, 0.5: `le="0.5"`, 0.25: `le="0.25"`} {
		if got := LeMatcher(sec); got != want {
			t.Errorf("LeMatcher(%v) = %s, want %s", sec, got, want)
		}
	}
}

// Every generated expression parses with Prometheus's own parser, every
// file with its rule-file parser, and the output is exactly the golden one.
func TestGenerate(t *testing.T) {
	proxy, err := slo.Parse(strings.NewReader(proxySLOs))
	if err != nil {
		t.Fatal(err)
	}
	extra, err := slo.Parse(strings.NewReader(extraSLOs))
	if err != nil {
		t.Fatal(err)
	}
	promql := parser.NewParser(parser.Options{})
	for name, f := range map[string]*slo.File{"example": exampleFile(t), "extra": extra, "proxy": proxy} {
		rules := Generate(f)
		out := marshal(t, rules)
		if _, errs := rulefmt.Parse(out, false, model.UTF8Validation, promql, slog.New(slog.DiscardHandler)); len(errs) > 0 {
			t.Fatalf("%s: rulefmt: %v", name, errs)
		}
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				if _, err := promql.ParseExpr(r.Expr); err != nil {
					t.Errorf("%s %s%s: %v\n%s", g.Name, r.Record, r.Alert, err, r.Expr)
				}
				if strings.Contains(r.Expr, "Inf") || strings.Contains(r.Expr, "/ 0\n") || strings.HasSuffix(r.Expr, "/ 0") {
					t.Errorf("%s %s%s divides by zero: %s", g.Name, r.Record, r.Alert, r.Expr)
				}
			}
		}
		golden(t, name+"-rules.yaml", out)
		golden(t, name+"-rules.test.yaml", marshal(t, GenerateTests(f, name+"-rules.yaml")))
	}
}

// promtool, Prometheus's own checker, accepts every generated rule file and
// passes every generated unit test: each alert fires at its burn rate, not
// below it, and not at zero traffic.
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not found: test/install-deps.sh installs Debian's prometheus package")
		}
		t.Skip("promtool not found (make test installs it with test/install-deps.sh)")
	}
	for _, name := range []string{"example", "extra", "proxy"} {
		for _, args := range [][]string{
			{"check", "rules", "--lint=all", "--lint-fatal", filepath.Join("testdata", name+"-rules.yaml")},
			{"test", "rules", filepath.Join("testdata", name+"-rules.test.yaml")},
		} {
			out, err := exec.Command(promtool, args...).CombinedOutput()
			if err != nil {
				t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	}
}

// The unit tests grow linearly with the SLOs: 1,000 SLOs once made a
// file of gigabytes, each SLO's tests carrying every other SLO's series.
// Doubling the SLOs doubles the file, give or take the shared tests.
func TestGeneratedTestsGrowLinearly(t *testing.T) {
	size := func(n int) int {
		var b strings.Builder
		b.WriteString("slos:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - {name: svc-%d-availability, service: svc-%d, namespace: ns, team: t, objective: 99.9, indicator: {availability: {}}}\n", i, i)
		}
		f, err := slo.Parse(strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		return len(marshal(t, GenerateTests(f, "rules.yaml")))
	}
	s50, s100 := size(50), size(100)
	if ratio := float64(s100) / float64(s50); ratio > 2.1 {
		t.Errorf("50 SLOs: %d bytes, 100 SLOs: %d bytes (%.2fx): not linear", s50, s100, ratio)
	}
}

func promtoolOrSkip(t *testing.T) string {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not found: test/install-deps.sh installs Debian's prometheus package")
		}
		t.Skip("promtool not found (make test installs it with test/install-deps.sh)")
	}
	return promtool
}

// runPromtool writes rule files and a test file into a directory and runs
// promtool test rules on it.
func runPromtool(t *testing.T, promtool string, rules map[string]*slo.File, tests []Test) {
	t.Helper()
	dir := t.TempDir()
	tf := TestFile{EvaluationInterval: "5m", Tests: tests}
	for name, f := range rules {
		if err := os.WriteFile(filepath.Join(dir, name), marshal(t, Generate(f)), 0o644); err != nil {
			t.Fatal(err)
		}
		tf.RuleFiles = append(tf.RuleFiles, name)
	}
	slices.Sort(tf.RuleFiles)
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), marshal(t, tf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", "test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool test rules: %v\n%s", err, out)
	}
}

func mustParse(t *testing.T, doc string) *slo.File {
	t.Helper()
	f, err := slo.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Two rule files that both name an SLO "availability" (the usual name),
// for two services, load together: one service's errors page that service
// only, and every budget series is evaluated (no "same labelset" error:
// the rules select by namespace, service and SLO name).
func TestRuleFilesLoadTogether(t *testing.T) {
	promtool := promtoolOrSkip(t)
	checkout := mustParse(t, "slos:\n  - {name: availability, service: checkout, namespace: shop, team: payments, objective: 99.9, indicator: {availability: {}}}\n")
	cart := mustParse(t, "slos:\n  - {name: availability, service: cart, namespace: shop, team: web, objective: 99.9, indicator: {availability: {}}}\n")
	test := Test{Name: "checkout burns, cart does not", Interval: "1m",
		InputSeries: append(inputSeries(checkout.SLOs[0], constant(0.1)), inputSeries(cart.SLOs[0], constant(0))...)}
	page := alertsOf(Generate(checkout).Groups[0])["page"]
	test.AlertRuleTest = []AlertTest{{EvalTime: "60m", Alertname: PageAlert, ExpAlerts: []ExpectedAlert{expected(checkout.SLOs[0], page)}}}
	test.PromQLExprTest = []ExprTest{
		{Expr: "count(slo:error_budget:remaining_ratio)", EvalTime: "60m", ExpSamples: []Sample{{Labels: "{}", Value: 2}}},
		{Expr: `count(slo:error_budget:remaining_ratio{service="cart"} == 1)`, EvalTime: "60m", ExpSamples: []Sample{{Labels: "{}", Value: 1}}},
		{Expr: `count(slo:error_budget:burn_rate5m{service="checkout"} > 99)`, EvalTime: "60m", ExpSamples: []Sample{{Labels: "{}", Value: 1}}},
	}
	runPromtool(t, promtool, map[string]*slo.File{"checkout.yaml": checkout, "cart.yaml": cart}, []Test{test})
}

// Whatever the window, no alert fires while the service burns below its
// budget: at 0.9x the budget for three and a half days (the ticket's
// longest window and more) nothing fires; at 1.1x the ticket does. For 7
// and 28 days the workbook's shares would scale the slowest factor below
// 1 (0.233 and 0.933): it is raised to 1.
func TestNoAlertBelowBudget(t *testing.T) {
	promtool := promtoolOrSkip(t)
	const span = 84 * 60 // minutes: 3.5 days
	files := map[string]*slo.File{}
	var tests []Test
	for _, window := range []string{"7d", "28d", "30d"} {
		f := mustParse(t, fmt.Sprintf("slos:\n  - {name: w%s, service: s%s, namespace: n, objective: 99.9, window: %s, indicator: {availability: {}}}\n", window, window, window))
		files[window+".yaml"] = f
		s := f.SLOs[0]
		alerts := alertsOf(Generate(f).Groups[0])
		for _, tc := range []struct {
			share  float64
			ticket bool
		}{{0.9, false}, {1.1, true}} {
			var series []Series
			for _, in := range inputSeries(s, constant(tc.share*s.ErrorBudget())) {
				// inputSeries runs 150 minutes: the same counters over 3.5 days.
				per, _, _ := strings.Cut(strings.TrimPrefix(in.Values, "0+"), "x")
				series = append(series, Series{Series: in.Series, Values: fmt.Sprintf("0+%sx%d", per, span)})
			}
			test := Test{Name: fmt.Sprintf("%s: %gx budget", window, tc.share), Interval: "1m", InputSeries: series}
			for _, tier := range []struct {
				name  string
				fires bool
			}{{"page", false}, {"ticket", tc.ticket}} {
				r := alerts[tier.name]
				at := AlertTest{EvalTime: fmt.Sprintf("%dm", span-5), Alertname: r.Alert, ExpAlerts: []ExpectedAlert{}}
				if tier.fires {
					at.ExpAlerts = append(at.ExpAlerts, expected(s, r))
				}
				test.AlertRuleTest = append(test.AlertRuleTest, at)
			}
			tests = append(tests, test)
		}
	}
	runPromtool(t, promtool, files, tests)
}
