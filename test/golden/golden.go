// Package golden renders metrics as sorted Prometheus-style text lines and
// compares them with golden files, for the tests that pin the exact series
// the pipeline emits (the SLI connector's, and the whole pipeline's over
// the fixtures and the repository's own generated input).
package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Series renders every data point of md as text, sorted: sums as
// name{labels} value, histograms as cumulative _bucket{le=…}, _count and
// _sum.
func Series(md ...pmetric.Metrics) []string {
	var lines []string
	for _, m := range md {
		for _, rm := range m.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, metric := range sm.Metrics().All() {
					lines = append(lines, Metric(metric)...)
				}
			}
		}
	}
	sort.Strings(lines)
	return lines
}

// Metric renders one metric's data points, unsorted.
func Metric(m pmetric.Metric) []string {
	var out []string
	switch m.Type() {
	case pmetric.MetricTypeSum:
		for _, dp := range m.Sum().DataPoints().All() {
			v := dp.DoubleValue()
			if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
				v = float64(dp.IntValue())
			}
			out = append(out, fmt.Sprintf("%s%s %g", m.Name(), Labels(dp.Attributes()), v))
		}
	case pmetric.MetricTypeHistogram:
		for _, dp := range m.Histogram().DataPoints().All() {
			var cum uint64
			for i, n := range dp.BucketCounts().AsRaw() {
				cum += n
				le := "+Inf"
				if i < dp.ExplicitBounds().Len() {
					le = strconv.FormatFloat(dp.ExplicitBounds().At(i), 'g', -1, 64)
				}
				out = append(out, fmt.Sprintf("%s_bucket%s %d", m.Name(), Labels(dp.Attributes(), fmt.Sprintf("le=%q", le)), cum))
			}
			out = append(out, fmt.Sprintf("%s_count%s %d", m.Name(), Labels(dp.Attributes()), dp.Count()))
			out = append(out, fmt.Sprintf("%s_sum%s %g", m.Name(), Labels(dp.Attributes()), dp.Sum()))
		}
	}
	return out
}

// Labels renders attributes (and extra k="v" pairs) as {k="v",…}, sorted.
func Labels(attrs pcommon.Map, extra ...string) string {
	var kv []string
	for k, v := range attrs.All() {
		kv = append(kv, fmt.Sprintf("%s=%q", k, v.Str()))
	}
	kv = append(kv, extra...)
	sort.Strings(kv)
	return "{" + strings.Join(kv, ",") + "}"
}

// Compare compares lines with the golden file at path, or rewrites it
// when update is set (the caller's -update flag).
func Compare(t testing.TB, path string, lines []string, update bool) {
	t.Helper()
	text := strings.Join(lines, "\n") + "\n"
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if string(want) != text {
		t.Errorf("%s differs (go test -update, then read the diff); got:\n%s", path, text)
	}
}
