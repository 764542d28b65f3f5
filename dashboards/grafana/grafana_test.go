package grafana

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/genops-mesh/otelcol-genops/dashboards/kiali"
	"github.com/genops-mesh/otelcol-genops/internal/slo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func all(t *testing.T) map[string]dashboard.Dashboard {
	t.Helper()
	f, err := slo.ParseFile(filepath.Join("..", "..", "config", "slo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]dashboard.Dashboard{}
	for name, build := range map[string]func() (dashboard.Dashboard, error){
		CostUID: Cost, TrafficUID: Traffic, PolicyUID: Policy, SLOUID: func() (dashboard.Dashboard, error) { return SLOs(f) },
	} {
		d, err := build()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = d
	}
	return out
}

// grafanaVars replaces Grafana's variables by values PromQL accepts, so
// that the expressions can be parsed as Prometheus will run them.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__range", "1h", "$__interval", "1m")
var labelVarRE = regexp.MustCompile(`\$[a-z_]+`)

// Every dashboard round-trips through the SDK's strict unmarshal and
// Validate, every PromQL expression of every panel parses with
// Prometheus's parser, and the JSON is exactly the golden one.
func TestDashboards(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	promql := parser.NewParser(parser.Options{})
	for uid, d := range all(t) {
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		var back dashboard.Dashboard
		if err := back.UnmarshalJSONStrict(b); err != nil {
			t.Fatalf("%s: strict unmarshal: %v", uid, err)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("%s: Validate: %v", uid, err)
		}
		if back.Uid == nil || *back.Uid != uid {
			t.Errorf("%s: uid %v", uid, back.Uid)
		}
		exprs := 0
		for _, p := range back.Panels {
			if p.Panel == nil {
				continue
			}
			for _, target := range p.Panel.Targets {
				q, ok := target.(*prometheus.Dataquery)
				if !ok {
					t.Errorf("%s: panel %v has a non-Prometheus target %T", uid, p.Panel.Title, target)
					continue
				}
				expr := labelVarRE.ReplaceAllString(grafanaVars.Replace(q.Expr), "x")
				if _, err := promql.ParseExpr(expr); err != nil {
					t.Errorf("%s: panel %q: %v\n%s", uid, *p.Panel.Title, err, q.Expr)
				}
				if q.Datasource == nil || q.Datasource.Uid == nil || *q.Datasource.Uid != "${datasource}" {
					t.Errorf("%s: panel %q: the datasource is not the variable", uid, *p.Panel.Title)
				}
				exprs++
			}
		}
		if exprs < 5 {
			t.Errorf("%s: only %d expressions", uid, exprs)
		}
		golden := filepath.Join("testdata", uid+".json")
		if *update {
			if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test -update creates it)", err)
		}
		if !bytes.Equal(want, append(b, '\n')) {
			t.Errorf("%s is stale: go test ./dashboards/... -update, then read the diff", golden)
		}
	}
}

// docs/dashboards.md is generated from the dashboards.
func TestDocs(t *testing.T) {
	ds := all(t)
	chargeback, err := Chargeback()
	if err != nil {
		t.Fatal(err)
	}
	got := Describe([]dashboard.Dashboard{ds[CostUID], ds[SLOUID], ds[TrafficUID], ds[PolicyUID], chargeback})
	// The page promises every panel's query: each target is shown.
	if strings.Contains(got, unshownQuery) {
		t.Errorf("docs/dashboards.md leaves out queries:\n%s", got)
	}
	targets := 0
	for _, d := range []dashboard.Dashboard{ds[CostUID], ds[SLOUID], ds[TrafficUID], ds[PolicyUID], chargeback} {
		for _, p := range d.Panels {
			if p.Panel != nil {
				targets += len(p.Panel.Targets)
			}
		}
	}
	if shown := strings.Count(got, "```promql\n") + strings.Count(got, "```sql\n"); shown != targets || targets == 0 {
		t.Errorf("%d queries shown of %d panel targets", shown, targets)
	}
	// The Kiali dashboards follow, with every proxy source's.
	got += "\n" + kiali.Describe(kiali.Dashboards(&slo.File{SLOs: []slo.SLO{{Source: slo.SourceIstio}, {Source: slo.SourceLinkerd}}}))
	path := filepath.Join("..", "..", "docs", "dashboards.md")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil || string(want) != got {
		t.Errorf("docs/dashboards.md is stale (%v): go test ./dashboards/grafana -update", err)
	}
}

// An SLO over proxy metrics gets its latency panel from the proxy's own
// histogram, in seconds, and the expression parses.
func TestSLOPanelsFollowTheSource(t *testing.T) {
	f, err := slo.Parse(strings.NewReader("slos:\n  - {name: r, service: reviews, namespace: default, objective: 99, source: istio, indicator: {latency: {threshold: 2500ms}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := SLOs(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter=\"destination\",destination_service_namespace=\"default\",destination_service_name=\"reviews\"}[$__rate_interval]))) / 1000`
	if !strings.Contains(string(b), want) {
		t.Fatalf("no %s in the dashboard", want)
	}
	if _, err := parser.NewParser(parser.Options{}).ParseExpr(grafanaVars.Replace(strings.ReplaceAll(want, `\"`, `"`))); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "genops_request_duration_seconds") {
		t.Error("the istio SLO still reads the access log histogram")
	}
}
