package slo

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func importFile(t *testing.T, name string) ([]byte, *File) {
	t.Helper()
	fh, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	out, f, err := Import(fh)
	if err != nil {
		t.Fatal(err)
	}
	return out, f
}

func TestImportSloth(t *testing.T) {
	out, f := importFile(t, "sloth.yaml")
	if len(f.SLOs) != 2 {
		t.Fatalf("%d SLOs:\n%s", len(f.SLOs), out)
	}
	a, l := f.SLOs[0], f.SLOs[1]
	if a.Name != "requests-availability" || a.Service != "support-bot" || a.Namespace != "ai" || a.Team != "ml-platform" ||
		a.Objective != 99.9 || a.Indicator.Availability == nil || a.Window != DefaultWindow ||
		a.Alerting.Page.Labels["severity"] != "pageteam" || !a.Alerting.Ticket.Disabled ||
		a.Alerting.Page.Annotations["runbook_url"] == "" {
		t.Errorf("availability: %+v\n%s", a, out)
	}
	if l.Indicator.Latency == nil || l.Indicator.Latency.Threshold != 2*time.Second || l.Objective != 99 {
		t.Errorf("latency: %+v", l)
	}
	// The output is itself a valid SLO file.
	if _, err := Parse(strings.NewReader(string(out))); err != nil {
		t.Fatal(err)
	}
}

func TestImportOpenSLO(t *testing.T) {
	_, f := importFile(t, "openslo.yaml")
	if len(f.SLOs) != 1 {
		t.Fatalf("%d SLOs", len(f.SLOs))
	}
	s := f.SLOs[0]
	if s.Name != "checkout-availability" || s.Service != "checkout" || s.Namespace != "shop" || s.Objective != 99.5 ||
		s.Window != 28*24*time.Hour || s.Indicator.Availability == nil {
		t.Errorf("%+v", s)
	}
}

// What is not supported says so, naming the SLO.
func TestImportUnsupported(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`version: prometheus/v1
service: a
slos:
  - name: raw
    objective: 99
    sli: {raw: {error_ratio_query: "x"}}`, `slo "raw": only sli.events`},
		{`version: prometheus/v1
service: a
slos:
  - name: other
    objective: 99
    sli:
      events:
        error_query: sum(rate(http_requests_total{namespace="a",service="b",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{namespace="a",service="b"}[{{.window}}]))`, "only genops_requests_total"},
		{`version: prometheus/v1
service: a
slos:
  - name: noservice
    objective: 99
    sli:
      events:
        error_query: sum(rate(genops_requests_total{availability="bad"}[{{.window}}]))
        total_query: sum(rate(genops_requests_total[{{.window}}]))`, `namespace="..." and service="..."`},
		{`apiVersion: openslo/v1
kind: SLO
metadata: {name: threshold}
spec:
  indicator:
    spec:
      thresholdMetric: {metricSource: {spec: {query: "x"}}}
  objectives: [{target: 0.9}]`, "only an inline indicator with a ratioMetric"},
		{`kind: Something`, "neither Sloth"},
	} {
		_, _, err := Import(strings.NewReader(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want %q, got %v", tc.want, err)
		}
	}
}

var update = flag.Bool("update", false, "rewrite testdata/import/*.golden")

// Every Sloth and OpenSLO construct in testdata/import either imports to
// an SLO that means what the query means, or is refused with an error
// that names the construct: the golden file holds the imported SLO file
// or the error, and the first line of each input says which and why.
func TestImportGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "import", "*.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			b, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := Import(bytes.NewReader(b))
			got := out
			if err != nil {
				got = []byte("error: " + err.Error() + "\n")
			}
			refused := strings.Contains(strings.SplitN(string(b), "\n", 2)[0], "Refused.")
			if refused != (err != nil) {
				t.Errorf("the input says refused=%v, Import: %v", refused, err)
			}
			golden := strings.TrimSuffix(in, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs (go test ./internal/slo -run TestImportGolden -update, then read the diff):\n%s", golden, got)
			}
		})
	}
}
