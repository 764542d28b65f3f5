package governanceprocessor

import (
	"math/bits"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/genops-mesh/otelcol-genops/internal/attrindex"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// A record is the attributes of one log record, span or resource as the
// processor sees them: read in one pass into slots, one per attribute the
// processor reads or writes, and written back in one step at the end.
//
// Why: pcommon.Map.Get is a linear scan over the record's attributes, and
// resolving seven dimensions, the workloads of both sides and the price
// took some thirty-five of them per record — 40% of the processor's time.
// One pass over the attributes (internal/attrindex) replaces them.

// slot numbers the attributes a record view holds.
type slot uint8

// Workload slots of one side, from its base slot: namespace, pod, app,
// version, then one per owner kind in workloadKinds.
const (
	wlNamespace = iota
	wlPod
	wlApp
	wlVersion
	wlKind
)

// workloadKinds are the owners a pod's workload is named after
// (k8s.<kind>.name).
var workloadKinds = [...]string{"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet", "CronJob"}

const workloadSlots = slot(wlKind + len(workloadKinds))

// maxDims is the number of dimensions (dimensionNames).
const maxDims = 7

const (
	slotDirection slot = iota
	slotPeerAddress
	slotClientAddress
	slotNetPeerIP
	slotPrincipal
	slotLinkerdID
	slotAttributionSource
	slotCluster
	slotCostTotal
	slotCostCurrency
	slotInputTokens
	slotOutputTokens
	slotResponseModel
	slotRequestModel
	slotProvider
	slotHeaderTokensInput
	slotHeaderTokensOutput
	slotHeaderModel
	slotHeaderProvider
	slotHeaderCost
	slotCacheReadTokens
	slotCacheCreationTokens
	slotReasoningTokens
	slotHeaderTokensCacheRead
	slotHeaderTokensCacheWrite
	slotHeaderTokensReasoning
	slotCostPriceRow
	slotCostTime
	slotResponseServiceTier
	slotRequestServiceTier
	slotHeaderServiceTier
	slotServiceName
	slotSide
	slotShard
	slotRequestDuration // what a span's request record carries (requestlog connector)
	slotRequestError
	slotStatus
	slotServerAddress
	slotPodLabelApp // k8s.pod.label.* a pod's app and version are read from
	slotPodLabelAppName
	slotPodLabelVersion
	slotPodLabelAppVersion
	slotDestination                                   // workload of the destination (unprefixed keys)
	slotSource      = slotDestination + workloadSlots // workload of the caller (source.*)
	slotDimHeader   = slotSource + workloadSlots      // request header of dimension i
	slotDimAttr     = slotDimHeader + maxDims         // genops.* attribute of dimension i
	numSlots        = slotDimAttr + maxDims
)

// The slots must fit a slotSet.
var _ [128 - numSlots]struct{} = [128 - numSlots]struct{}{}

// slotSet is a set of slots: slot s is bit s%64 of word s/64.
type slotSet [2]uint64

func (b *slotSet) add(s slot)      { b[s>>6] |= 1 << (s & 63) }
func (b *slotSet) has(s slot) bool { return b[s>>6]&(1<<(s&63)) != 0 }

// eachSlot calls fn for every slot of set, in order.
func eachSlot(set slotSet, fn func(slot)) {
	for w, word := range set {
		for ; word != 0; word &= word - 1 {
			fn(slot(w<<6 + bits.TrailingZeros64(word)))
		}
	}
}

// slotKeys are the attribute names of the slots and the reverse index the
// reading pass uses (a key may fill several slots, e.g. a header that is
// also configured for two dimensions).
type slotKeys struct {
	key   [numSlots]string
	table attrindex.Table
}

// slots are the slots a key fills (none for most keys).
func (k *slotKeys) slots(key string) slotSet {
	lo, hi := k.table.Fields2(key)
	return slotSet{lo, hi}
}

func newSlotKeys(dims []dimension) *slotKeys {
	k := &slotKeys{}
	set := func(s slot, key string) {
		k.key[s] = key
		k.table.Add(key, int(s))
	}
	for s, key := range map[slot]string{
		slotDirection:              semconv.AttrEnvoyDirection,
		slotPeerAddress:            semconv.AttrNetworkPeerAddress,
		slotClientAddress:          semconv.AttrClientAddress,
		slotNetPeerIP:              "net.peer.ip",
		slotPrincipal:              semconv.AttrEnvoyDownstreamPeerURISAN,
		slotLinkerdID:              semconv.AttrLinkerdClientID,
		slotAttributionSource:      semconv.AttrAttributionSource,
		slotCluster:                semconv.AttrK8sCluster,
		slotCostTotal:              semconv.AttrCostTotal,
		slotCostCurrency:           semconv.AttrCostCurrency,
		slotInputTokens:            semconv.AttrGenAIInputTokens,
		slotOutputTokens:           semconv.AttrGenAIOutputTokens,
		slotResponseModel:          semconv.AttrGenAIResponseModel,
		slotRequestModel:           semconv.AttrGenAIRequestModel,
		slotProvider:               semconv.AttrGenAIProviderName,
		slotHeaderTokensInput:      respTokensInput,
		slotHeaderTokensOutput:     respTokensOutput,
		slotHeaderModel:            respModel,
		slotHeaderProvider:         respProvider,
		slotHeaderCost:             respCost,
		slotCacheReadTokens:        semconv.AttrGenAICacheReadTokens,
		slotCacheCreationTokens:    semconv.AttrGenAICacheCreationTokens,
		slotReasoningTokens:        semconv.AttrGenAIReasoningTokens,
		slotHeaderTokensCacheRead:  respTokensCacheRead,
		slotHeaderTokensCacheWrite: respTokensCacheWrite,
		slotHeaderTokensReasoning:  respTokensReasoning,
		slotCostPriceRow:           semconv.AttrCostPriceRow,
		slotCostTime:               semconv.AttrCostTime,
		slotResponseServiceTier:    semconv.AttrOpenAIResponseServiceTier,
		slotRequestServiceTier:     semconv.AttrOpenAIRequestServiceTier,
		slotHeaderServiceTier:      respServiceTier,
		slotServiceName:            semconv.AttrServiceName,
		slotSide:                   semconv.AttrSide,
		slotShard:                  semconv.AttrShard,
		slotRequestDuration:        semconv.AttrRequestDurationMs,
		slotRequestError:           semconv.AttrRequestError,
		slotStatus:                 semconv.AttrHTTPResponseStatusCode,
		slotServerAddress:          semconv.AttrServerAddress,
		slotPodLabelApp:            semconv.AttrPodLabelApp,
		slotPodLabelAppName:        semconv.AttrPodLabelAppName,
		slotPodLabelVersion:        semconv.AttrPodLabelVersion,
		slotPodLabelAppVersion:     semconv.AttrPodLabelAppVersion,
	} {
		set(s, key)
	}
	for _, side := range []struct {
		base   slot
		prefix string
	}{{slotDestination, ""}, {slotSource, semconv.SourcePrefix}} {
		set(side.base+wlNamespace, side.prefix+semconv.AttrK8sNamespace)
		set(side.base+wlPod, side.prefix+semconv.AttrK8sPodName)
		set(side.base+wlApp, side.prefix+semconv.AttrApp)
		set(side.base+wlVersion, side.prefix+semconv.AttrVersion)
		for i, kind := range workloadKinds {
			set(side.base+wlKind+slot(i), side.prefix+"k8s."+strings.ToLower(kind)+".name")
		}
	}
	for i := range dims {
		set(slotDimHeader+slot(i), dims[i].headerKey)
		set(slotDimAttr+slot(i), dims[i].attr)
	}
	return k
}

// record holds one map's slots and pending writes. It is scratch space,
// reused for every record of a batch.
type record struct {
	keys    *slotKeys
	attrs   pcommon.Map
	vals    [numSlots]pcommon.Value
	has     slotSet // slots present in attrs
	pending slotSet // slots with a write in writes
	writes  [numSlots]pending
}

type pending struct {
	typ pcommon.ValueType
	s   string
	i   int64
	f   float64
}

// read fills the slots from attrs in one pass, and removes the values
// nested too deep to be handled safely (deepValue), returning how many.
func (r *record) read(keys *slotKeys, attrs pcommon.Map) int {
	r.keys, r.attrs, r.has, r.pending = keys, attrs, slotSet{}, slotSet{}
	deep, dup := 0, false
	for k, v := range attrs.All() {
		if deepValue(v) {
			deep++
			continue
		}
		lo, hi := keys.table.Fields2(k)
		if r.has[0]&lo != 0 || r.has[1]&hi != 0 {
			dup = true // a key this processor reads, given twice
		}
		r.has[0] |= lo
		r.has[1] |= hi
		for ; lo != 0; lo &= lo - 1 {
			r.vals[bits.TrailingZeros64(lo)] = v
		}
		for ; hi != 0; hi &= hi - 1 {
			r.vals[64+bits.TrailingZeros64(hi)] = v
		}
	}
	if deep > 0 || dup {
		pruneDeep(attrs)
		deep += dedupe(attrs)
		// Slots may point at values the removal moved: read again.
		r.read(keys, attrs)
	}
	return deep
}

// dedupe keeps the first value of every key given more than once, and
// returns how many it removed. OTLP carries attributes as a list, so a
// key can come twice; the data model says keys are unique, and what
// follows this processor reads the first. The one value left is the one
// this processor checks and rewrites (third outside attempt: a claim
// refused here, given twice, reached the ledger through its other copy).
func dedupe(m pcommon.Map) int {
	seen := make(map[string]struct{}, m.Len())
	n := 0
	m.RemoveIf(func(k string, _ pcommon.Value) bool {
		if _, ok := seen[k]; ok {
			n++
			return true
		}
		seen[k] = struct{}{}
		return false
	})
	return n
}

// Bounds of a nested attribute value (an array or map inside a map):
// encoding/json, protobuf marshalling and AsString walk such values by
// recursion, and an array nested a million deep (a 9.5 MB OTLP request)
// overflowed the stack of the whole collector — in a persistent queue,
// on every restart. No attribute this project or the GenAI conventions
// define nests; a value past these bounds is removed and counted.
const (
	maxValueDepth = 32
	maxValueNodes = 10_000
)

// deepValue tells whether v, an array or a map, nests deeper than
// maxValueDepth or holds more than maxValueNodes values, without
// recursion. Any other value is not: it is answered without allocating,
// as most attributes are.
func deepValue(v pcommon.Value) bool {
	if t := v.Type(); t != pcommon.ValueTypeMap && t != pcommon.ValueTypeSlice {
		return false
	}
	type item struct {
		v     pcommon.Value
		depth int
	}
	stack := []item{{v, 1}}
	nodes := 0
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nodes++
		if it.depth > maxValueDepth || nodes > maxValueNodes {
			return true
		}
		switch it.v.Type() {
		case pcommon.ValueTypeSlice:
			if nodes+len(stack)+it.v.Slice().Len() > maxValueNodes {
				return true
			}
			for _, c := range it.v.Slice().All() {
				stack = append(stack, item{c, it.depth + 1})
			}
		case pcommon.ValueTypeMap:
			if nodes+len(stack)+it.v.Map().Len() > maxValueNodes {
				return true
			}
			for _, c := range it.v.Map().All() {
				stack = append(stack, item{c, it.depth + 1})
			}
		}
	}
	return false
}

// pruneDeep removes the values of m that deepValue refuses, and returns
// how many.
func pruneDeep(m pcommon.Map) int {
	n := 0
	m.RemoveIf(func(_ string, v pcommon.Value) bool {
		if deepValue(v) {
			n++
			return true
		}
		return false
	})
	return n
}

// get is the value the record arrived with.
func (r *record) get(s slot) (pcommon.Value, bool) {
	if !r.has.has(s) {
		return pcommon.Value{}, false
	}
	return r.vals[s], true
}

// str is the string form of the value the record arrived with ("" when
// absent).
func (r *record) str(s slot) (string, bool) {
	v, ok := r.get(s)
	if !ok {
		return "", false
	}
	if s := v.Str(); s != "" { // Str is "" for other types, and cheaper than Type
		return s, true
	}
	return scalar(v), true // an array or map is never a string this processor reads
}

// current is the slot's string value as the record will leave: the
// value written, else the one it arrived with ("" and false when absent
// or removed).
func (r *record) current(s slot) (string, bool) {
	if !r.pending.has(s) {
		return r.str(s)
	}
	switch w := &r.writes[s]; w.typ {
	case pcommon.ValueTypeStr:
		return w.s, true
	case pcommon.ValueTypeEmpty:
		return "", false
	}
	return "", true // a number names nothing
}

// label is the slot's value as the sli connector will label a series
// with it: current's, except that a value the record arrived with that
// is no string labels as "" (the connector takes Str), not as its text.
func (r *record) label(s slot) (string, bool) {
	if r.pending.has(s) {
		return r.current(s)
	}
	v, ok := r.get(s)
	return v.Str(), ok
}

// present tells whether the slot has a value, received or written.
func (r *record) present(s slot) bool {
	return r.has.has(s) || r.pending.has(s)
}

func (r *record) setStr(s slot, v string) {
	r.pending.add(s)
	r.writes[s] = pending{typ: pcommon.ValueTypeStr, s: v}
}

func (r *record) setInt(s slot, v int64) {
	r.pending.add(s)
	r.writes[s] = pending{typ: pcommon.ValueTypeInt, i: v}
}

func (r *record) setDouble(s slot, v float64) {
	r.pending.add(s)
	r.writes[s] = pending{typ: pcommon.ValueTypeDouble, f: v}
}

// remove deletes the slot's attribute (a refused claim).
func (r *record) remove(s slot) {
	r.pending.add(s)
	r.writes[s] = pending{typ: pcommon.ValueTypeEmpty}
}

// setOver writes v in slot s of a record whose resource carries shared
// under the same name, which the record's readers take when the record
// has none: nothing when the record would read v from the resource, ""
// when it must not read the resource's value. The record's own value,
// whatever it is, is replaced or removed.
func (r *record) setOver(s slot, v, shared string) {
	switch {
	case v == shared && !r.has.has(s):
	case v == "" && shared == "":
		r.remove(s)
	default:
		r.setStr(s, v)
	}
}

// setDefault writes a string only when the slot has no value.
func (r *record) setDefault(s slot, v string) {
	if !r.present(s) {
		r.setStr(s, v)
	}
}

// apply writes the pending values: those that replace a value in place
// first, while the values read stay valid, then the removals, then, after
// making room once, the new attributes. A value equal to the current one
// is not written (a write allocates, a comparison does not).
func (r *record) apply() {
	var removed, added slotSet
	for w := range r.pending {
		for set := r.pending[w] & r.has[w]; set != 0; set &= set - 1 {
			s := w<<6 + bits.TrailingZeros64(set)
			ww, v := &r.writes[s], r.vals[s]
			switch ww.typ {
			case pcommon.ValueTypeEmpty:
				removed[w] |= 1 << (s & 63)
			case pcommon.ValueTypeStr:
				if old := v.Str(); old != ww.s || (old == "" && v.Type() != pcommon.ValueTypeStr) {
					v.SetStr(ww.s)
				}
			case pcommon.ValueTypeInt:
				if v.Type() != pcommon.ValueTypeInt || v.Int() != ww.i {
					v.SetInt(ww.i)
				}
			case pcommon.ValueTypeDouble:
				if v.Type() != pcommon.ValueTypeDouble || v.Double() != ww.f {
					v.SetDouble(ww.f)
				}
			}
		}
		// Nothing to remove among the slots the record lacks.
		for set := r.pending[w] &^ r.has[w]; set != 0; set &= set - 1 {
			if s := w<<6 + bits.TrailingZeros64(set); r.writes[s].typ != pcommon.ValueTypeEmpty {
				added[w] |= 1 << (s & 63)
			}
		}
	}
	eachSlot(removed, func(s slot) { r.attrs.Remove(r.keys.key[s]) })
	if n := bits.OnesCount64(added[0]) + bits.OnesCount64(added[1]); n > 0 {
		r.attrs.EnsureCapacity(r.attrs.Len() + n)
		eachSlot(added, func(s slot) {
			w, k := &r.writes[s], r.keys.key[s]
			switch w.typ {
			case pcommon.ValueTypeStr:
				r.attrs.PutStr(k, w.s)
			case pcommon.ValueTypeInt:
				r.attrs.PutInt(k, w.i)
			case pcommon.ValueTypeDouble:
				r.attrs.PutDouble(k, w.f)
			}
		})
	}
	r.has, r.pending = slotSet{}, slotSet{} // the values read may have moved
}

// setWorkload sets the namespace, app, version, pod and owning workload of
// one side's pod, on slotDestination or slotSource.
func (r *record) setWorkload(base slot, s *side) {
	r.setStr(base+wlNamespace, s.pod.Namespace)
	r.setStr(base+wlPod, s.pod.Name)
	if s.app != "" {
		r.setStr(base+wlApp, s.app)
	}
	if s.version != "" {
		r.setStr(base+wlVersion, s.version)
	}
	if s.kind >= 0 {
		r.setStr(base+wlKind+slot(s.kind), s.pod.WorkloadName)
	}
}
