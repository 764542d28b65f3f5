package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// Import reads Sloth (version: prometheus/v1) or OpenSLO (apiVersion:
// openslo/v1, kind: SLO) documents and returns the equivalent SLO file, as
// YAML in this project's format (ready to review and commit) and parsed.
//
// Supported: SLIs that are ratios of event counts over the metric
// contract — genops_requests_total (bad = availability="bad") for
// availability, and genops_request_duration_seconds _count and _bucket{le}
// for latency — each query sum[ by (…)](rate(metric{…}[{{.window}}]))
// selecting one service by namespace="..." and service="...", with
// contract-label matchers and by labels kept in the model. Anything whose
// meaning the model cannot hold is refused with an error that names the
// construct (docs/slo.md lists them): an import never widens an SLO.
// Written by hand over Prometheus's own PromQL parser: no library maps
// Sloth or OpenSLO specs onto another SLO model.
func Import(r io.Reader) ([]byte, *File, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	var specs []sloSpec
	var errs []error
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for i := 1; ; i++ {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, nil, fmt.Errorf("document %d: %w", i, err)
		}
		switch {
		case doc == nil:
			continue
		case doc["version"] == "prometheus/v1":
			s, e := importSloth(doc)
			specs, errs = append(specs, s...), append(errs, e...)
		case doc["apiVersion"] == "openslo/v1" && doc["kind"] == "SLO":
			s, err := importOpenSLO(doc)
			if err != nil {
				errs = append(errs, err)
			} else {
				specs = append(specs, s)
			}
		case doc["apiVersion"] == "openslo/v1":
			continue // SLIs, services, alert policies: only SLO documents are read
		default:
			errs = append(errs, fmt.Errorf("document %d: neither Sloth (version: prometheus/v1) nor OpenSLO (apiVersion: openslo/v1)", i))
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	out, err := yaml.Marshal(fileSpec{SLOs: specs})
	if err != nil {
		return nil, nil, err
	}
	out = append([]byte("# Imported by genopsctl import; review before committing.\n"), out...)
	f, err := Parse(bytes.NewReader(out))
	if err != nil {
		return nil, nil, fmt.Errorf("imported SLOs are not valid: %w", err)
	}
	return out, f, nil
}

func str(m map[string]any, keys ...string) string {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[k]
	}
	switch v := cur.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return ""
}

func sub(m map[string]any, keys ...string) map[string]any {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	out, _ := cur.(map[string]any)
	return out
}

func stringMap(v map[string]any) map[string]string {
	if len(v) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, x := range v {
		out[k] = fmt.Sprint(x)
	}
	return out
}

// slothSLOKeys and slothSpecKeys are the Sloth prometheus/v1 fields this
// import reads; any other field is refused, naming it, rather than
// dropped.
var (
	slothSpecKeys = []string{"version", "service", "labels", "slos"}
	slothSLOKeys  = []string{"name", "objective", "description", "labels", "sli", "alerting"}
)

func importSloth(doc map[string]any) ([]sloSpec, []error) {
	service := str(doc, "service")
	var errs []error
	for k := range doc {
		if !slices.Contains(slothSpecKeys, k) {
			what := "field " + k
			if k == "slo_plugins" {
				what = "slo_plugins (SLO plugins change the rules in ways this model does not hold)"
			}
			errs = append(errs, fmt.Errorf("sloth service %q: %s is not supported", service, what))
		}
	}
	serviceLabels := stringMap(sub(doc, "labels"))
	list, _ := doc["slos"].([]any)
	var out []sloSpec
	for _, item := range list {
		m, _ := item.(map[string]any)
		name := str(m, "name")
		fail := func(msg string, args ...any) {
			errs = append(errs, fmt.Errorf("sloth service %q, slo %q: %s", service, name, fmt.Sprintf(msg, args...)))
		}
		bad := false
		for k := range m {
			if !slices.Contains(slothSLOKeys, k) {
				fail("field %s is not supported (plugins change the rules in ways this model does not hold)", k)
				bad = true
			}
		}
		if bad {
			continue
		}
		events := sub(m, "sli", "events")
		if events == nil {
			fail("only sli.events (error_query and total_query) is supported, not raw error-ratio queries or plugins")
			continue
		}
		s, err := ratioIndicator(str(events, "error_query"), "", str(events, "total_query"), true)
		if err != nil {
			fail("%v", err)
			continue
		}
		if service != "" && s.Service != service {
			fail("the queries select service=%q, the spec's service is %q", s.Service, service)
			continue
		}
		obj, err := strconv.ParseFloat(str(m, "objective"), 64)
		if err != nil {
			fail("objective %q: %v", str(m, "objective"), err)
			continue
		}
		s.Name, s.Objective, s.Description = name, &obj, str(m, "description")
		// Labels: the spec's and the SLO's (the SLO's win), as Sloth adds
		// them to every rule; owner or team also names the owning team.
		labels := map[string]string{}
		maps.Copy(labels, serviceLabels)
		maps.Copy(labels, stringMap(sub(m, "labels")))
		s.Team = labels["owner"]
		if t := labels["team"]; t != "" {
			s.Team = t
		}
		delete(labels, "team")
		if len(labels) > 0 {
			s.Labels = labels
		}
		alerting := sub(m, "alerting")
		s.Alerting.Name = str(alerting, "name")
		for tier, key := range map[*tierSpec]string{&s.Alerting.Page: "page_alert", &s.Alerting.Ticket: "ticket_alert"} {
			t := sub(alerting, key)
			tier.Disabled = t["disable"] == true
			tier.Labels = merged(sub(alerting, "labels"), sub(t, "labels"))
			tier.Annotations = merged(sub(alerting, "annotations"), sub(t, "annotations"))
		}
		out = append(out, s)
	}
	return out, errs
}

// merged is Sloth's alert labels or annotations: the alerting-wide ones,
// then the tier's.
func merged(all, tier map[string]any) map[string]string {
	out := map[string]string{}
	maps.Copy(out, stringMap(all))
	maps.Copy(out, stringMap(tier))
	if len(out) == 0 {
		return nil
	}
	return out
}

func importOpenSLO(doc map[string]any) (sloSpec, error) {
	name := str(doc, "metadata", "name")
	fail := func(msg string, args ...any) (sloSpec, error) {
		return sloSpec{}, fmt.Errorf("openslo slo %q: %s", name, fmt.Sprintf(msg, args...))
	}
	spec := sub(doc, "spec")
	if spec["alertPolicies"] != nil {
		return fail("spec.alertPolicies are not supported (the rules page and ticket on the workbook's burn rates; see docs/slo.md)")
	}
	ratio := sub(spec, "indicator", "spec", "ratioMetric")
	if ratio == nil {
		return fail("only an inline indicator with a ratioMetric is supported (not thresholdMetric or indicatorRef)")
	}
	query := func(k string) string { return str(ratio, k, "metricSource", "spec", "query") }
	s, err := ratioIndicator(query("bad"), query("good"), query("total"), false)
	if err != nil {
		return fail("%v", err)
	}
	objectives, _ := spec["objectives"].([]any)
	if len(objectives) != 1 {
		return fail("exactly one objective is supported, got %d", len(objectives))
	}
	o, _ := objectives[0].(map[string]any)
	var obj float64
	if t := str(o, "target"); t != "" {
		v, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return fail("objectives[0].target: %v", err)
		}
		obj = v * 100
	} else if p := str(o, "targetPercent"); p != "" {
		if obj, err = strconv.ParseFloat(p, 64); err != nil {
			return fail("objectives[0].targetPercent: %v", err)
		}
	}
	s.Name, s.Objective = name, &obj
	s.Description = str(spec, "description")
	if windows, _ := spec["timeWindow"].([]any); len(windows) == 1 {
		w, _ := windows[0].(map[string]any)
		if w["isRolling"] == false {
			return fail("calendar-aligned time windows are not supported, only rolling ones")
		}
		s.Window = str(w, "duration")
	}
	if svc2 := str(spec, "service"); svc2 != "" && svc2 != s.Service {
		return fail("spec.service %q differs from the query's service=%q", svc2, s.Service)
	}
	return s, nil
}

// windowRange stands for Sloth's {{.window}} while a query is parsed: a
// range no one writes, so that a fixed range can be told apart.
const (
	windowRange       = "4321s"
	windowRangeString = "1h12m1s" // windowRange as Prometheus writes it
)

// counterQuery is one event count as a query states it:
// sum [by (…)] (rate|increase(metric{matchers}[range])).
type counterQuery struct {
	metric   string
	matchers []*labels.Matcher
	by       []string
}

// queryShape names the shape an event query must have.
const queryShape = "sum[ by (labels)](rate(metric{matchers}[{{.window}}]))"

// parseCounter reads an event query of the supported shape, or says
// which construct it does not take. sloth: ranges must be {{.window}}
// (a fixed range would change every window's meaning); OpenSLO queries
// may have any range (the rules choose the windows).
func parseCounter(q string, sloth bool) (counterQuery, error) {
	expr, err := parseQuery(q)
	if err != nil {
		return counterQuery{}, err
	}
	return counterOf(expr, sloth)
}

// parseQuery parses a query, {{.window}} read as windowRange.
func parseQuery(q string) (parser.Expr, error) {
	q = strings.NewReplacer("{{.window}}", windowRange, "{{ .window }}", windowRange).Replace(q)
	return parser.NewParser(parser.Options{}).ParseExpr(q)
}

func counterOf(expr parser.Expr, sloth bool) (counterQuery, error) {
	var out counterQuery
	expr = unparen(expr)
	if e, ok := expr.(*parser.AggregateExpr); ok {
		if e.Op != parser.SUM {
			return out, fmt.Errorf("%s: only sum() adds events up (%s)", e.Op, queryShape)
		}
		if e.Without {
			return out, errors.New("sum without (…): name the labels kept with by (…)")
		}
		out.by = slices.Clone(e.Grouping)
		expr = unparen(e.Expr)
	}
	var call *parser.Call
	switch e := expr.(type) {
	case *parser.Call:
		call = e
	case *parser.BinaryExpr:
		return out, fmt.Errorf("%q: arithmetic on an event count (%s) changes what is counted; only %s", show(e), e.Op, queryShape)
	case *parser.NumberLiteral:
		return out, fmt.Errorf("%q: a number is not an event count", e.String())
	default:
		return out, fmt.Errorf("%q is not %s", show(expr), queryShape)
	}
	if call.Func.Name != "rate" && call.Func.Name != "increase" {
		return out, fmt.Errorf("%s(): only rate() or increase() of a counter counts events (%s)", call.Func.Name, queryShape)
	}
	ms, ok := call.Args[0].(*parser.MatrixSelector)
	if !ok {
		return out, fmt.Errorf("%s() of %q: only of a counter selector", call.Func.Name, show(call.Args[0]))
	}
	vs := ms.VectorSelector.(*parser.VectorSelector)
	if vs.OriginalOffset != 0 || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		return out, fmt.Errorf("%q: offset and @ move the SLI in time; remove them", show(vs))
	}
	if r := model.Duration(ms.Range).String(); sloth && r != windowRangeString {
		return out, fmt.Errorf("range [%s]: use [{{.window}}] (a fixed range makes every window's SLI a %s one)", r, r)
	}
	out.metric = vs.Name
	for _, m := range vs.LabelMatchers {
		if m.Name != model.MetricNameLabel {
			out.matchers = append(out.matchers, m)
		}
	}
	return out, nil
}

// show writes a query part as the spec wrote it: {{.window}} for the
// stand-in range.
func show(n parser.Node) string {
	return strings.ReplaceAll(n.String(), "["+windowRangeString+"]", "[{{.window}}]")
}

func unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// latencyError reads a latency error query: count minus the bucket at
// the threshold (the slow requests).
func latencyError(q string, sloth bool) (count, bucket counterQuery, err error) {
	expr, perr := parseQuery(q)
	if perr != nil {
		return count, bucket, perr
	}
	b, ok := unparen(expr).(*parser.BinaryExpr)
	if !ok || b.Op != parser.SUB || b.VectorMatching != nil && (len(b.VectorMatching.MatchingLabels) > 0 || b.VectorMatching.On) {
		c, cerr := counterOf(expr, sloth)
		if cerr == nil && c.metric == semconv.PromRequestDurationSeconds+"_bucket" {
			return count, bucket, errors.New("the error query counts the requests at most le (the fast ones): a latency error query is _count minus _bucket{le=…}, or give the good query")
		}
		return count, bucket, fmt.Errorf("a latency error query is sum(rate(%s_count{…}[{{.window}}])) - sum(rate(%s_bucket{…,le=\"<seconds>\"}[{{.window}}]))", semconv.PromRequestDurationSeconds, semconv.PromRequestDurationSeconds)
	}
	if count, err = counterOf(b.LHS, sloth); err == nil {
		bucket, err = counterOf(b.RHS, sloth)
	}
	return count, bucket, err
}

// ratioIndicator reads an SLI given as bad (or good) and total event
// queries over the metric contract, and returns the SLO it means; a query
// whose meaning the SLO model cannot hold is refused, naming the
// construct, never widened.
func ratioIndicator(badQ, goodQ, totalQ string, sloth bool) (sloSpec, error) {
	var out sloSpec
	total, err := parseCounter(totalQ, sloth)
	if err != nil {
		return out, fmt.Errorf("total query: %w", err)
	}
	base, err := contractMatchers(total.matchers, "total query")
	if err != nil {
		return out, err
	}
	out.Namespace, out.Service, out.Matchers = base.namespace, base.service, base.matchers
	if err := checkBy(total.by); err != nil {
		return out, fmt.Errorf("total query: %w", err)
	}
	out.By = total.by
	// same: the other query selects the total's series, plus extra.
	same := func(what string, q counterQuery, extra ...string) error {
		if !slices.Equal(sorted(q.by), sorted(total.by)) {
			return fmt.Errorf("%s: by (%s) differs from the total's by (%s)", what, strings.Join(q.by, ", "), strings.Join(total.by, ", "))
		}
		got, err := contractMatchers(q.matchers, what, extra...)
		if err != nil {
			return err
		}
		if got.namespace != base.namespace || got.service != base.service || !maps.Equal(got.matchers, base.matchers) {
			return fmt.Errorf("%s selects other series than the total query (namespace, service and every matcher must be the same)", what)
		}
		return nil
	}
	switch total.metric {
	case semconv.PromRequestsTotal:
		if base.availability != "" {
			return out, fmt.Errorf("total query: availability=%q makes the total a part of the requests; the total counts all of them", base.availability)
		}
		q, what, want := badQ, "error query", semconv.AvailabilityBad
		if badQ == "" {
			q, what, want = goodQ, "good query", semconv.AvailabilityGood
		}
		c, err := parseCounter(q, sloth)
		if err != nil {
			return out, fmt.Errorf("%s: %w", what, err)
		}
		if c.metric != semconv.PromRequestsTotal {
			return out, fmt.Errorf("%s reads %s; the total reads %s", what, c.metric, total.metric)
		}
		if err := same(what, c, "availability"); err != nil {
			return out, err
		}
		if v := matcherValue(c.matchers, "availability"); v != want {
			return out, fmt.Errorf(`%s must select availability=%q (got %q)`, what, want, v)
		}
		out.Indicator.Availability = &struct{}{}
	case semconv.PromRequestDurationSeconds + "_count":
		var bucket counterQuery
		if badQ != "" {
			count, b, err := latencyError(badQ, sloth)
			if err != nil {
				return out, fmt.Errorf("error query: %w", err)
			}
			if count.metric != total.metric || b.metric != semconv.PromRequestDurationSeconds+"_bucket" {
				return out, fmt.Errorf("error query: %s - %s: a latency error query is %s_count minus %s_bucket", count.metric, b.metric, semconv.PromRequestDurationSeconds, semconv.PromRequestDurationSeconds)
			}
			if err := same("error query", count); err != nil {
				return out, err
			}
			bucket = b
		} else {
			b, err := parseCounter(goodQ, sloth)
			if err != nil {
				return out, fmt.Errorf("good query: %w", err)
			}
			if b.metric != semconv.PromRequestDurationSeconds+"_bucket" {
				return out, fmt.Errorf("good query reads %s: the good (fast) requests are %s_bucket{le=…}", b.metric, semconv.PromRequestDurationSeconds)
			}
			bucket = b
		}
		if err := same("the bucket query", bucket, "le"); err != nil {
			return out, err
		}
		le := ""
		for _, m := range bucket.matchers {
			if m.Name == "le" {
				le = m.Value
				if m.Type == labels.MatchRegexp {
					// le=~"2|2\.0": one bound written both ways.
					a, b, _ := strings.Cut(le, "|")
					if strings.ReplaceAll(b, `\.`, ".") != a+".0" {
						return out, fmt.Errorf(`le=~%q: one bound, written le="<seconds>"`, le)
					}
					le = a
				} else if m.Type != labels.MatchEqual {
					return out, fmt.Errorf("le%s%q: one bound, written le=\"<seconds>\"", m.Type, le)
				}
			}
		}
		secs, err := strconv.ParseFloat(le, 64)
		if err != nil || secs <= 0 || math.IsInf(secs, 0) {
			return out, errors.New(`latency: a genops_request_duration_seconds_bucket{le="<seconds>"} selector is required in the error or good query`)
		}
		threshold, err := ParseThreshold(le + "s")
		if err != nil {
			return out, fmt.Errorf(`le=%q: %w`, le, err)
		}
		out.Indicator.Latency = &struct {
			Threshold string `yaml:"threshold"`
		}{Threshold: FormatThreshold(threshold)}
	default:
		return out, fmt.Errorf("total query reads %s: only %s and %s_count (the metric contract) are supported", total.metric, semconv.PromRequestsTotal, semconv.PromRequestDurationSeconds)
	}
	return out, nil
}

// contract is what a query's label matchers say in the SLO model.
type contract struct {
	namespace, service, availability string
	matchers                         map[string]string
}

// contractMatchers maps a query's matchers onto the SLO model: namespace
// and service (required, equality), reporter (destination, or none: the
// rules count the serving side once), splittable contract labels
// (equality) as matchers; allowed names the query-specific ones (le,
// availability), kept out of matchers. Anything else is refused.
func contractMatchers(ms []*labels.Matcher, what string, allowed ...string) (contract, error) {
	var c contract
	for _, m := range ms {
		if m.Type != labels.MatchEqual && !(m.Name == "le" && slices.Contains(allowed, "le")) {
			if m.Name == "service" || m.Name == "namespace" {
				return c, fmt.Errorf("%s: %s%s%q selects several; write one SLO per %s", what, m.Name, m.Type, m.Value, m.Name)
			}
			return c, fmt.Errorf("%s: %s%s%q: only equality matchers (%s=\"…\") can be kept", what, m.Name, m.Type, m.Value, m.Name)
		}
		switch {
		case m.Name == "namespace":
			c.namespace = m.Value
		case m.Name == "service":
			c.service = m.Value
		case m.Name == "reporter":
			if m.Value != semconv.ReporterDestination {
				return c, fmt.Errorf(`%s: reporter=%q: the SLO's rules count the serving side, reporter="destination"`, what, m.Value)
			}
		case m.Name == "availability" && (slices.Contains(allowed, "availability") || what == "total query"):
			c.availability = m.Value
		case slices.Contains(allowed, m.Name):
		case slices.Contains(splittable, m.Name):
			if c.matchers == nil {
				c.matchers = map[string]string{}
			}
			c.matchers[m.Name] = m.Value
		default:
			return c, fmt.Errorf("%s: %s=%q: not a label the SLO model can select by (namespace, service, reporter, %s)", what, m.Name, m.Value, strings.Join(splittable, ", "))
		}
	}
	if c.namespace == "" || c.service == "" {
		return c, fmt.Errorf(`%s must select namespace="..." and service="..." (the metric contract's labels)`, what)
	}
	return c, nil
}

func checkBy(by []string) error {
	for _, l := range by {
		if !slices.Contains(splittable, l) {
			return fmt.Errorf("by (%s): %q is not a label an SLO can be split by (one of %s)", strings.Join(by, ", "), l, strings.Join(splittable, ", "))
		}
	}
	return nil
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func matcherValue(ms []*labels.Matcher, name string) string {
	for _, m := range ms {
		if m.Name == name {
			return m.Value
		}
	}
	return ""
}
