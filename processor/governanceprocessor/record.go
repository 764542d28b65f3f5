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
	slotServiceName
	slotPodLabelApp // k8s.pod.label.* the sli connector reads for app and version
	slotPodLabelAppName
	slotPodLabelVersion
	slotPodLabelAppVersion
	slotDestination                                   // workload of the destination (unprefixed keys)
	slotSource      = slotDestination + workloadSlots // workload of the caller (source.*)
	slotDimHeader   = slotSource + workloadSlots      // request header of dimension i
	slotDimAttr     = slotDimHeader + maxDims         // genops.* attribute of dimension i
	numSlots        = slotDimAttr + maxDims
)

// The slot set of a key must fit a uint64.
var _ [64 - numSlots]struct{} = [64 - numSlots]struct{}{}

// slotKeys are the attribute names of the slots and the reverse index the
// reading pass uses (a key may fill several slots, e.g. a header that is
// also configured for two dimensions).
type slotKeys struct {
	key   [numSlots]string
	table attrindex.Table
}

// slots are the slots a key fills (none for most keys).
func (k *slotKeys) slots(key string) uint64 {
	return k.table.Fields(key)
}

func newSlotKeys(dims []dimension) *slotKeys {
	k := &slotKeys{}
	set := func(s slot, key string) {
		k.key[s] = key
		k.table.Add(key, int(s))
	}
	for s, key := range map[slot]string{
		slotDirection:          semconv.AttrEnvoyDirection,
		slotPeerAddress:        semconv.AttrNetworkPeerAddress,
		slotClientAddress:      semconv.AttrClientAddress,
		slotNetPeerIP:          "net.peer.ip",
		slotPrincipal:          semconv.AttrEnvoyDownstreamPeerURISAN,
		slotLinkerdID:          semconv.AttrLinkerdClientID,
		slotAttributionSource:  semconv.AttrAttributionSource,
		slotCluster:            semconv.AttrK8sCluster,
		slotCostTotal:          semconv.AttrCostTotal,
		slotCostCurrency:       semconv.AttrCostCurrency,
		slotInputTokens:        semconv.AttrGenAIInputTokens,
		slotOutputTokens:       semconv.AttrGenAIOutputTokens,
		slotResponseModel:      semconv.AttrGenAIResponseModel,
		slotRequestModel:       semconv.AttrGenAIRequestModel,
		slotProvider:           semconv.AttrGenAIProviderName,
		slotHeaderTokensInput:  respTokensInput,
		slotHeaderTokensOutput: respTokensOutput,
		slotHeaderModel:        respModel,
		slotHeaderProvider:     respProvider,
		slotHeaderCost:         respCost,
		slotServiceName:        semconv.AttrServiceName,
		slotPodLabelApp:        semconv.AttrPodLabelApp,
		slotPodLabelAppName:    semconv.AttrPodLabelAppName,
		slotPodLabelVersion:    semconv.AttrPodLabelVersion,
		slotPodLabelAppVersion: semconv.AttrPodLabelAppVersion,
	} {
		set(s, key)
	}
	for _, side := range []struct {
		base   slot
		prefix string
	}{{slotDestination, ""}, {slotSource, semconv.SourcePrefix}} {
		set(side.base+wlNamespace, side.prefix+semconv.AttrK8sNamespace)
		set(side.base+wlPod, side.prefix+"k8s.pod.name")
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
	has     uint64 // slots present in attrs
	pending uint64 // slots with a write in writes
	writes  [numSlots]pending
}

type pending struct {
	typ pcommon.ValueType
	s   string
	i   int64
	f   float64
}

// read fills the slots from attrs in one pass.
func (r *record) read(keys *slotKeys, attrs pcommon.Map) {
	r.keys, r.attrs, r.has, r.pending = keys, attrs, 0, 0
	for k, v := range attrs.All() {
		set := keys.slots(k)
		r.has |= set
		for ; set != 0; set &= set - 1 {
			r.vals[bits.TrailingZeros64(set)] = v
		}
	}
}

// get is the value the record arrived with.
func (r *record) get(s slot) (pcommon.Value, bool) {
	if r.has&(1<<s) == 0 {
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
	return v.AsString(), true
}

// present tells whether the slot has a value, received or written.
func (r *record) present(s slot) bool {
	return (r.has|r.pending)&(1<<s) != 0
}

func (r *record) setStr(s slot, v string) {
	r.pending |= 1 << s
	r.writes[s] = pending{typ: pcommon.ValueTypeStr, s: v}
}

func (r *record) setInt(s slot, v int64) {
	r.pending |= 1 << s
	r.writes[s] = pending{typ: pcommon.ValueTypeInt, i: v}
}

func (r *record) setDouble(s slot, v float64) {
	r.pending |= 1 << s
	r.writes[s] = pending{typ: pcommon.ValueTypeDouble, f: v}
}

// remove deletes the slot's attribute (a refused claim).
func (r *record) remove(s slot) {
	r.pending |= 1 << s
	r.writes[s] = pending{typ: pcommon.ValueTypeEmpty}
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
	var removed uint64
	for set := r.pending & r.has; set != 0; set &= set - 1 {
		s := bits.TrailingZeros64(set)
		w, v := &r.writes[s], r.vals[s]
		switch w.typ {
		case pcommon.ValueTypeEmpty:
			removed |= 1 << s
		case pcommon.ValueTypeStr:
			if old := v.Str(); old != w.s || (old == "" && v.Type() != pcommon.ValueTypeStr) {
				v.SetStr(w.s)
			}
		case pcommon.ValueTypeInt:
			if v.Type() != pcommon.ValueTypeInt || v.Int() != w.i {
				v.SetInt(w.i)
			}
		case pcommon.ValueTypeDouble:
			if v.Type() != pcommon.ValueTypeDouble || v.Double() != w.f {
				v.SetDouble(w.f)
			}
		}
	}
	for ; removed != 0; removed &= removed - 1 {
		r.attrs.Remove(r.keys.key[bits.TrailingZeros64(removed)])
	}
	added := r.pending &^ r.has
	for set := added; set != 0; set &= set - 1 { // nothing to remove
		if s := bits.TrailingZeros64(set); r.writes[s].typ == pcommon.ValueTypeEmpty {
			added &^= 1 << s
		}
	}
	if added == 0 {
		r.has, r.pending = 0, 0
		return
	}
	r.attrs.EnsureCapacity(r.attrs.Len() + bits.OnesCount64(added))
	for ; added != 0; added &= added - 1 {
		s := bits.TrailingZeros64(added)
		w, k := &r.writes[s], r.keys.key[s]
		switch w.typ {
		case pcommon.ValueTypeStr:
			r.attrs.PutStr(k, w.s)
		case pcommon.ValueTypeInt:
			r.attrs.PutInt(k, w.i)
		case pcommon.ValueTypeDouble:
			r.attrs.PutDouble(k, w.f)
		}
	}
	r.has, r.pending = 0, 0 // the values read may have moved
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
