package collectortest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Sample is one series of a scrape: its labels and value (a counter's or
// gauge's value; a histogram's sample count).
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Scrape reads a Prometheus text exposition from url and returns its metric
// families by name, parsed with Prometheus's own parser.
func Scrape(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", url, err)
	}
	return families, nil
}

// Samples flattens one metric family into samples.
func Samples(mf *dto.MetricFamily) []Sample {
	if mf == nil {
		return nil
	}
	out := make([]Sample, 0, len(mf.GetMetric()))
	for _, m := range mf.GetMetric() {
		s := Sample{Labels: map[string]string{}}
		for _, lp := range m.GetLabel() {
			s.Labels[lp.GetName()] = lp.GetValue()
		}
		switch {
		case m.Counter != nil:
			s.Value = m.GetCounter().GetValue()
		case m.Gauge != nil:
			s.Value = m.GetGauge().GetValue()
		case m.Histogram != nil:
			s.Value = float64(m.GetHistogram().GetSampleCount())
		case m.Untyped != nil:
			s.Value = m.GetUntyped().GetValue()
		}
		out = append(out, s)
	}
	return out
}

// Matching returns the samples whose labels include every pair of want.
func Matching(samples []Sample, want map[string]string) []Sample {
	var out []Sample
	for _, s := range samples {
		ok := true
		for k, v := range want {
			if s.Labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

// Names lists the family names of a scrape, sorted, for error messages.
func Names(families map[string]*dto.MetricFamily) string {
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
