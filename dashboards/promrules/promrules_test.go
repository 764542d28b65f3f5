package promrules

import (
	"bytes"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
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
// window.
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
	if got := PageWindows[0].Factor(7 * 24 * time.Hour); got != 3.36 {
		t.Errorf("7d page factor %v, want 3.36", got)
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
			{"check", "rules", filepath.Join("testdata", name+"-rules.yaml")},
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
