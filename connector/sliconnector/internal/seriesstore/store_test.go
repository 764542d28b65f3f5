package seriesstore

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/genops-mesh/otelcol-genops/test/golden"
)

// A store's clock starts here; tests move it.
var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// newStore is a store of one family (labels namespace, app, route) and
// the overflow family, on a clock the test moves.
func newStore(kind Kind, lim Limits) (*Store, *Family, *clock) {
	f := NewFamily("requests", "d", "1", kind, []string{"namespace", "app", "route"}, lim)
	s := New("scope", []*Family{f}, NewFamily("overflow", "d", "1", IntSum, []string{"metric", "label"}, Limits{MaxSeries: 1 << 20}), true)
	c := &clock{now: t0}
	s.SetClock(c.Now)
	return s, f, c
}

// add counts 1 in the series of values.
func add(s *Store, f *Family, values ...string) *Series {
	var key Values
	var hashes Hashes
	for i, v := range values {
		key[i], hashes[i] = v, Hash(v)
	}
	return s.Add(f, &key, &hashes, 1, s.Now(), nil)
}

func lines(s *Store) string {
	return strings.Join(golden.Series(s.Metrics(s.Now())), "\n")
}

func mustContain(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %s in\n%s", w, got)
		}
	}
}

// Series are found by their hash, then by comparing values along the
// hash's chain: a hash that ignored any label would put every series that
// differs only there on one chain, and each record would walk it (a cost
// one sender choosing customer ids could force on everyone). Keys that
// differ in one position, whichever, get distinct hashes.
func TestCombineUsesEveryLabel(t *testing.T) {
	const n, values = MaxLabels, 2000
	for pos := range n {
		seen := map[uint64]bool{}
		for i := range values {
			var h Hashes
			for j := range n {
				h[j] = Hash("same")
			}
			h[pos] = Hash(strconv.Itoa(i))
			seen[combine(&h, n)] = true
		}
		if len(seen) < values {
			t.Errorf("position %d: %d distinct hashes for %d keys", pos, len(seen), values)
		}
	}
}

// A series updated exactly at the expiry cutoff is kept; one updated
// before it goes, and takes its caps' and namespace's slots with it: a
// value the cap refused before is admitted after.
func TestExpiry(t *testing.T) {
	s, f, c := newStore(IntSum, Limits{MaxSeries: 100, MaxSeriesPerNamespace: 10, Labels: map[string]int{"app": 1}})
	add(s, f, "ns", "a", "r")
	at := s.Now()
	s.Expire(at)
	if f.Len() != 1 {
		t.Fatal("a series updated at the cutoff expired")
	}
	c.now = c.now.Add(time.Second)
	mustContain(t, func() string { add(s, f, "ns", "b", "r"); return lines(s) }(), `requests{app="__overflow__",namespace="ns",route="r"} 1`)
	s.Expire(s.Now()) // both series are older
	if f.Len() != 1 { // the overflow series was updated now
		t.Fatalf("%d series after expiry, want the one updated at the cutoff", f.Len())
	}
	c.now = c.now.Add(time.Second)
	s.Expire(s.Now())
	if f.Len() != 0 || len(f.perNamespace) != 0 || len(f.caps[0].values) != 0 || len(f.caps[0].distinct) != 0 || len(f.series) != 0 {
		t.Fatalf("after expiry: %d series, namespaces %v, cap %v %v", f.Len(), f.perNamespace, f.caps[0].values, f.caps[0].distinct)
	}
	add(s, f, "ns", "b", "r")
	mustContain(t, lines(s), `requests{app="b",namespace="ns",route="r"} 1`)
}

// Flush expires by the store's clock and renders at it; a series that
// returns after expiry starts again from zero, with a later start.
func TestFlushByTheClock(t *testing.T) {
	s, f, c := newStore(IntSum, Limits{MaxSeries: 100})
	add(s, f, "ns", "a", "r")
	first := s.Flush(time.Minute)
	dp := first.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0)
	if dp.StartTimestamp().AsTime() != t0 || dp.Timestamp().AsTime() != t0 || dp.IntValue() != 1 {
		t.Fatalf("point %v..%v = %d", dp.StartTimestamp(), dp.Timestamp(), dp.IntValue())
	}
	if name := first.ResourceMetrics().At(0).ScopeMetrics().At(0).Scope().Name(); name != "scope" {
		t.Errorf("scope %q", name)
	}
	c.now = t0.Add(time.Minute) // exactly the expiry: kept
	if md := s.Flush(time.Minute); md.DataPointCount() != 1 {
		t.Fatalf("%d points at the expiry", md.DataPointCount())
	}
	c.now = t0.Add(time.Minute + time.Nanosecond)
	if md := s.Flush(time.Minute); md.DataPointCount() != 0 {
		t.Fatalf("%d points past the expiry", md.DataPointCount())
	}
	add(s, f, "ns", "a", "r")
	dp = s.Flush(0).ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0)
	if dp.IntValue() != 1 || !dp.StartTimestamp().AsTime().After(t0) {
		t.Errorf("returned series: %d from %v", dp.IntValue(), dp.StartTimestamp())
	}
	c.now = c.now.Add(24 * time.Hour) // expiry 0: never
	if md := s.Flush(0); md.DataPointCount() != 1 {
		t.Errorf("expiry 0 dropped a series")
	}
}

// A label cap counts distinct values per namespace: a namespace past it
// folds its new values into __overflow__ (counted, Folded set), and
// another namespace keeps its own values.
func TestCapsPerNamespace(t *testing.T) {
	s, f, _ := newStore(IntSum, Limits{MaxSeries: 100, Labels: map[string]int{"app": 2}})
	for _, app := range []string{"x", "y", "x"} {
		add(s, f, "a", app, "r")
	}
	if s.Folded {
		t.Fatal("folded within the cap")
	}
	add(s, f, "a", "z", "r")
	if !s.Folded {
		t.Error("Folded not set")
	}
	for _, app := range []string{"z", "w"} {
		add(s, f, "b", app, "r")
	}
	add(s, f, "a", "", "r") // an absent label is never folded
	mustContain(t, lines(s),
		`requests{app="x",namespace="a",route="r"} 2`, `requests{app="y",namespace="a",route="r"} 1`,
		`requests{app="__overflow__",namespace="a",route="r"} 1`, `requests{namespace="a",route="r"} 1`,
		`requests{app="z",namespace="b",route="r"} 1`, `requests{app="w",namespace="b",route="r"} 1`,
		`overflow{label="app",metric="requests"} 1`)
	// A cap on the namespace itself counts across all, and first: the
	// other caps count in the namespace the series ends up in.
	s, f, _ = newStore(IntSum, Limits{MaxSeries: 100, Labels: map[string]int{"namespace": 1, "app": 1}})
	add(s, f, "a", "x", "r")
	add(s, f, "b", "y", "r")
	add(s, f, "c", "z", "r")
	got := lines(s)
	mustContain(t, got, `requests{app="x",namespace="a",route="r"} 1`, `requests{app="y",namespace="__overflow__",route="r"} 1`,
		`requests{app="__overflow__",namespace="__overflow__",route="r"} 1`,
		`overflow{label="namespace",metric="requests"} 2`, `overflow{label="app",metric="requests"} 1`)
}

// Past max_series a new label set folds into the series whose every label
// is __overflow__; past the namespace's bound into the namespace's own.
func TestSeriesBounds(t *testing.T) {
	s, f, _ := newStore(IntSum, Limits{MaxSeries: 3, MaxSeriesPerNamespace: 2})
	for _, k := range [][3]string{{"a", "1", "r"}, {"a", "2", "r"}, {"a", "3", "r"}, {"a", "4", "r"}, {"b", "1", "r"}, {"c", "1", "r"}, {"a", "1", "r"}} {
		add(s, f, k[:]...)
	}
	mustContain(t, lines(s),
		`requests{app="1",namespace="a",route="r"} 2`, `requests{app="2",namespace="a",route="r"} 1`,
		`requests{app="__overflow__",namespace="a",route="__overflow__"} 2`, // the namespace's own overflow
		// b and c: past max_series (a's overflow series counts among them)
		`requests{app="__overflow__",namespace="__overflow__",route="__overflow__"} 2`,
		`overflow{label="__all__",metric="requests"} 4`)
	if f.Len() != 4 {
		t.Errorf("%d series", f.Len())
	}
}

// Label values lose control characters and invalid UTF-8 (a value left
// empty is __overflow__); a value past max_value_length is __overflow__,
// counted with its label. The series keeps copies, not the caller's
// strings.
func TestLabelValues(t *testing.T) {
	s, f, _ := newStore(IntSum, Limits{MaxSeries: 100, MaxValueLength: 12})
	add(s, f, "ns", "a\x00p\x1b[1mp", "\xff\xfe")
	add(s, f, "ns", "abcdefghijkl", "abcdefghijklm")
	mustContain(t, lines(s), `requests{app="ap[1mp",namespace="ns",route="__overflow__"} 1`,
		`requests{app="abcdefghijkl",namespace="ns",route="__overflow__"} 1`, `overflow{label="route",metric="requests"} 1`)
	if !s.Folded {
		t.Error("Folded not set")
	}
	line := "ns mutable r" // a record's memory (an access log line)
	v := line[3:10]
	add(s, f, "ns", v, "r")
	found := false
	f.Each(func(sr *Series) {
		if vals := sr.Values(); vals[1] == v {
			found = true
			if unsafe.StringData(vals[1]) == unsafe.StringData(v) {
				t.Error("the series keeps the caller's string, not a copy")
			}
		}
	})
	if !found {
		t.Error("no series for the value")
	}
}

// Each kind renders as its OpenTelemetry metric: an int or double
// cumulative monotonic sum, an explicit histogram with its bounds (le is
// inclusive), an exponential histogram at its fixed scale sending only the
// buckets in use. An exemplar is sent once, then cleared; an empty label
// is left out.
func TestMetricsByKind(t *testing.T) {
	ints := NewFamily("ints", "int sum", "{r}", IntSum, []string{"namespace", "app"}, Limits{MaxSeries: 10})
	doubles := NewFamily("doubles", "double sum", "{c}", DoubleSum, []string{"namespace"}, Limits{MaxSeries: 10})
	hist := NewFamily("hist", "histogram", "s", Histogram, []string{"namespace"}, Limits{MaxSeries: 10})
	hist.SetBounds(Bounds([]time.Duration{time.Second, 100 * time.Millisecond, time.Second}, []float64{0.25}))
	exp := NewFamily("exp", "exponential", "s", Exponential, []string{"namespace"}, Limits{MaxSeries: 10})
	exp.SetScale(2)
	s := New("scope", []*Family{ints, doubles, hist, exp}, nil, true)
	s.SetClock(func() time.Time { return t0 })
	now := s.Now()
	var trace pcommon.TraceID
	trace[0] = 1
	ex := s.ExemplarFrom(&ExemplarSource{TraceID: trace, SpanID: pcommon.SpanID{2}})
	if ex == nil {
		t.Fatal("no exemplar with exemplars on")
	}
	if s.ExemplarFrom(&ExemplarSource{}) != nil {
		t.Error("an exemplar without a trace")
	}
	key, hashes := Values{"ns", ""}, Hashes{Hash("ns"), Hash("")}
	sr := s.Add(ints, &key, &hashes, 2, now, ex)
	s.AddTo(sr, 3, now, nil)
	key, hashes = Values{"ns"}, Hashes{Hash("ns")}
	s.Add(doubles, &key, &hashes, 0.5, now, nil)
	for _, v := range []float64{0.1, 0.25, 0.3, 5} {
		key, hashes = Values{"ns"}, Hashes{Hash("ns")}
		s.Observe(hist, &key, &hashes, v, now, ex)
	}
	for _, v := range []float64{1, 3} {
		key, hashes = Values{"ns"}, Hashes{Hash("ns")}
		s.Observe(exp, &key, &hashes, v, now, nil)
	}
	key, hashes = Values{"far"}, Hashes{Hash("far")}
	s.Observe(exp, &key, &hashes, 1e9, now, nil) // clamped to an hour
	md := s.Metrics(now)
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	byName := map[string]pmetric.Metric{}
	for _, m := range ms.All() {
		byName[m.Name()] = m
	}
	m := byName["ints"]
	if m.Type() != pmetric.MetricTypeSum || !m.Sum().IsMonotonic() || m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityCumulative ||
		m.Sum().DataPoints().At(0).IntValue() != 5 || m.Description() != "int sum" || m.Unit() != "{r}" {
		t.Errorf("ints: %v %v", m.Type(), m.Sum().DataPoints().At(0).IntValue())
	}
	if attrs := m.Sum().DataPoints().At(0).Attributes(); attrs.Len() != 1 {
		t.Errorf("an empty label was written: %v", attrs.AsRaw())
	}
	if exs := m.Sum().DataPoints().At(0).Exemplars(); exs.Len() != 1 || exs.At(0).TraceID() != trace || exs.At(0).DoubleValue() != 2 {
		t.Errorf("ints exemplar: %d", exs.Len())
	}
	if d := byName["doubles"].Sum().DataPoints().At(0); d.DoubleValue() != 0.5 || d.ValueType() != pmetric.NumberDataPointValueTypeDouble {
		t.Errorf("doubles: %v", d.DoubleValue())
	}
	h := byName["hist"].Histogram().DataPoints().At(0)
	if !slices.Equal(h.ExplicitBounds().AsRaw(), []float64{0.1, 0.25, 1}) || !slices.Equal(h.BucketCounts().AsRaw(), []uint64{1, 1, 1, 1}) ||
		h.Count() != 4 || h.Sum() != 5.65 || h.Exemplars().Len() != 1 || h.Exemplars().At(0).DoubleValue() != 5 {
		t.Errorf("hist: bounds %v counts %v count %d sum %v", h.ExplicitBounds().AsRaw(), h.BucketCounts().AsRaw(), h.Count(), h.Sum())
	}
	// Scale 2: bucket i holds (2^(i/4), 2^((i+1)/4)]; 1 is in bucket -1,
	// 3 in 6, an hour in 47. Only the buckets from the lowest to the
	// highest in use are sent.
	for _, e := range byName["exp"].ExponentialHistogram().DataPoints().All() {
		ns, _ := e.Attributes().Get("namespace")
		want := map[string]struct {
			offset int32
			counts []uint64
		}{"ns": {-1, []uint64{1, 0, 0, 0, 0, 0, 0, 1}}, "far": {47, []uint64{1}}}[ns.Str()]
		if e.Scale() != 2 || e.Positive().Offset() != want.offset || !slices.Equal(e.Positive().BucketCounts().AsRaw(), want.counts) {
			t.Errorf("exp %s: scale %d offset %d buckets %v, want offset %d buckets %v", ns.Str(), e.Scale(), e.Positive().Offset(),
				e.Positive().BucketCounts().AsRaw(), want.offset, want.counts)
		}
	}
	// Exemplars are sent once.
	md = s.Metrics(now)
	for _, m := range md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().All() {
		if m.Name() == "ints" && m.Sum().DataPoints().At(0).Exemplars().Len() != 0 {
			t.Error("an exemplar sent twice")
		}
	}
	// Exemplars off: none kept.
	s = New("scope", []*Family{ints}, nil, false)
	if s.ExemplarFrom(&ExemplarSource{TraceID: trace}) != nil {
		t.Error("an exemplar with exemplars off")
	}
}

// Bounds are sorted and distinct, in seconds.
func TestBounds(t *testing.T) {
	got := Bounds([]time.Duration{2 * time.Second, 5 * time.Millisecond, 2 * time.Second}, []float64{0.005, 0.3})
	if !slices.Equal(got, []float64{0.005, 0.3, 2}) {
		t.Errorf("%v", got)
	}
	if got := Bounds(nil, nil); len(got) != 0 {
		t.Errorf("%v", got)
	}
}
