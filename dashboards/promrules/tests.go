package promrules

import (
	"fmt"
	"maps"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
	"github.com/genops-mesh/otelcol-genops/internal/slo"
)

// TestFile is a `promtool test rules` file.
type TestFile struct {
	RuleFiles          []string `yaml:"rule_files"`
	EvaluationInterval string   `yaml:"evaluation_interval"`
	Tests              []Test   `yaml:"tests"`
}

// Test is one promtool test case.
type Test struct {
	Name           string      `yaml:"name"`
	Interval       string      `yaml:"interval"`
	InputSeries    []Series    `yaml:"input_series"`
	AlertRuleTest  []AlertTest `yaml:"alert_rule_test"`
	PromQLExprTest []ExprTest  `yaml:"promql_expr_test,omitempty"`
}

// ExprTest checks what a PromQL expression gives at an evaluation time.
type ExprTest struct {
	Expr       string   `yaml:"expr"`
	EvalTime   string   `yaml:"eval_time"`
	ExpSamples []Sample `yaml:"exp_samples"`
}

// Sample is one expected sample: labels in PromQL notation and a value.
type Sample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// Series is one input series in promtool's expanding notation.
type Series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// AlertTest says which alerts fire at an evaluation time.
type AlertTest struct {
	EvalTime  string          `yaml:"eval_time"`
	Alertname string          `yaml:"alertname"`
	ExpAlerts []ExpectedAlert `yaml:"exp_alerts"`
}

// ExpectedAlert is a firing alert's labels and annotations.
type ExpectedAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// eventsPerMinute is the synthetic traffic; minutes is how long it runs.
const (
	eventsPerMinute = 10000
	minutes         = 150
)

// GenerateTests returns promtool unit tests for the rules Generate makes
// from f (ruleFile is their path as promtool sees it). For each SLO they
// feed synthetic traffic at shares of bad events derived from the SLO's
// burn factors and check: the page alert fires above its factors, and
// through its fast (1h/5m) condition alone when only the last hour burns;
// it stays silent below them; the ticket alert fires between the ticket
// and page factors; nothing fires below half the lowest factor. Two tests
// cover every SLO at once: at zero traffic nothing fires, and with no
// series every SLO's absent alert fires.
//
// The file grows linearly with the SLOs: a test about one SLO holds only
// that SLO's series and checks only alerts its series decide (page,
// ticket). The absent alert, which every SLO without series raises, is
// checked only in the two tests that hold every SLO.
func GenerateTests(f *slo.File, ruleFile string) TestFile {
	// Rules are evaluated every 5 minutes (samples stay 1 minute apart):
	// the windows are 5 minutes and longer, and promtool runs five times
	// fewer evaluations.
	tf := TestFile{RuleFiles: []string{ruleFile}, EvaluationInterval: "5m"}
	rules := Generate(f)
	alerts := make([]map[string]Rule, len(f.SLOs))
	for i, s := range f.SLOs {
		alerts[i] = alertsOf(rules.Groups[i])
		tf.Tests = append(tf.Tests, sloTests(s, alerts[i])...)
	}
	if len(f.SLOs) > 0 {
		tf.Tests = append(tf.Tests, zeroTrafficTest(f.SLOs, alerts), absentTest(f.SLOs, alerts))
	}
	return tf
}

// alertsOf are a group's alert rules by tier: "page", "ticket" (their
// severity) and "absent".
func alertsOf(g Group) map[string]Rule {
	alerts := map[string]Rule{}
	for _, r := range g.Rules {
		switch {
		case r.Alert == AbsentAlert:
			alerts["absent"] = r
		case r.Alert != "":
			alerts[r.Labels["severity"]] = r
		}
	}
	return alerts
}

func flat(series []Series) []Series {
	out := make([]Series, len(series))
	for i, s := range series {
		out[i] = Series{Series: s.Series, Values: fmt.Sprintf("0+0x%d", minutes-1)}
	}
	return out
}

func sloTests(s slo.SLO, alerts map[string]Rule) []Test {
	budget := s.ErrorBudget()
	if budget == 0 {
		// A 100% objective: any bad event pages; none keeps silence.
		return []Test{
			burnTest(s, alerts, "any bad event pages", constant(0.001), true, !s.Alerting.Ticket.Disabled),
			burnTest(s, alerts, "no bad event is silent", constant(0), false, false),
		}
	}
	// With steady traffic the ratio is the same over every window, so a
	// tier fires exactly when the share of bad events is above its lowest
	// factor times the budget; the last-hour cases separate the fast
	// (1h/5m) page condition from the slow one.
	pageWindows, ticketWindows := Windows(s.Window)
	fast, slow := pageWindows[0].Factor(s.Window), pageWindows[1].Factor(s.Window)
	pageMin, pageMax := min(fast, slow), max(fast, slow)
	quiet := 0.7 * min(fast, slow*2)
	ticketMin := min(ticketWindows[0].Factor(s.Window), ticketWindows[1].Factor(s.Window))
	ticket := !s.Alerting.Ticket.Disabled
	page := !s.Alerting.Page.Disabled
	x := func(f float64) string { return fmtFloat(math.Round(f*100)/100) + "x" }
	tests := []Test{
		burnTest(s, alerts, "steady "+x(1.5*pageMax)+" budget pages and tickets", constant(1.5*pageMax*budget), page, ticket),
		pageTest(s, alerts, "last hour at "+x(1.5*fast)+" budget pages through the 1h/5m condition", lastHour(1.5*fast*budget), page),
		// Below the fast factor, and low enough that the slow (6h/30m)
		// condition, which sees the burst over the 150 minutes of data
		// (2.5 hours), stays silent too.
		pageTest(s, alerts, "last hour at "+x(quiet)+" budget does not page", lastHour(quiet*budget), false),
		burnTest(s, alerts, "steady "+x(0.5*min(pageMin, ticketMin))+" budget is silent", constant(0.5*min(pageMin, ticketMin)*budget), false, false),
	}
	if ticket && ticketMin < pageMin {
		between := math.Sqrt(ticketMin * pageMin)
		tests = append(tests, burnTest(s, alerts, "steady "+x(between)+" budget tickets but does not page", constant(between*budget), false, true))
	}
	return tests
}

// badShare gives the share of bad events in each minute.
type badShare func(minute int) float64

func constant(share float64) badShare { return func(int) float64 { return share } }

func lastHour(share float64) badShare {
	return func(m int) float64 {
		if m >= minutes-60 {
			return share
		}
		return 0
	}
}

// counterValues writes a counter in promtool's expanding notation from
// per-minute increments: the counter starts at 0, and runs of equal steps
// are written "start+stepxN" (N+1 values).
func counterValues(inc func(minute int) float64) string {
	values := make([]float64, minutes)
	for m := 1; m < minutes; m++ {
		values[m] = roundCount(values[m-1] + inc(m))
	}
	var parts []string
	for i := 0; i < minutes; {
		step := 0.0
		if i+1 < minutes {
			step = roundCount(values[i+1] - values[i])
		}
		n := 0
		for i+n+1 < minutes && roundCount(values[i+n+1]-values[i+n]) == step {
			n++
		}
		parts = append(parts, fmt.Sprintf("%s+%sx%d", fmtFloat(values[i]), fmtFloat(step), n))
		i += n + 1
	}
	return strings.Join(parts, " ")
}

func roundCount(v float64) float64 { return math.Round(v*1000) / 1000 }

// seriesLabels are the labels of the synthetic events of an SLO.
// baseLabels are the labels of an SLO's events as its source writes them
// (shaped like the Istio and Linkerd scrapes in ../shared/fixtures).
func baseLabels(s slo.SLO) map[string]string {
	switch s.Source {
	case slo.SourceIstio:
		return map[string]string{"reporter": "destination", "destination_service_namespace": s.Namespace, "destination_service_name": s.Service,
			"destination_workload": s.Service + "-v1", "destination_workload_namespace": s.Namespace, "source_workload": "caller", "request_protocol": "http"}
	case slo.SourceLinkerd:
		return map[string]string{"direction": "inbound", "namespace": s.Namespace, "app": s.Service, "pod": s.Service + "-0", "tls": "true"}
	}
	l := map[string]string{"namespace": s.Namespace, "service": s.Service, "reporter": semconv.ReporterDestination}
	maps.Copy(l, s.Matchers)
	return l
}

func seriesLabels(s slo.SLO, extra map[string]string) string {
	l := baseLabels(s)
	for _, b := range s.By {
		l[b] = "test"
	}
	maps.Copy(l, extra)
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, l[k]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func inputSeries(s slo.SLO, share badShare) []Series {
	total := func(int) float64 { return eventsPerMinute }
	bad := func(m int) float64 { return roundCount(eventsPerMinute * share(m)) }
	good := func(m int) float64 { return eventsPerMinute - bad(m) }
	src := SourceOf(s)
	if l := s.Indicator.Latency; l != nil {
		le := strconv.FormatFloat(l.Threshold.Seconds()*src.PerSecond, 'g', -1, 64)
		return []Series{
			{src.Duration + "_count" + seriesLabels(s, nil), counterValues(total)},
			{src.Duration + "_bucket" + seriesLabels(s, map[string]string{"le": le}), counterValues(good)},
		}
	}
	var goodLabels, badLabels map[string]string
	switch s.Source {
	case slo.SourceIstio:
		// The bad series matches both bad selections (5xx and a failure
		// flag): the rules must count it once.
		goodLabels = map[string]string{"response_code": "200", "response_flags": "-"}
		badLabels = map[string]string{"response_code": "503", "response_flags": "UF,URX"}
	case slo.SourceLinkerd:
		goodLabels = map[string]string{"classification": "success", "status_code": "200"}
		badLabels = map[string]string{"classification": "failure", "status_code": "500"}
	default:
		goodLabels = map[string]string{"availability": semconv.AvailabilityGood}
		badLabels = map[string]string{"availability": semconv.AvailabilityBad}
	}
	return []Series{
		{src.Requests + seriesLabels(s, goodLabels), counterValues(good)},
		{src.Requests + seriesLabels(s, badLabels), counterValues(bad)},
	}
}

// expected is the alert an SLO's burn rule raises: the recording rules'
// labels, the split labels, and the rule's own.
func expected(s slo.SLO, r Rule) ExpectedAlert {
	l := sloLabels(s)
	for _, b := range s.By {
		l[b] = "test"
	}
	maps.Copy(l, r.Labels)
	return ExpectedAlert{ExpLabels: l, ExpAnnotations: r.Annotations}
}

func alertTest(s slo.SLO, alerts map[string]Rule, tier string, fires bool) (AlertTest, bool) {
	r, ok := alerts[tier]
	if !ok {
		return AlertTest{}, false
	}
	at := AlertTest{EvalTime: fmt.Sprintf("%dm", minutes-5), Alertname: r.Alert, ExpAlerts: []ExpectedAlert{}}
	if fires {
		at.ExpAlerts = append(at.ExpAlerts, expected(s, r))
	}
	return at, true
}

// burnTest checks the page and ticket alerts under a share of bad events;
// ticket is checked only when checkTicket is set.
func burnTest(s slo.SLO, alerts map[string]Rule, name string, share badShare, page, ticket bool) Test {
	return burnTestOf(s, alerts, name, share, page, ticket, true)
}

// pageTest checks only the page alert (a burst also moves the ticket
// windows, which is not what such a case is about).
func pageTest(s slo.SLO, alerts map[string]Rule, name string, share badShare, page bool) Test {
	return burnTestOf(s, alerts, name, share, page, false, false)
}

func burnTestOf(s slo.SLO, alerts map[string]Rule, name string, share badShare, page, ticket, checkTicket bool) Test {
	t := Test{Name: s.Name + ": " + name, Interval: "1m", InputSeries: inputSeries(s, share)}
	// One check per alert name, listing every alert of that name that
	// fires: with alerting.name both tiers share one name (Sloth's way),
	// and a case that does not decide the ticket cannot check that name.
	var order []string
	checks := map[string]*AlertTest{}
	skip := map[string]bool{}
	for _, c := range []struct {
		tier  string
		fires bool
		check bool
	}{{"page", page, true}, {"ticket", ticket, checkTicket}} {
		r, ok := alerts[c.tier]
		if !ok {
			continue
		}
		if !c.check {
			skip[r.Alert] = true
			continue
		}
		at, seen := checks[r.Alert]
		if !seen {
			order = append(order, r.Alert)
			at = &AlertTest{EvalTime: fmt.Sprintf("%dm", minutes-5), Alertname: r.Alert, ExpAlerts: []ExpectedAlert{}}
			checks[r.Alert] = at
		}
		if c.fires {
			at.ExpAlerts = append(at.ExpAlerts, expected(s, r))
		}
	}
	for _, name := range order {
		if !skip[name] {
			t.AlertRuleTest = append(t.AlertRuleTest, *checks[name])
		}
	}
	return t
}

// zeroTrafficTest: every SLO's series present and flat: no alert fires,
// the absent alert included.
func zeroTrafficTest(slos []slo.SLO, alerts []map[string]Rule) Test {
	t := Test{Name: "every SLO: zero traffic is silent", Interval: "1m"}
	for _, s := range slos {
		t.InputSeries = append(t.InputSeries, flat(inputSeries(s, constant(0)))...)
	}
	checked := map[string]bool{}
	for _, tier := range []string{"page", "ticket", "absent"} {
		for i := range slos {
			if at, ok := alertTest(slos[i], alerts[i], tier, false); ok && !checked[at.Alertname] {
				// One check per alert name: it lists every firing alert.
				checked[at.Alertname] = true
				t.AlertRuleTest = append(t.AlertRuleTest, at)
			}
		}
	}
	return t
}

// absentTest: no series at all: every SLO's absent alert fires, with the
// labels absent() takes from its selector's equality matchers.
func absentTest(slos []slo.SLO, alerts []map[string]Rule) Test {
	t := Test{Name: "every SLO: no series raises its absent alert", Interval: "1m"}
	at := AlertTest{EvalTime: "30m", Alertname: AbsentAlert, ExpAlerts: []ExpectedAlert{}}
	seen := map[string]bool{}
	for i, s := range slos {
		r, ok := alerts[i]["absent"]
		if !ok {
			continue
		}
		l := map[string]string{}
		for _, m := range SourceOf(s).Match {
			l[m[0]] = m[1]
		}
		maps.Copy(l, r.Labels)
		key := fmt.Sprint(l)
		if seen[key] { // two SLOs that raise the same alert: promtool sees one
			continue
		}
		seen[key] = true
		at.ExpAlerts = append(at.ExpAlerts, ExpectedAlert{ExpLabels: l, ExpAnnotations: r.Annotations})
	}
	t.AlertRuleTest = []AlertTest{at}
	// promtool needs at least one input series: one no SLO selects.
	t.InputSeries = []Series{{Series: `up{job="genops-promtool"}`, Values: "1x30"}}
	return t
}
