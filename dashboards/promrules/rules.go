// Package promrules generates Prometheus recording and alerting rules from
// the SLO model, the way Sloth does: for each SLO, error ratios over the
// multi-window, multi-burn-rate windows computed from event counts, the
// error budget left, the current burn rate, page and ticket alerts, and an
// alert for when the SLI's source disappears. It is a pure function of the
// model; writing files is genopsctl's job.
package promrules

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
	"github.com/genops-mesh/otelcol-genops/internal/slo"
)

// RuleFile is a Prometheus rule file.
type RuleFile struct {
	Groups []Group `yaml:"groups"`
}

// Group is a rule group.
type Group struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []Rule `yaml:"rules"`
}

// Rule is a recording or alerting rule.
type Rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// ErrorRatioRecord names the recording rule of an SLO's error ratio over a
// window ("slo:sli_error:ratio_rate1h").
func ErrorRatioRecord(window string) string { return "slo:sli_error:ratio_rate" + window }

// Names of the other rules.
const (
	BudgetRemainingRecord = "slo:error_budget:remaining_ratio"
	BurnRateRecord        = "slo:error_budget:burn_rate5m"
	ObjectiveRecord       = "slo:objective:ratio"
	PageAlert             = "GenOpsSLOErrorBudgetBurnPage"
	TicketAlert           = "GenOpsSLOErrorBudgetBurnTicket"
	AbsentAlert           = "GenOpsSLOSourceAbsent"
	RateLimitedAlert      = "GenOpsCustomerRateLimited"
	NewDenialAlert        = "GenOpsNewDenialSource"
)

// BurnWindow is one condition of the multi-window, multi-burn-rate scheme
// (Google SRE workbook, chapter 5): the error ratio over both windows is
// above Factor times the error budget.
type BurnWindow struct {
	Long, Short string
	// BudgetShare is the share of the whole window's budget that burning at
	// Factor for Long consumes; Factor derives from it and the SLO window.
	BudgetShare float64
}

// Factor is the burn rate that consumes BudgetShare of the budget in Long,
// for an SLO window: 2% of a 30-day budget in 1 hour is 14.4. It is never
// below 1: an alert at a burn rate below 1 would fire while the budget
// lasts longer than the window, that is while the SLO is being met.
func (w BurnWindow) Factor(sloWindow time.Duration) float64 {
	long, _ := model.ParseDuration(w.Long)
	f := w.BudgetShare * sloWindow.Hours() / time.Duration(long).Hours()
	return max(1, math.Round(f*1000)/1000)
}

// The workbook's tiers (Google SRE workbook, chapter 5; Sloth's defaults
// for 30d and 28d): page at 2% of the budget in 1h (5m to confirm) or 5%
// in 6h (30m); ticket at 10% in 1d (2h) or 10% in 3d (6h). For a 30-day
// window the factors are 14.4, 6, 3 and 1; for 28 days 13.44, 5.6, 2.8
// and 0.933, raised to 1.
var (
	PageWindows   = []BurnWindow{{"1h", "5m", 0.02}, {"6h", "30m", 0.05}}
	TicketWindows = []BurnWindow{{"1d", "2h", 0.10}, {"3d", "6h", 0.10}}
)

// For windows shorter than 28 days the same shares would scale the
// factors below 1 (a 7-day window: 3.36, 1.4, 0.7, 0.233, a ticket while
// the service burns at a quarter of its budget). Shorter windows take
// Sloth's table for 7 days (examples/windows/7d.yaml): page at 8% in 1h
// or 12.5% in 6h, ticket at 20% in 1d or 42% in 3d: for 7 days 13.44,
// 3.5, 1.4 and 0.98, raised to 1.
var (
	ShortPageWindows   = []BurnWindow{{"1h", "5m", 0.08}, {"6h", "30m", 0.125}}
	ShortTicketWindows = []BurnWindow{{"1d", "2h", 0.20}, {"3d", "6h", 0.42}}
)

// shortWindow is the SLO window below which the short table applies.
const shortWindow = 28 * 24 * time.Hour

// Windows are the page and ticket conditions of an SLO window.
func Windows(sloWindow time.Duration) (page, ticket []BurnWindow) {
	if sloWindow < shortWindow {
		return ShortPageWindows, ShortTicketWindows
	}
	return PageWindows, TicketWindows
}

// AlertNames are an SLO's page and ticket alert names: alerting.name for
// both (severity tells them apart, as in Sloth), else this project's.
func AlertNames(s slo.SLO) (page, ticket string) {
	if s.Alerting.Name != "" {
		return s.Alerting.Name, s.Alerting.Name
	}
	return PageAlert, TicketAlert
}

// ratioWindows are the windows error ratios are recorded for (the SLO's
// own window is added).
var ratioWindows = []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}

// Generate returns the rules of every SLO, one group each.
func Generate(f *slo.File) RuleFile {
	var out RuleFile
	for _, s := range f.SLOs {
		out.Groups = append(out.Groups, group(s))
	}
	return out
}

// WindowString writes a window as Prometheus does (30d, 4w, 1h): the
// suffix of the SLO window's error-ratio rule.
func WindowString(d time.Duration) string { return model.Duration(d).String() }

// LeMatcher matches the bucket bound of a latency threshold however the
// Prometheus that stores it writes the number: Prometheus 2 keeps the
// exposition's "1" or "0.5", Prometheus 3 normalizes to "1.0" and "0.5".
func LeMatcher(seconds float64) string {
	s := strconv.FormatFloat(seconds, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		return fmt.Sprintf(`le=~"%s|%s\\.0"`, s, s)
	}
	return fmt.Sprintf(`le="%s"`, s)
}

// Source is where an SLO's events are counted: one of the SLO file's
// sources (access_logs, istio, linkerd), as metric names and matchers.
type Source struct {
	// Requests counts requests; Match (label, value pairs) picks the SLO's
	// service, and only the destination side, so nothing is counted twice.
	Requests string
	Match    [][2]string
	// Bad are matchers that each select bad requests; their union is bad.
	Bad []string
	// Duration is the latency histogram (without _bucket/_count), in
	// PerSecond units per second (1 for seconds, 1000 for milliseconds).
	Duration  string
	PerSecond float64
}

// SourceOf returns an SLO's event source.
//
//   - access_logs: genops_requests_total{availability="bad"} and
//     genops_request_duration_seconds, by namespace and service.
//   - istio: istio_requests_total with reporter="destination", bad when
//     response_code is 5xx or response_flags holds a failure flag;
//     istio_request_duration_milliseconds; by destination_service_namespace
//     and destination_service_name.
//   - linkerd: the inbound response_total, bad when classification is
//     failure; response_latency_ms; by namespace and app (the scraped pod's
//     app label, as config/daemonset.yaml relabels it).
func SourceOf(s slo.SLO) Source {
	switch s.Source {
	case slo.SourceIstio:
		flags := strings.Join(semconv.FailureFlags, "|")
		return Source{
			Requests: semconv.PromIstioRequestsTotal,
			Match:    [][2]string{{"reporter", "destination"}, {"destination_service_namespace", s.Namespace}, {"destination_service_name", s.Service}},
			Bad:      []string{`response_code=~"5.."`, fmt.Sprintf(`response_flags=~"(.*,)?(%s)(,.*)?"`, flags)},
			Duration: semconv.PromIstioRequestDurationMs, PerSecond: 1000,
		}
	case slo.SourceLinkerd:
		return Source{
			Requests: semconv.PromLinkerdResponseTotal,
			Match:    [][2]string{{"direction", "inbound"}, {"namespace", s.Namespace}, {"app", s.Service}},
			Bad:      []string{`classification="failure"`},
			Duration: semconv.PromLinkerdLatencyMs, PerSecond: 1000,
		}
	}
	match := [][2]string{{"namespace", s.Namespace}, {"service", s.Service}, {"reporter", semconv.ReporterDestination}}
	for _, k := range slices.Sorted(maps.Keys(s.Matchers)) {
		match = append(match, [2]string{k, s.Matchers[k]})
	}
	return Source{
		Requests: semconv.PromRequestsTotal,
		Match:    match,
		Bad:      []string{fmt.Sprintf(`availability="%s"`, semconv.AvailabilityBad)},
		Duration: semconv.PromRequestDurationSeconds, PerSecond: 1,
	}
}

// Selector is Match as PromQL label matchers.
func (src Source) Selector() string {
	parts := make([]string, len(src.Match))
	for i, m := range src.Match {
		parts[i] = fmt.Sprintf("%s=%q", m[0], m[1])
	}
	return strings.Join(parts, ",")
}

func byClause(s slo.SLO) string {
	if len(s.By) == 0 {
		return ""
	}
	by := slices.Clone(s.By)
	sort.Strings(by)
	return " by (" + strings.Join(by, ", ") + ")"
}

// errorRatioExpr is the ratio of bad to all events over a window, from
// event counts. With traffic but no bad event it is 0; with no traffic it
// has no value at all (never NaN).
func errorRatioExpr(s slo.SLO, w string) string {
	src, by := SourceOf(s), byClause(s)
	sel := src.Selector()
	if l := s.Indicator.Latency; l != nil {
		count := fmt.Sprintf(`sum%s(rate(%s_count{%s}[%s]))`, by, src.Duration, sel, w)
		good := fmt.Sprintf(`sum%s(rate(%s_bucket{%s,%s}[%s]))`, by, src.Duration, sel, LeMatcher(l.Threshold.Seconds()*src.PerSecond), w)
		return fmt.Sprintf("(%s - %s) / (%s > 0)", count, good, count)
	}
	total := fmt.Sprintf(`sum%s(rate(%s{%s}[%s]))`, by, src.Requests, sel, w)
	var bads []string
	for _, b := range src.Bad {
		bads = append(bads, fmt.Sprintf(`rate(%s{%s,%s}[%s])`, src.Requests, sel, b, w))
	}
	// The union of the bad selections: a series matching several is one
	// series, counted once.
	bad := fmt.Sprintf(`sum%s(%s)`, by, strings.Join(bads, " or "))
	return fmt.Sprintf("(%s or 0 * %s) / (%s > 0)", bad, total, total)
}

// sloLabels identify an SLO's series (slo, service and namespace: its
// ID) and carry its own labels.
func sloLabels(s slo.SLO) map[string]string {
	l := map[string]string{}
	maps.Copy(l, s.Labels)
	maps.Copy(l, idLabels(s))
	if s.Team != "" {
		l["team"] = s.Team
	}
	return l
}

// idLabels are an SLO's ID as labels: slo, service and namespace.
func idLabels(s slo.SLO) map[string]string {
	return map[string]string{"slo": s.Name, "service": s.Service, "namespace": s.Namespace}
}

// IDSelector selects an SLO's recorded series (and its alerts) by its ID.
func IDSelector(s slo.SLO) string {
	return fmt.Sprintf(`namespace=%q,service=%q,slo=%q`, s.Namespace, s.Service, s.Name)
}

// GroupName is an SLO's rule group: unique per SLO ID, so that one file
// may hold SLOs of the same name for several services.
func GroupName(s slo.SLO) string {
	return "genops-slo:" + s.ID()
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func factorList(ws []BurnWindow, window time.Duration) string {
	var parts []string
	for _, w := range ws {
		parts = append(parts, fmt.Sprintf("%sx over %s and %s", fmtFloat(w.Factor(window)), w.Long, w.Short))
	}
	return strings.Join(parts, "; ")
}

func group(s slo.SLO) Group {
	g := Group{Name: GroupName(s)}
	labels := sloLabels(s)
	sel := IDSelector(s)
	window := WindowString(s.Window)
	windows := ratioWindows
	if !slices.Contains(windows, window) {
		windows = append(slices.Clone(windows), window)
	}
	for _, w := range windows {
		g.Rules = append(g.Rules, Rule{Record: ErrorRatioRecord(w), Expr: errorRatioExpr(s, w), Labels: labels})
	}
	budget := s.ErrorBudget()
	g.Rules = append(g.Rules, Rule{Record: ObjectiveRecord, Expr: fmtFloat(s.Objective / 100), Labels: labels})
	long := ErrorRatioRecord(window)
	if budget > 0 {
		g.Rules = append(g.Rules,
			Rule{Record: BudgetRemainingRecord, Expr: fmt.Sprintf("1 - %s{%s} / %s", long, sel, fmtFloat(budget)), Labels: labels},
			Rule{Record: BurnRateRecord, Expr: fmt.Sprintf("%s{%s} / %s", ErrorRatioRecord("5m"), sel, fmtFloat(budget)), Labels: labels},
		)
	} else {
		// An objective of 100% has no budget to divide by: it is whole
		// while no event is bad, and gone at the first bad one.
		g.Rules = append(g.Rules, Rule{Record: BudgetRemainingRecord, Expr: fmt.Sprintf("%s{%s} == bool 0", long, sel), Labels: labels})
	}
	pageWindows, ticketWindows := Windows(s.Window)
	pageName, ticketName := AlertNames(s)
	for _, tier := range []struct {
		alert, severity string
		cfg             slo.AlertTier
		windows         []BurnWindow
	}{
		{pageName, "page", s.Alerting.Page, pageWindows},
		{ticketName, "ticket", s.Alerting.Ticket, ticketWindows},
	} {
		if tier.cfg.Disabled {
			continue
		}
		var conds []string
		for _, w := range tier.windows {
			threshold := fmtFloat(w.Factor(s.Window) * budget)
			conds = append(conds, fmt.Sprintf("(%s{%s} > %s and %s{%s} > %s)",
				ErrorRatioRecord(w.Long), sel, threshold, ErrorRatioRecord(w.Short), sel, threshold))
		}
		// The SLO's ID as static labels too (the series carry them
		// already): no two groups then hold the same alert, which
		// promtool's lint reports as duplicate rules.
		alertLabels := idLabels(s)
		alertLabels["severity"] = tier.severity
		maps.Copy(alertLabels, tier.cfg.Labels)
		annotations := map[string]string{
			"summary": fmt.Sprintf("%s: the error budget of %s is burning too fast", s.Name, s.Service),
			"description": fmt.Sprintf("SLO %s (%s of %s in %s, objective %s%% over %s) is consuming its error budget faster than the %s burn rates allow (%s).",
				s.Name, s.Kind(), s.Service, s.Namespace, fmtFloat(s.Objective), window, tier.severity, factorList(tier.windows, s.Window)),
		}
		if s.Description != "" {
			annotations["slo_description"] = s.Description
		}
		maps.Copy(annotations, tier.cfg.Annotations)
		forDuration := ""
		if d := tier.cfg.For; d != nil && *d > 0 {
			forDuration = model.Duration(*d).String()
		}
		g.Rules = append(g.Rules, Rule{Alert: tier.alert, Expr: strings.Join(conds, "\nor\n"), For: forDuration, Labels: alertLabels, Annotations: annotations})
	}
	g.Rules = append(g.Rules, policyAlerts(s)...)
	src := SourceOf(s)
	metric := src.Requests
	if s.Indicator.Latency != nil {
		metric = src.Duration + "_count"
	}
	absentLabels := sloLabels(s)
	absentLabels["severity"] = "ticket"
	g.Rules = append(g.Rules, Rule{
		Alert:  AbsentAlert,
		Expr:   fmt.Sprintf("absent(%s{%s})", metric, src.Selector()),
		For:    "10m",
		Labels: absentLabels,
		Annotations: map[string]string{
			"summary":     fmt.Sprintf("%s: no %s for %s in %s", s.Name, metric, s.Service, s.Namespace),
			"description": "The SLI of this SLO has no source: the service stopped receiving traffic, or its access logs, spans or proxy metrics no longer reach the collector.",
		},
	})
	return g
}

// policyAlerts are the SLO's opt-in alerts over the policy events of its
// service (alerting.policy): a customer rate limited on more than a share
// of its requests for 15 minutes; a caller team denied by a policy that
// denied it nothing in the day before.
func policyAlerts(s slo.SLO) []Rule {
	p := s.Alerting.Policy
	svc := fmt.Sprintf(`namespace=%q,service=%q`, s.Namespace, s.Service)
	labels := func() map[string]string {
		l := idLabels(s)
		l["severity"] = "ticket"
		if s.Team != "" {
			l["team"] = s.Team // Alertmanager routes by it, as the burn alerts'
		}
		return l
	}
	var out []Rule
	if p.RateLimitedShare > 0 {
		// Per reporter, then the larger: with reporter both, each request
		// is counted by both sidecars and its rate limit by the one
		// that applied it.
		by := "namespace, service, genops_customer_id, genops_team"
		out = append(out, Rule{
			Alert: RateLimitedAlert,
			Expr: fmt.Sprintf(`max by (%s) (
  sum by (%s, reporter) (rate(%s{%s,policy=%q}[15m]))
/
  sum by (%s, reporter) (rate(%s{%s}[15m]))
) > %s`, by, by, semconv.PromPolicyEventsTotal, svc, semconv.PolicyRateLimited, by, semconv.PromRequestsTotal, svc, fmtFloat(p.RateLimitedShare)),
			For:    "15m",
			Labels: labels(),
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("customer {{ $labels.genops_customer_id }} is rate limited on {{ $value | humanizePercentage }} of its requests to %s", s.Service),
				"description": fmt.Sprintf("For 15 minutes the mesh's rate limits refused more than %s%% of the requests of customer {{ $labels.genops_customer_id }} (team {{ $labels.genops_team }}) to %s in %s.", fmtFloat(p.RateLimitedShare*100), s.Service, s.Namespace),
			},
		})
	}
	if p.NewDenialSource {
		// A series that exists now and did not in the day before: a
		// counter's first sample is its first count (5 denials in one
		// burst are a series at 5, which increase() cannot see), and a
		// series expired after a quiet while and back is not new.
		by := "namespace, service, genops_team, policy_name"
		denied := fmt.Sprintf(`%s{%s,policy=%q}`, semconv.PromPolicyEventsTotal, svc, semconv.PolicyDenied)
		out = append(out, Rule{
			Alert: NewDenialAlert,
			Expr: fmt.Sprintf(`sum by (%s) (%s)
unless
sum by (%s) (max_over_time(%s[1d] offset 15m))`, by, denied, by, denied),
			Labels: labels(),
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("team {{ $labels.genops_team }} is newly denied by policy {{ $labels.policy_name }} on %s", s.Service),
				"description": fmt.Sprintf("An authorization policy of %s in %s denies requests of team {{ $labels.genops_team }} that it did not deny in the day before: a new caller, or a policy change.", s.Service, s.Namespace),
			},
		})
	}
	return out
}
