// Package seriesstore holds the sli connector's series: cumulative
// counters and histograms by label set, with the cardinality caps of the
// metric contract (per-label caps counted per namespace, a per-namespace
// and a total series bound, a label length bound, all folding into
// __overflow__ and counted in an overflow family), exemplars, expiry, and
// rendering as OpenTelemetry metrics. Its clock is injectable (SetClock).
//
// Why by hand: the collector's pdata has no store of series keyed by label
// values, and contrib's connectors keep theirs unexported and build a map
// key per record; this store finds a series from per-value hashes the
// caller computed once per record, without allocating. It is not safe for
// concurrent use: the connector holds its lock around a batch.
package seriesstore

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

// MaxLabels is the most labels a metric of the contract has
// (genops_requests_total).
const MaxLabels = 14

// Values are a series' label values in its family's label order.
type Values [MaxLabels]string

// Hashes are the hashes of Values, position by position. A
// record's label values are hashed once each and shared by the families
// it updates; a family's key hash combines them (hashing 14 strings per
// family per record was two thirds of the time).
type Hashes [MaxLabels]uint64

var hashSeed = maphash.MakeSeed()

func Hash(v string) uint64 { return maphash.String(hashSeed, v) }

// combine folds the first n value hashes into the key hash of a series.
func combine(h *Hashes, n int) uint64 {
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
type Family struct {
	name, description, unit string
	labels                  []string
	kind                    Kind
	bounds                  []float64          // histograms: bucket bounds in seconds
	scale                   int32              // exponential histograms: fixed scale
	expOffset               int                // exponential histograms: index of the lowest bucket
	series                  map[uint64]*Series // by key hash; collisions chain through series.next
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

type Kind uint8

const (
	IntSum Kind = iota
	DoubleSum
	Histogram
	Exponential
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
func (f *Family) capNamespace(c *labelCap, values *Values) string {
	if f.nsPos < 0 || c.pos == f.nsPos {
		return ""
	}
	return values[f.nsPos]
}

// useCap records one more (delta 1) or one less (-1) series with values.
func (f *Family) useCap(c *labelCap, values *Values, delta int) {
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
func (f *Family) useNamespace(values *Values, delta int) {
	if f.nsPos < 0 {
		return
	}
	ns := values[f.nsPos]
	if f.perNamespace[ns] += delta; f.perNamespace[ns] <= 0 {
		delete(f.perNamespace, ns)
	}
}

type Series struct {
	values   Values
	hash     uint64
	next     *Series // another series with the same key hash
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

// Store holds every family. It is not safe for concurrent use: the
// connector holds its lock around a batch.
type Store struct {
	families  []*Family
	overflow  *Family
	exemplars bool
	// Folded is set by a lookup when a cap folded a value: the series
	// returned is not the record's own (the caller clears it).
	Folded bool
	// now is the clock (Now).
	now   func() time.Time
	scope string
}

// Limits bound a family's series (the sli connector's cardinality
// settings).
type Limits struct {
	// MaxSeries is the most series; past it a new label set folds into
	// the series whose every label is __overflow__.
	MaxSeries int
	// MaxSeriesPerNamespace is the most series of one namespace; past it
	// the namespace's own overflow series. 0: no limit.
	MaxSeriesPerNamespace int
	// MaxValueLength is the longest label value kept (bytes). 0: no limit.
	MaxValueLength int
	// Labels caps the distinct values of a label per namespace.
	Labels map[string]int
}

// NewFamily is a metric of kind with labels (at most MaxLabels, in the
// order of the Values given to Add and Observe), bounded by lim.
func NewFamily(name, description, unit string, kind Kind, labels []string, lim Limits) *Family {
	f := &Family{
		name: name, description: description, unit: unit, kind: kind, labels: labels,
		series: map[uint64]*Series{}, maxSeries: lim.MaxSeries, maxValueLen: lim.MaxValueLength,
		nsPos: slices.Index(labels, semconv.LabelNamespace), maxPerNamespace: lim.MaxSeriesPerNamespace,
		perNamespace: map[string]int{},
	}
	for i, l := range labels {
		if n, ok := lim.Labels[l]; ok {
			f.caps = append(f.caps, labelCap{pos: i, label: l, max: n, values: map[capKey]int{}, distinct: map[string]int{}})
		}
	}
	return f
}

// find returns the series with exactly these values, or nil.
func (f *Family) find(key *Values, h uint64) *Series {
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
func (a *Store) lookup(f *Family, key *Values, hashes *Hashes, now pcommon.Timestamp) *Series {
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
			key[i], hashes[i] = v, Hash(v)
			capped, a.Folded = true, true
		}
		if overLength(key[i], f.maxValueLen) {
			key[i], hashes[i] = semconv.OverflowValue, overflowHash
			a.countOverflow(f.name, f.labels[i], now)
			capped, a.Folded = true, true
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
		a.Folded = true
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
		a.Folded = true
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
	s := &Series{values: *key, hash: h, start: now, next: f.series[h]}
	switch f.kind {
	case Histogram:
		s.buckets = make([]uint64, len(f.bounds)+1)
	case Exponential:
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
func (a *Store) applyCap(f *Family, c *labelCap, key *Values, hashes *Hashes, now pcommon.Timestamp) bool {
	k := capKey{f.capNamespace(c, key), key[c.pos]}
	if k.value == "" {
		return false // an absent label is no value: nothing to fold
	}
	if _, known := c.values[k]; known || c.distinct[k.namespace] < c.max {
		return false
	}
	key[c.pos], hashes[c.pos] = semconv.OverflowValue, overflowHash
	a.countOverflow(f.name, c.label, now)
	a.Folded = true
	return true
}

var overflowHash = Hash(semconv.OverflowValue)

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

func (a *Store) countOverflow(metric, label string, now pcommon.Timestamp) {
	if a.overflow == nil {
		return
	}
	key := Values{metric, label}
	hashes := Hashes{Hash(metric), Hash(label)}
	s := a.lookup(a.overflow, &key, &hashes, now)
	s.sum++
	s.last = now
}

// add adds v to a counter series and returns the series.
func (a *Store) Add(f *Family, key *Values, hashes *Hashes, v float64, now pcommon.Timestamp, ex *ExemplarSource) *Series {
	s := a.lookup(f, key, hashes, now)
	a.AddTo(s, v, now, ex)
	return s
}

func (a *Store) AddTo(s *Series, v float64, now pcommon.Timestamp, ex *ExemplarSource) {
	s.sum += v
	s.last = now
	a.keepExemplar(s, v, now, ex)
}

// observe records one value (seconds) in a histogram series, explicit or
// exponential, and returns the series.
func (a *Store) Observe(f *Family, key *Values, hashes *Hashes, v float64, now pcommon.Timestamp, ex *ExemplarSource) *Series {
	s := a.lookup(f, key, hashes, now)
	a.ObserveIn(f, s, v, now, ex)
	return s
}

func (a *Store) ObserveIn(f *Family, s *Series, v float64, now pcommon.Timestamp, ex *ExemplarSource) {
	s.buckets[f.bucket(v)]++
	s.count++
	s.sum += v
	s.last = now
	a.keepExemplar(s, v, now, ex)
}

// bucket is the index in a series' buckets that counts v. Explicit:
// bucket i counts values <= bounds[i] (Prometheus' le), the last one the
// rest. Exponential: v clamped to the range, relative to the lowest bucket.
func (f *Family) bucket(v float64) int {
	if f.kind == Exponential {
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

// ExemplarSource is the trace of the record being counted.
type ExemplarSource struct {
	TraceID pcommon.TraceID
	SpanID  pcommon.SpanID
}

// exemplarFrom is ex, or nil when exemplars are off or the record has no
// trace: decided once per record, for the five or six series it updates.
func (a *Store) ExemplarFrom(ex *ExemplarSource) *ExemplarSource {
	if !a.exemplars || ex.TraceID.IsEmpty() {
		return nil
	}
	return ex
}

// keepExemplar keeps the record's trace (ex, from exemplarFrom) on s.
func (a *Store) keepExemplar(s *Series, v float64, now pcommon.Timestamp, ex *ExemplarSource) {
	if ex == nil {
		return
	}
	s.exemplar = exemplar{set: true, traceID: ex.TraceID, spanID: ex.SpanID, value: v, ts: now}
}

// expire drops the series not updated since before cutoff.
func (a *Store) Expire(cutoff pcommon.Timestamp) {
	for _, f := range append(a.families, a.overflow) {
		if f == nil {
			continue
		}
		for h, head := range f.series {
			var kept *Series
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
func (f *Family) Each(fn func(*Series)) {
	for _, head := range f.series {
		for s := head; s != nil; s = s.next {
			fn(s)
		}
	}
}

// metrics renders every series as cumulative OpenTelemetry metrics at now.
// Exemplars are sent once, then cleared.
func (a *Store) Metrics(now pcommon.Timestamp) pmetric.Metrics {
	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(a.scope)
	for _, f := range append(a.families, a.overflow) {
		if f == nil || len(f.series) == 0 {
			continue
		}
		m := sm.Metrics().AppendEmpty()
		m.SetName(f.name)
		m.SetDescription(f.description)
		m.SetUnit(f.unit)
		switch f.kind {
		case Exponential:
			h := m.SetEmptyExponentialHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			dps := h.DataPoints()
			dps.EnsureCapacity(f.count)
			f.Each(func(s *Series) {
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
				s.sendExemplar(dp.Exemplars())
			})
		case Histogram:
			h := m.SetEmptyHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			dps := h.DataPoints()
			dps.EnsureCapacity(f.count)
			f.Each(func(s *Series) {
				dp := dps.AppendEmpty()
				f.putAttributes(dp.Attributes(), s)
				dp.SetStartTimestamp(s.start)
				dp.SetTimestamp(now)
				dp.SetCount(s.count)
				dp.SetSum(s.sum)
				dp.BucketCounts().FromRaw(s.buckets)
				dp.ExplicitBounds().FromRaw(f.bounds)
				s.sendExemplar(dp.Exemplars())
			})
		default:
			sum := m.SetEmptySum()
			sum.SetIsMonotonic(true)
			sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			dps := sum.DataPoints()
			dps.EnsureCapacity(f.count)
			f.Each(func(s *Series) {
				dp := dps.AppendEmpty()
				f.putAttributes(dp.Attributes(), s)
				dp.SetStartTimestamp(s.start)
				dp.SetTimestamp(now)
				if f.kind == IntSum {
					dp.SetIntValue(int64(s.sum))
				} else {
					dp.SetDoubleValue(s.sum)
				}
				s.sendExemplar(dp.Exemplars())
			})
		}
	}
	return md
}

// putAttributes writes a series' labels; an empty value is left out, as
// Prometheus treats an empty label as absent.
func (f *Family) putAttributes(attrs pcommon.Map, s *Series) {
	attrs.EnsureCapacity(len(f.labels))
	for i, l := range f.labels {
		if v := s.values[i]; v != "" {
			attrs.PutStr(l, v)
		}
	}
}

// sendExemplar adds the series' exemplar to exs, once: a sent exemplar
// is cleared.
func (s *Series) sendExemplar(exs pmetric.ExemplarSlice) {
	if !s.exemplar.set {
		return
	}
	e := &s.exemplar
	ex := exs.AppendEmpty()
	ex.SetTimestamp(e.ts)
	ex.SetDoubleValue(e.value)
	ex.SetTraceID(e.traceID)
	ex.SetSpanID(e.spanID)
	e.set = false
}

// Bounds converts durations and extra bounds in seconds to sorted,
// distinct bucket bounds.
func Bounds(ds []time.Duration, extra []float64) []float64 {
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

// New is a store of families and, when overflow is not nil, of the
// overflow family (labels metric and label) that counts what caps fold.
// Its metrics name scope as their instrumentation scope; exemplars keeps
// the trace of a recent record on each series. Its clock is time.Now.
func New(scope string, families []*Family, overflow *Family, exemplars bool) *Store {
	return &Store{families: families, overflow: overflow, exemplars: exemplars, scope: scope, now: time.Now}
}

// SetClock replaces the store's clock (tests).
func (a *Store) SetClock(now func() time.Time) { a.now = now }

// Now is the store's time: what a batch counts at and a flush renders at.
func (a *Store) Now() pcommon.Timestamp { return pcommon.NewTimestampFromTime(a.now()) }

// Families are the store's families, without the overflow family.
func (a *Store) Families() []*Family { return a.families }

// Flush expires the series not updated within expiry (0: none expire)
// and renders the rest at the store's time.
func (a *Store) Flush(expiry time.Duration) pmetric.Metrics {
	now := a.now()
	if expiry > 0 {
		a.Expire(pcommon.NewTimestampFromTime(now.Add(-expiry)))
	}
	return a.Metrics(pcommon.NewTimestampFromTime(now))
}

// Name is the family's metric name.
func (f *Family) Name() string { return f.name }

// Len is the number of series the family holds.
func (f *Family) Len() int { return f.count }

// SetBounds makes a Histogram family's bucket bounds (seconds, sorted).
func (f *Family) SetBounds(bounds []float64) { f.bounds = bounds }

// SetScale fixes an Exponential family's scale (0 to 5): durations are
// clamped to 1 µs..1 h, so each series has a fixed, bounded bucket array.
func (f *Family) SetScale(scale int32) {
	f.scale = scale
	f.expOffset = expIndex(expMin, scale)
}

// Values are the series' label values, in its family's label order.
func (s *Series) Values() Values { return s.values }

// Sum is a counter's value, or a histogram's sum.
func (s *Series) Sum() float64 { return s.sum }

// Bounds are a Histogram family's bucket bounds.
func (f *Family) Bounds() []float64 { return f.bounds }
