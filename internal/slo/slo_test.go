package slo

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseExampleFile(t *testing.T) {
	f, err := ParseFile(filepath.Join("..", "..", "config", "slo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.SLOs) != 3 {
		t.Fatalf("%d SLOs", len(f.SLOs))
	}
	a := f.SLOs[0]
	if a.Name != "support-bot-availability" || a.Service != "support-bot" || a.Namespace != "ai" || a.Team != "ml-platform" ||
		a.Objective != 99.9 || a.Window != 30*24*time.Hour || a.Indicator.Availability == nil || a.Source != SourceAccessLogs ||
		a.Alerting.Page.Labels["severity"] != "page" || a.Alerting.Page.Annotations["runbook_url"] == "" || a.Line != 5 {
		t.Errorf("first SLO: %+v", a)
	}
	if b := f.SLOs[1]; b.Window != DefaultWindow || b.Indicator.Latency.Threshold != 2*time.Second ||
		!b.Alerting.Page.Disabled || !slices.Equal(b.By, []string{"genops_customer_tier"}) || b.Kind() != "latency" {
		t.Errorf("second SLO: %+v", b)
	}
	if got := f.LatencyThresholds(); !slices.Equal(got, []float64{0.5, 2}) {
		t.Errorf("thresholds %v", got)
	}
	if eb := a.ErrorBudget(); eb != 0.001 {
		t.Errorf("error budget %v", eb)
	}
}

// Every problem is reported at once, each naming its line, SLO and field.
func TestParseErrors(t *testing.T) {
	_, err := ParseFile(filepath.Join("testdata", "invalid.yaml"))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	got := err.Error()
	for _, want := range []string{
		`line 2: slo "Bad Name": name: "Bad Name": use lower-case letters`,
		`line 2: slo "Bad Name": objective: 120 is not a percentage in (0, 100]`,
		`line 2: slo "Bad Name": window: "2w3"`,
		`line 2: slo "Bad Name": indicator.latency.threshold: "-5s"`,
		`line 9: slo "no-indicator": service: required`,
		`line 9: slo "no-indicator": indicator: required`,
		`line 9: slo "no-indicator": by: "pod" is not a label an SLO can be split by`,
		`line 9: slo "no-indicator": source: "consul" is not one of`,
		`line 14: slo "both": indicator: give availability or latency, not both`,
		`line 14: slo "both": alerting.page.labels: "bad-label" is not a Prometheus label name`,
		`line 24: slo "both": name: also used by the SLO of the same service on line 14`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors do not contain\n  %s\ngot:\n%s", want, got)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"", "empty file"},
		{"slos: []", "no SLOs"},
		{"slos:\n  - name: a\n    objectve: 99\n", `line 3: slo "a": objectve: unknown field`},
		{"slos: [", "did not find expected"},
		{policySLO("access_logs", "rate_limited_share: 5"), "alerting.policy.rate_limited_share: 5: a share of requests above 0 and at most 1"},
		{policySLO("access_logs", "rate_limited_share: 0"), "alerting.policy.rate_limited_share: 0: a share"},
		{policySLO("istio", "new_denial_source: true"), "alerting.policy: only for source access_logs"},
		{policySLO("access_logs", "rate_limited_shar: 0.1"), "alerting.policy.rate_limited_shar: unknown field"},
	} {
		_, err := Parse(strings.NewReader(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func policySLO(source, policy string) string {
	return "slos:\n  - name: a\n    service: llm\n    namespace: ai\n    objective: 99\n    source: " + source +
		"\n    indicator: {availability: {}}\n    alerting:\n      policy: {" + policy + "}\n"
}

// An objective of 100 is allowed: its error budget is 0, which the rule
// generator must handle without dividing by it.
func TestObjective100(t *testing.T) {
	f, err := Parse(strings.NewReader("slos:\n  - {name: a, service: s, namespace: n, objective: 100, indicator: {availability: {}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.SLOs[0].ErrorBudget() != 0 {
		t.Error("budget not 0")
	}
}

func FuzzParse(f *testing.F) {
	f.Add("slos:\n  - {name: a, service: s, namespace: n, objective: 99.9, indicator: {latency: {threshold: 250ms}}}\n")
	f.Add("slos: [{name: x}]")
	f.Fuzz(func(t *testing.T, doc string) {
		file, err := Parse(strings.NewReader(doc))
		if err == nil {
			for _, s := range file.SLOs {
				if s.Objective <= 0 || s.Objective > 100 || (s.Indicator.Latency == nil) == (s.Indicator.Availability == nil) {
					t.Fatalf("invalid SLO accepted: %+v", s)
				}
			}
		}
	})
}

// A latency SLO over proxy metrics must use a bound the proxy's histogram
// has: Istio's or Linkerd's defaults, or the SLO's proxy_buckets; the error
// names the nearest bounds.
func TestProxyBuckets(t *testing.T) {
	for doc, want := range map[string]string{
		one("source: istio, indicator: {latency: {threshold: 2s}}"):                             "2s is not a bucket bound of the istio proxy histogram (nearest: 1s and 2.5s",
		one("source: istio, indicator: {latency: {threshold: 2500ms}}"):                         "",
		one("source: linkerd, indicator: {latency: {threshold: 2s}}"):                           "",
		one("source: linkerd, indicator: {latency: {threshold: 60s}}"):                          "nearest: 50s and none",
		one("source: istio, proxy_buckets: [100, 2000], indicator: {latency: {threshold: 2s}}"): "",
		one("source: istio, indicator: {latency: {threshold: 7ms}}"):                            "nearest: 5ms and 10ms",
		one("proxy_buckets: [100], indicator: {latency: {threshold: 2s}}"):                      "proxy_buckets: only for source istio or linkerd",
		one("source: istio, indicator: {availability: {}}"):                                     "",
	} {
		parseErr(t, doc, want)
	}
}

// Thresholds with fractions are exact, and written back as read.
func TestThresholds(t *testing.T) {
	for in, want := range map[string]time.Duration{"0.4s": 400 * time.Millisecond, "2.5s": 2500 * time.Millisecond,
		"1.5m": 90 * time.Second, "0.25s": 250 * time.Millisecond, "500ms": 500 * time.Millisecond, "2s": 2 * time.Second,
		"0.5ms": 500 * time.Microsecond, "1m": time.Minute} {
		got, err := ParseThreshold(in)
		if err != nil || got != want {
			t.Errorf("ParseThreshold(%q) = %v, %v; want %v", in, got, err, want)
			continue
		}
		if back, err := ParseThreshold(FormatThreshold(got)); err != nil || back != got {
			t.Errorf("%v written %q reads back as %v, %v", got, FormatThreshold(got), back, err)
		}
	}
	for _, bad := range []string{"-0.5s", "0.4", "1.5x", "", "+2.5s"} {
		if d, err := ParseThreshold(bad); err == nil {
			t.Errorf("ParseThreshold(%q) = %v, want an error", bad, d)
		}
	}
	f, err := Parse(strings.NewReader("slos:\n  - {name: a, service: s, namespace: n, objective: 99, indicator: {latency: {threshold: 0.4s}}}\n"))
	if err != nil || f.SLOs[0].Indicator.Latency.Threshold != 400*time.Millisecond {
		t.Errorf("threshold 0.4s in a file: %v", err)
	}
}

// A latency SLO may split or narrow only by labels the latency histogram
// has: genops_customer_id, genops_cost_center and version are the request
// counter's only, and rules grouping by them would group by nothing.
func TestLatencyLabels(t *testing.T) {
	for doc, want := range map[string]string{
		"by: [genops_customer_id, version, genops_cost_center]": `by: "genops_customer_id" is not a label of genops_request_duration_seconds`,
		"matchers: {version: v2}":                               `matchers: "version" is not a label of genops_request_duration_seconds`,
		"by: [genops_customer_tier, route]":                     "",
	} {
		_, err := Parse(strings.NewReader("slos:\n  - {name: a, service: s, namespace: n, objective: 99, indicator: {latency: {threshold: 1s}}, " + strings.Replace(doc, ": ", ": ", 1) + "}\n"))
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", doc, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want %q", doc, err, want)
		}
	}
	// The same splits are fine for availability: the request counter has them.
	if _, err := Parse(strings.NewReader("slos:\n  - {name: a, service: s, namespace: n, objective: 99, indicator: {availability: {}}, by: [genops_customer_id, version]}\n")); err != nil {
		t.Error(err)
	}
}

// A misspelt key does not hide the file's other problems: every one is
// reported at once, each with its line (genopsctl validate prints them).
func TestUnknownKeysAndOtherErrors(t *testing.T) {
	doc := `slos:
  - name: a
    service: s
    namespace: n
    objectve: 99
    indicator: {latency: {threshold: 1s, treshold: 2s}}
    alerting: {page: {lables: {x: y}}}
  - name: b
    namespace: n
    objective: 120
    indicator: {availability: {}}
`
	_, err := Parse(strings.NewReader(doc))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`line 5: slo "a": objectve: unknown field`,
		`line 6: slo "a": indicator.latency.treshold: unknown field`,
		`line 7: slo "a": alerting.page.lables: unknown field`,
		`slo "a": objective: required`,
		`slo "b": service: required`,
		`slo "b": objective: 120 is not a percentage`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}
