package slo

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The window's bounds are exact: 1h and 366d are windows, 59m and 367d
// are not.
func TestWindowBounds(t *testing.T) {
	for window, ok := range map[string]bool{"1h": true, "59m": false, "366d": true, "367d": false, "30d": true} {
		_, err := Parse(strings.NewReader("slos:\n  - {name: a, service: s, namespace: n, objective: 99, window: " + window + ", indicator: {availability: {}}}\n"))
		if (err == nil) != ok {
			t.Errorf("window %s: %v", window, err)
		}
		if err != nil && !strings.Contains(err.Error(), "outside 1h to 366d") {
			t.Errorf("window %s: %v", window, err)
		}
	}
}

// one is an SLO file of one SLO whose flow-mapping fields are extra.
func one(extra string) string {
	return "slos:\n  - {name: a, service: s, namespace: n, objective: 99, " + extra + "}\n"
}

func objective(v string) string {
	return "slos:\n  - {name: a, service: s, namespace: n, objective: " + v + ", indicator: {availability: {}}}\n"
}

// parseErr parses doc and says whether its error contains want ("" for
// none).
func parseErr(t *testing.T, doc, want string) {
	t.Helper()
	_, err := Parse(strings.NewReader(doc))
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: %v", doc, err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("%s: %v, want %q", doc, err, want)
	}
}

// Each bound of the SLO file's numbers, on both sides.
func TestValueBounds(t *testing.T) {
	for doc, want := range map[string]string{
		objective("0"):      "0 is not a percentage in (0, 100]",
		objective("0.001"):  "",
		objective("100.01"): "100.01 is not a percentage",
		one("indicator: {latency: {threshold: 0s}}"):                                    "indicator.latency.threshold",
		one("indicator: {latency: {threshold: 1ms}}"):                                   "",
		one("indicator: {availability: {}}, alerting: {page: {for: 24h}}"):              "",
		one("indicator: {availability: {}}, alerting: {page: {for: 25h}}"):              `alerting.page.for: "25h": a Prometheus duration up to 1d`,
		one("indicator: {availability: {}}, alerting: {ticket: {for: soon}}"):           `alerting.ticket.for: "soon"`,
		policySLO("access_logs", "rate_limited_share: 1"):                               "",
		policySLO("access_logs", "rate_limited_share: 1.01"):                            "rate_limited_share: 1.01: a share",
		one("source: istio, by: [genops_customer_id], indicator: {availability: {}}"):   "proxy metrics carry no customer id",
		one("source: linkerd, by: [genops_customer_id], indicator: {availability: {}}"): "proxy metrics carry no customer id",
		one("source: istio, indicator: {latency: {threshold: 0.7ms}}"):                  "nearest: 0.5ms and 1ms",
	} {
		parseErr(t, doc, want)
	}
}

// The default window is 30 days, and an SLO's ID names its namespace,
// service and name.
func TestDefaults(t *testing.T) {
	f, err := Parse(strings.NewReader(one("indicator: {availability: {}}")))
	if err != nil {
		t.Fatal(err)
	}
	if f.SLOs[0].Window != 720*time.Hour {
		t.Errorf("default window %v, want 720h", f.SLOs[0].Window)
	}
	if id := f.SLOs[0].ID(); id != "n/s/a" {
		t.Errorf("ID %q", id)
	}
}

// The latency histogram's labels are checked for every latency SLO on
// access logs, whether the file says source: access_logs or nothing.
func TestLatencyLabelsEitherWay(t *testing.T) {
	for _, source := range []string{"", "source: access_logs, "} {
		parseErr(t, one(source+"by: [genops_customer_id], indicator: {latency: {threshold: 500ms}}"), "genops_customer_id")
	}
}

// An SLO without a name is named by its place in the file; problems are
// listed in file order, and "line 0" is never written.
func TestErrorsNameTheirPlace(t *testing.T) {
	doc := "slos:\n  - {name: a, service: s, namespace: n, objective: 0, indicator: {availability: {}}}\n" +
		"  - {service: s, namespace: n, objective: 99, indicator: {availability: {}}, colour: red}\n"
	_, err := Parse(strings.NewReader(doc))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) < 3 {
		t.Fatalf("errors %v", err)
	}
	for i := 1; i < len(errs); i++ {
		if errs[i].Line < errs[i-1].Line {
			t.Errorf("errors out of file order: %v", errs)
		}
	}
	if !strings.Contains(err.Error(), `slo "#2": name`) {
		t.Errorf("the unnamed SLO is not called #2: %v", err)
	}
	if e := (Error{Field: "slos", Msg: "no SLOs"}).Error(); strings.Contains(e, "line") {
		t.Errorf("an error without a line says %q", e)
	}
	// A file without a slos key at all.
	parseErr(t, "version: 1\n", "no SLOs")
}

// Thresholds below a millisecond are written as decimal milliseconds,
// exactly.
func TestFormatSubMillisecond(t *testing.T) {
	for d, want := range map[time.Duration]string{250 * time.Microsecond: "0.25ms", 125 * time.Microsecond: "0.125ms", 1500 * time.Microsecond: "1.5ms"} {
		if got := FormatThreshold(d); got != want {
			t.Errorf("FormatThreshold(%v) = %q, want %q", d, got, want)
		}
	}
}
