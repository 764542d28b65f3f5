package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

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
// for latency — selecting one service by namespace="..." and
// service="..." matchers. Not supported, with an error that says so: raw
// error-ratio queries, Sloth plugins, OpenSLO threshold metrics, queries
// over other metrics, and calendar-aligned windows.
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

func importSloth(doc map[string]any) ([]sloSpec, []error) {
	service := str(doc, "service")
	team := str(doc, "labels", "owner")
	if t := str(doc, "labels", "team"); t != "" {
		team = t
	}
	list, _ := doc["slos"].([]any)
	var out []sloSpec
	var errs []error
	for _, item := range list {
		m, _ := item.(map[string]any)
		name := str(m, "name")
		fail := func(msg string, args ...any) {
			errs = append(errs, fmt.Errorf("sloth service %q, slo %q: %s", service, name, fmt.Sprintf(msg, args...)))
		}
		events := sub(m, "sli", "events")
		if events == nil {
			fail("only sli.events (error_query and total_query) is supported, not raw error-ratio queries or plugins")
			continue
		}
		ind, ns, svc, err := ratioIndicator(str(events, "error_query"), "", str(events, "total_query"))
		if err != nil {
			fail("%v", err)
			continue
		}
		obj, err := strconv.ParseFloat(str(m, "objective"), 64)
		if err != nil {
			fail("objective %q: %v", str(m, "objective"), err)
			continue
		}
		s := sloSpec{Name: name, Service: svc, Namespace: ns, Team: team, Objective: &obj, Indicator: ind}
		alerting := sub(m, "alerting")
		for tier, key := range map[*tierSpec]string{&s.Alerting.Page: "page_alert", &s.Alerting.Ticket: "ticket_alert"} {
			t := sub(alerting, key)
			tier.Disabled = t["disable"] == true
			tier.Labels = stringMap(sub(t, "labels"))
			tier.Annotations = stringMap(sub(alerting, "annotations"))
		}
		out = append(out, s)
	}
	return out, errs
}

func importOpenSLO(doc map[string]any) (sloSpec, error) {
	name := str(doc, "metadata", "name")
	fail := func(msg string, args ...any) (sloSpec, error) {
		return sloSpec{}, fmt.Errorf("openslo slo %q: %s", name, fmt.Sprintf(msg, args...))
	}
	spec := sub(doc, "spec")
	ratio := sub(spec, "indicator", "spec", "ratioMetric")
	if ratio == nil {
		return fail("only an inline indicator with a ratioMetric is supported (not thresholdMetric or indicatorRef)")
	}
	query := func(k string) string { return str(ratio, k, "metricSource", "spec", "query") }
	ind, ns, svc, err := ratioIndicator(query("bad"), query("good"), query("total"))
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
	s := sloSpec{Name: name, Service: svc, Namespace: ns, Objective: &obj, Indicator: ind}
	if windows, _ := spec["timeWindow"].([]any); len(windows) == 1 {
		w, _ := windows[0].(map[string]any)
		if w["isRolling"] == false {
			return fail("calendar-aligned time windows are not supported, only rolling ones")
		}
		s.Window = str(w, "duration")
	}
	if svc2 := str(spec, "service"); svc2 != "" && svc2 != svc {
		return fail("spec.service %q differs from the query's service=%q", svc2, svc)
	}
	return s, nil
}

// ratioIndicator reads an SLI given as bad (or good) and total event
// queries over the metric contract. {{.window}} (Sloth) is allowed.
func ratioIndicator(badQ, goodQ, totalQ string) (indicatorSpec, string, string, error) {
	var ind indicatorSpec
	total, err := selectorsOf(totalQ)
	if err != nil {
		return ind, "", "", fmt.Errorf("total query: %w", err)
	}
	if len(total) != 1 {
		return ind, "", "", fmt.Errorf("total query must select one series set, found %d", len(total))
	}
	ns, svc := matcher(total[0], "namespace"), matcher(total[0], "service")
	if ns == "" || svc == "" {
		return ind, "", "", errors.New(`total query must select namespace="..." and service="..." (the metric contract's labels)`)
	}
	other, err := selectorsOf(badQ + goodQ)
	if err != nil {
		return ind, "", "", fmt.Errorf("bad/good query: %w", err)
	}
	switch total[0].Name {
	case semconv.PromRequestsTotal:
		if badQ == "" || len(other) != 1 || other[0].Name != semconv.PromRequestsTotal || matcher(other[0], "availability") != semconv.AvailabilityBad {
			return ind, "", "", errors.New(`availability: the bad (error) query must be genops_requests_total{...,availability="bad"}`)
		}
		ind.Availability = &struct{}{}
	case semconv.PromRequestDurationSeconds + "_count":
		var le string
		for _, s := range other {
			if s.Name == semconv.PromRequestDurationSeconds+"_bucket" {
				le = matcher(s, "le")
				if i := strings.IndexByte(le, '|'); i > 0 { // le=~"2|2\.0"
					le = le[:i]
				}
			}
		}
		if _, err := strconv.ParseFloat(le, 64); err != nil {
			return ind, "", "", errors.New(`latency: a genops_request_duration_seconds_bucket{le="<threshold>"} selector is required in the good or bad query`)
		}
		ind.Latency = &struct {
			Threshold string `yaml:"threshold"`
		}{Threshold: le + "s"}
	default:
		return ind, "", "", fmt.Errorf("total query reads %s: only %s and %s_count (the metric contract) are supported", total[0].Name, semconv.PromRequestsTotal, semconv.PromRequestDurationSeconds)
	}
	return ind, ns, svc, nil
}

type selector struct {
	Name     string
	Matchers []*labels.Matcher
}

func selectorsOf(q string) ([]selector, error) {
	if strings.TrimSpace(q) == "" {
		return nil, nil
	}
	q = strings.NewReplacer("{{.window}}", "5m", "{{ .window }}", "5m").Replace(q)
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	if err != nil {
		return nil, err
	}
	var out []selector
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, selector{Name: vs.Name, Matchers: vs.LabelMatchers})
		}
		return nil
	})
	return out, nil
}

func matcher(s selector, name string) string {
	for _, m := range s.Matchers {
		if m.Name == name && (m.Type == labels.MatchEqual || m.Type == labels.MatchRegexp) {
			return m.Value
		}
	}
	return ""
}
