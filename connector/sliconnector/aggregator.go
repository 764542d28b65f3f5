package sliconnector

import (
	"hash/maphash"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/genops-mesh/otelcol-genops/internal/safetext"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// maxLabels is the most labels a metric of the contract has
// (genops_requests_total).
const maxLabels = 14

// labelValues are a series' label values in its family's label order.
type labelValues [maxLabels]string

// labelHashes are the hashes of labelValues, position by position. A
// record's label values are hashed once each and shared by the families
// it updates; a family's key hash combines them (hashing 14 strings per
// family per record was two thirds of the time).
type labelHashes [maxLabels]uint64

var hashSeed = maphash.MakeSeed()

func hashValue(v string) uint64 { return maphash.String(hashSeed, v) }

// combine folds the first n value hashes into the key hash of a series.
func combine(h *labelHashes, n int) uint64 {
	k := uint64(n)
	for i := range n {
		k = (k ^ h[i]) * 0x100000001b3
		k ^= k >> 29
	}
	return k
}

// overflowAllLabels is the label value of genops_series_overflow_total when
// a whole series was folded because its metric reached max_series.
const overflowAllLabels = "__all__"

// family is one metric of the contract and its series.
type family struct {
	name, description, unit string
	labels                  []string
	kind                    familyKind
	bounds                  []float64          // histograms: bucket bounds in seconds
	scale                   int32              // exponential histograms: fixed scale
	expOffset               int                // exponential histograms: index of the lowest bucket
	series                  map[uint64]*series // by key hash; collisions chain through series.next
	count                   int
	caps                    []labelCap
	maxSeries               int
	maxValueLen             int // 0: no limit
	// nsPos is the namespace label's position, -1 when the family has
	// none; caps and maxPerNamespace count within one namespace, so that
	// one namespace's senders cannot push another's series into
	// __overflow__.
	nsPos           int
	maxPerNamespace int            // 0: no limit
	perNamespace    map[string]int // series by namespace
}

type familyKind uint8

const (
	kindIntSum familyKind = iota
	kindDoubleSum
	kindHistogram
	kindExponential
)

// labelCap bounds the distinct values of one label of a family within
// each namespace (the namespace label's own cap, and a family without
// one, count across all). values counts the series that use each
// (namespace, value), so that expiry frees the slot; distinct counts the
// values of each namespace.
type labelCap struct {
	pos      int
	label    string
	max      int
	values   map[capKey]int
	distinct map[string]int
}

type capKey struct{ namespace, value string }

// capNamespace is the namespace a cap counts s's values in.
func (f *family) capNamespace(c *labelCap, values *labelValues) string {
	if f.nsPos < 0 || c.pos == f.nsPos {
		return ""
	}
	return values[f.nsPos]
}

// useCap records one more (delta 1) or one less (-1) series with values.
func (f *family) useCap(c *labelCap, values *labelValues, delta int) {
	k := capKey{f.capNamespace(c, values), values[c.pos]}
	n := c.values[k] + delta
	switch {
	case n <= 0:
		delete(c.values, k)
		if c.distinct[k.namespace]--; c.distinct[k.namespace] <= 0 {
			delete(c.distinct, k.namespace)
		}
	case n == 1 && delta > 0:
		c.values[k] = n
		c.distinct[k.namespace]++
	default:
		c.values[k] = n
	}
}

// useNamespace records one more or one less series of values' namespace.
func (f *family) useNamespace(values *labelValues, delta int) {
	if f.nsPos < 0 {
		return
	}
	ns := values[f.nsPos]
	if f.perNamespace[ns] += delta; f.perNamespace[ns] <= 0 {
		delete(f.perNamespace, ns)
	}
}

type series struct {
	values   labelValues
	hash     uint64
	next     *series // another series with the same key hash
	start    pcommon.Timestamp
	last     pcommon.Timestamp
	sum      float64  // counter value, or histogram sum
	count    uint64   // histogram sample count
	buckets  []uint64 // histogram: len(bounds)+1; exponential: by index from expMinIndex
	exemplar exemplar
}

type exemplar struct {
	set     bool
	traceID pcommon.TraceID
	spanID  pcommon.SpanID
	value   float64
	ts      pcommon.Timestamp
}

// aggregator holds every family. It is not safe for concurrent use: the
// connector holds its lock around a batch.
type aggregator struct {
	families  []*family
	overflow  *family
	exemplars bool
	// folded is set by lookup when a cap folded a value: the series
	// returned is not the record's own.
	folded bool
}

func newFamily(name, description, unit string, kind familyKind, labels []string, cfg *Config) *family {
	f := &family{
		name: name, description: description, unit: unit, kind: kind, labels: labels,
		series: map[uint64]*series{}, maxSeries: cfg.Cardinality.MaxSeries, maxValueLen: cfg.Cardinality.MaxValueLength,
		nsPos: slices.Index(labels, semconv.LabelNamespace), maxPerNamespace: cfg.Cardinality.MaxSeriesPerNamespace,
		perNamespace: map[string]int{},
	}
	for i, l := range labels {
		if n, ok := cfg.Cardinality.Labels[l]; ok {
			f.caps = append(f.caps, labelCap{pos: i, label: l, max: n, values: map[capKey]int{}, distinct: map[string]int{}})
		}
	}
	return f
}

// find returns the series with exactly these values, or nil.
func (f *family) find(key *labelValues, h uint64) *series {
	for s := f.series[h]; s != nil; s = s.next {
		if s.values == *key {
			return s
		}
	}
	return nil
}

// lookup returns the series for key (whose value hashes are hashes),
// creating it, with caps applied, when it does not exist. Only a new
// series allocates.
func (a *aggregator) lookup(f *family, key *labelValues, hashes *labelHashes, now pcommon.Timestamp) *series {
	n := len(f.labels)
	h := combine(hashes, n)
	if s := f.find(key, h); s != nil {
		// An existing series holds only values within the caps.
		return s
	}
	capped := false
	for i := range n {
		if v, changed := cleanLabel(key[i]); changed {
			// Control characters and invalid UTF-8 would reach Prometheus
			// and every terminal that shows a label; they are dropped.
			key[i], hashes[i] = v, hashValue(v)
			capped, a.folded = true, true
		}
		if overLength(key[i], f.maxValueLen) {
			key[i], hashes[i] = semconv.OverflowValue, overflowHash
			a.countOverflow(f.name, f.labels[i], now)
			capped, a.folded = true, true
		}
	}
	// The namespace's cap first, so that the others count in the
	// namespace the series ends up in.
	for i := range f.caps {
		if c := &f.caps[i]; c.pos == f.nsPos {
			capped = a.applyCap(f, c, key, hashes, now) || capped
		}
	}
	for i := range f.caps {
		if c := &f.caps[i]; c.pos != f.nsPos {
			capped = a.applyCap(f, c, key, hashes, now) || capped
		}
	}
	if capped {
		h = combine(hashes, n)
		if s := f.find(key, h); s != nil {
			return s
		}
	}
	if f.maxPerNamespace > 0 && f.nsPos >= 0 && f.perNamespace[key[f.nsPos]] >= f.maxPerNamespace {
		// The namespace's own overflow series: its count stays its own.
		a.folded = true
		a.countOverflow(f.name, overflowAllLabels, now)
		for i := range n {
			if i != f.nsPos {
				key[i], hashes[i] = semconv.OverflowValue, overflowHash
			}
		}
		h = combine(hashes, n)
		if s := f.find(key, h); s != nil {
			return s
		}
	}
	if f.count >= f.maxSeries {
		a.folded = true
		a.countOverflow(f.name, overflowAllLabels, now)
		for i := range n {
			key[i], hashes[i] = semconv.OverflowValue, overflowHash
		}
		h = combine(hashes, n)
		if s := f.find(key, h); s != nil {
			return s
		}
	}
	// A new series keeps its own copies: the values point into the
	// records' memory (for access logs, the whole line).
	for i := range n {
		key[i] = strings.Clone(key[i])
	}
	s := &series{values: *key, hash: h, start: now, next: f.series[h]}
	switch f.kind {
	case kindHistogram:
		s.buckets = make([]uint64, len(f.bounds)+1)
	case kindExponential:
		s.buckets = make([]uint64, expIndex(expMax, f.scale)-f.expOffset+1)
	}
	f.series[h] = s
	f.count++
	f.useNamespace(&s.values, 1)
	for i := range f.caps {
		f.useCap(&f.caps[i], &s.values, 1)
	}
	return s
}

// applyCap folds key's value of c's label into __overflow__ when it is new
// and its namespace already has c.max values, and reports whether it did.
func (a *aggregator) applyCap(f *family, c *labelCap, key *labelValues, hashes *labelHashes, now pcommon.Timestamp) bool {
	k := capKey{f.capNamespace(c, key), key[c.pos]}
	if k.value == "" {
		return false // an absent label is no value: nothing to fold
	}
	if _, known := c.values[k]; known || c.distinct[k.namespace] < c.max {
		return false
	}
	key[c.pos], hashes[c.pos] = semconv.OverflowValue, overflowHash
	a.countOverflow(f.name, c.label, now)
	a.folded = true
	return true
}

var overflowHash = hashValue(semconv.OverflowValue)

// cleanLabel returns v without control characters and invalid UTF-8, and
// whether anything was removed; it allocates only then. A value left empty
// is __overflow__, never an empty label that would merge with "absent".
func cleanLabel(v string) (string, bool) {
	v, changed := safetext.Strip(v)
	if changed && v == "" {
		return semconv.OverflowValue, true
	}
	return v, changed
}

// overLength reports whether v is longer than limit bytes
// (cardinality.max_value_length; 0: no limit).
func overLength(v string, limit int) bool {
	return limit > 0 && len(v) > limit
}

func (a *aggregator) countOverflow(metric, label string, now pcommon.Timestamp) {
	if a.overflow == nil {
		return
	}
	key := labelValues{metric, label}
	hashes := labelHashes{hashValue(metric), hashValue(label)}
	s := a.lookup(a.overflow, &key, &hashes, now)
	s.sum++
	s.last = now
}

// add adds v to a counter series and returns the series.
func (a *aggregator) add(f *family, key *labelValues, hashes *labelHashes, v float64, now pcommon.Timestamp, ex *exemplarSource) *series {
	s := a.lookup(f, key, hashes, now)
	a.addTo(s, v, now, ex)
	return s
}

func (a *aggregator) addTo(s *series, v float64, now pcommon.Timestamp, ex *exemplarSource) {
	s.sum += v
	s.last = now
	a.keepExemplar(s, v, now, ex)
}

// observe records one value (seconds) in a histogram series, explicit or
// exponential, and returns the series.
func (a *aggregator) observe(f *family, key *labelValues, hashes *labelHashes, v float64, now pcommon.Timestamp, ex *exemplarSource) *series {
	s := a.lookup(f, key, hashes, now)
	a.observeIn(f, s, v, now, ex)
	return s
}

func (a *aggregator) observeIn(f *family, s *series, v float64, now pcommon.Timestamp, ex *exemplarSource) {
	s.buckets[f.bucket(v)]++
	s.count++
	s.sum += v
	s.last = now
	a.keepExemplar(s, v, now, ex)
}

// bucket is the index in a series' buckets that counts v. Explicit:
// bucket i counts values <= bounds[i] (Prometheus' le), the last one the
// rest. Exponential: v clamped to the range, relative to the lowest bucket.
func (f *family) bucket(v float64) int {
	if f.kind == kindExponential {
		return expIndex(min(max(v, expMin), expMax), f.scale) - f.expOffset
	}
	return sort.SearchFloat64s(f.bounds, v)
}

// Exponential histogram range: durations are clamped to it, so that a
// series' buckets are a fixed, bounded array.
const (
	expMin = 1e-6   // seconds
	expMax = 3600.0 // seconds
)

// expIndex is the exponential histogram bucket of v at a scale: bucket i
// holds (base^i, base^(i+1)] with base = 2^(2^-scale).
func expIndex(v float64, scale int32) int {
	return int(math.Ceil(math.Log2(v)*math.Exp2(float64(scale)))) - 1
}

// exemplarSource is the trace of the record being counted.
type exemplarSource struct {
	traceID pcommon.TraceID
	spanID  pcommon.SpanID
}

// exemplarFrom is ex, or nil when exemplars are off or the record has no
// trace: decided once per record, for the five or six series it updates.
func (a *aggregator) exemplarFrom(ex *exemplarSource) *exemplarSource {
	if !a.exemplars || ex.traceID.IsEmpty() {
		return nil
	}
	return ex
}

// keepExemplar keeps the record's trace (ex, from exemplarFrom) on s.
func (a *aggregator) keepExemplar(s *series, v float64, now pcommon.Timestamp, ex *exemplarSource) {
	if ex == nil {
		return
	}
	s.exemplar = exemplar{set: true, traceID: ex.traceID, spanID: ex.spanID, value: v, ts: now}
}

// expire drops the series not updated since before cutoff.
func (a *aggregator) expire(cutoff pcommon.Timestamp) {
	for _, f := range append(a.families, a.overflow) {
		if f == nil {
			continue
		}
		for h, head := range f.series {
			var kept *series
			for s := head; s != nil; {
				next := s.next
				if s.last >= cutoff {
					s.next, kept = kept, s
				} else {
					f.count--
					f.useNamespace(&s.values, -1)
					for i := range f.caps {
						f.useCap(&f.caps[i], &s.values, -1)
					}
				}
				s = next
			}
			if kept == nil {
				delete(f.series, h)
			} else {
				f.series[h] = kept
			}
		}
	}
}

// each calls fn for every series of f.
func (f *family) each(fn func(*series)) {
	for _, head := range f.series {
		for s := head; s != nil; s = s.next {
			fn(s)
		}
	}
}

// metrics renders every series as cumulative OpenTelemetry metrics at now.
// Exemplars are sent once, then cleared.
func (a *aggregator) metrics(now pcommon.Timestamp) pmetric.Metrics {
	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(scopeName)
	for _, f := range append(a.families, a.overflow) {
		if f == nil || len(f.series) == 0 {
			continue
		}
		m := sm.Metrics().AppendEmpty()
		m.SetName(f.name)
		m.SetDescription(f.description)
		m.SetUnit(f.unit)
		switch f.kind {
		case kindExponential:
			h := m.SetEmptyExponentialHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			dps := h.DataPoints()
			dps.EnsureCapacity(f.count)
			f.each(func(s *series) {
				dp := dps.AppendEmpty()
				f.putAttributes(dp.Attributes(), s)
				dp.SetStartTimestamp(s.start)
				dp.SetTimestamp(now)
				dp.SetCount(s.count)
				dp.SetSum(s.sum)
				dp.SetScale(f.scale)
				// Only the span of buckets in use is sent.
				lo, hi := 0, len(s.buckets)-1
				for lo < hi && s.buckets[lo] == 0 {
					lo++
				}
				for hi > lo && s.buckets[hi] == 0 {
					hi--
				}
				dp.Positive().SetOffset(int32(f.expOffset + lo))
				dp.Positive().BucketCounts().FromRaw(s.buckets[lo : hi+1])
				if s.exemplar.set {
					putExemplar(dp.Exemplars(), &s.exemplar)
					s.exemplar.set = false
				}
			})
		case kindHistogram:
			h := m.SetEmptyHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			dps := h.DataPoints()
			dps.EnsureCapacity(f.count)
			f.each(func(s *series) {
				dp := dps.AppendEmpty()
				f.putAttributes(dp.Attributes(), s)
				dp.SetStartTimestamp(s.start)
				dp.SetTimestamp(now)
				dp.SetCount(s.count)
				dp.SetSum(s.sum)
				dp.BucketCounts().FromRaw(s.buckets)
				dp.ExplicitBounds().FromRaw(f.bounds)
				if s.exemplar.set {
					putExemplar(dp.Exemplars(), &s.exemplar)
					s.exemplar.set = false
				}
			})
		default:
			sum := m.SetEmptySum()
			sum.SetIsMonotonic(true)
			sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			dps := sum.DataPoints()
			dps.EnsureCapacity(f.count)
			f.each(func(s *series) {
				dp := dps.AppendEmpty()
				f.putAttributes(dp.Attributes(), s)
				dp.SetStartTimestamp(s.start)
				dp.SetTimestamp(now)
				if f.kind == kindIntSum {
					dp.SetIntValue(int64(s.sum))
				} else {
					dp.SetDoubleValue(s.sum)
				}
				if s.exemplar.set {
					putExemplar(dp.Exemplars(), &s.exemplar)
					s.exemplar.set = false
				}
			})
		}
	}
	return md
}

// putAttributes writes a series' labels; an empty value is left out, as
// Prometheus treats an empty label as absent.
func (f *family) putAttributes(attrs pcommon.Map, s *series) {
	attrs.EnsureCapacity(len(f.labels))
	for i, l := range f.labels {
		if v := s.values[i]; v != "" {
			attrs.PutStr(l, v)
		}
	}
}

func putExemplar(exs pmetric.ExemplarSlice, e *exemplar) {
	ex := exs.AppendEmpty()
	ex.SetTimestamp(e.ts)
	ex.SetDoubleValue(e.value)
	ex.SetTraceID(e.traceID)
	ex.SetSpanID(e.spanID)
}

// seconds converts durations to sorted, distinct bucket bounds.
func seconds(ds []time.Duration, extra []float64) []float64 {
	out := make([]float64, 0, len(ds)+len(extra))
	for _, d := range ds {
		out = append(out, d.Seconds())
	}
	out = append(out, extra...)
	sort.Float64s(out)
	j := 0
	for i, v := range out {
		if i == 0 || v != out[j-1] {
			out[j] = v
			j++
		}
	}
	return out[:j]
}
