package costledgerexporter

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/genops-mesh/otelcol-genops/internal/pricing"
	"github.com/genops-mesh/otelcol-genops/internal/safetext"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// row is one priced call: a row of genops_cost_ledger.
type row struct {
	ts            time.Time // billed at: genops.cost.time, else the record's time
	callTS        time.Time // the time the record states (its key hashes it)
	key           string    // idempotency key
	requestID     string    // envoy.request_id or trace id, for reconciliation
	reporter      string
	team, project string
	customerID    string
	costCenter    string
	tier          string
	environment   string
	feature       string
	namespace     string
	workload      string
	service       string
	cluster       string
	provider      string
	model         string
	tokens        [5]int64 // input, cache_read, cache_creation, output, reasoning (as reported)
	costNanos     int64
	priced        bool
	currency      string
	priceRow      string
}

// attrs reads a record's attributes over its resource's (the record's
// win): what the governance processor wrote on either.
type attrs struct{ res, rec pcommon.Map }

func (a attrs) str(key string) string {
	v, ok := a.rec.Get(key)
	if !ok {
		v, ok = a.res.Get(key)
	}
	if !ok {
		return ""
	}
	switch v.Type() {
	case pcommon.ValueTypeMap, pcommon.ValueTypeSlice:
		// Never a column's value: the processor reads none of these as a
		// string either (a model given as an array is priced by the
		// request model, and the column says so too).
		return ""
	}
	return v.AsString()
}

// scalar is a value's string form; for an array or a map only its type
// and size: their string form walks the whole value by recursion, and a
// value nested a million deep overflowed the stack (the governance
// processor removes such values; this holds without it).
func scalar(v pcommon.Value) string {
	switch v.Type() {
	case pcommon.ValueTypeMap:
		return fmt.Sprintf("\x00map[%d]", v.Map().Len())
	case pcommon.ValueTypeSlice:
		return fmt.Sprintf("\x00slice[%d]", v.Slice().Len())
	}
	return v.AsString()
}

func (a attrs) int(key string) int64 {
	v, ok := a.rec.Get(key)
	if !ok {
		return 0
	}
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return max(v.Int(), 0)
	case pcommon.ValueTypeDouble:
		if f := v.Double(); f > 0 && f < math.MaxInt64 {
			return int64(f)
		}
	}
	return 0
}

var tokenKeys = [5]string{
	semconv.AttrGenAIInputTokens, semconv.AttrGenAICacheReadTokens, semconv.AttrGenAICacheCreationTokens,
	semconv.AttrGenAIOutputTokens, semconv.AttrGenAIReasoningTokens,
}

// workloadKeys name the workload of a record, most specific first.
var workloadKeys = []string{
	semconv.AttrK8sDeploymentName, semconv.AttrK8sStatefulSetName, semconv.AttrK8sDaemonSetName, semconv.AttrK8sCronJobName, semconv.AttrK8sJobName,
	semconv.AttrK8sReplicaSetName, semconv.AttrApp, semconv.AttrK8sPodName,
}

// newRow reads a governed record into a row; ok is false for a record
// that carries neither tokens nor a cost (not an AI call). stated is the
// time the record states (call_ts); the row is billed at the governance
// processor's genops.cost.time, else at billed.
func newRow(a attrs, stated, billed pcommon.Timestamp, reporter string) (row, bool) {
	r := row{ts: billed.AsTime().UTC(), callTS: stated.AsTime().UTC(), reporter: reporter}
	if v, ok := a.rec.Get(semconv.AttrCostTime); ok && v.Type() == pcommon.ValueTypeInt && v.Int() > 0 {
		r.ts = time.Unix(0, v.Int()).UTC()
	}
	any := false
	for i, k := range tokenKeys {
		r.tokens[i] = a.int(k)
		any = any || r.tokens[i] > 0
	}
	if v, ok := a.rec.Get(semconv.AttrCostTotal); ok && v.Type() == pcommon.ValueTypeDouble {
		// The processor wrote an exact nano-unit amount as a float
		// (internal/pricing): rounding recovers the integer.
		if f := v.Double(); f >= 0 && f <= 9e9 {
			r.costNanos, r.priced = int64(math.Round(f*pricing.NanosPerUnit)), true
			any = true
		}
	}
	if !any {
		return row{}, false
	}
	r.team, r.project = a.str(semconv.AttrTeam), a.str(semconv.AttrProject)
	r.customerID, r.costCenter = a.str(semconv.AttrCustomerID), a.str(semconv.AttrCostCenter)
	r.tier, r.environment, r.feature = a.str(semconv.AttrCustomerTier), a.str(semconv.AttrEnvironment), a.str(semconv.AttrFeature)
	r.namespace, r.service, r.cluster = a.str(semconv.AttrK8sNamespace), a.str(semconv.AttrServiceName), a.str(semconv.AttrK8sCluster)
	for _, k := range workloadKeys {
		if r.workload = a.str(k); r.workload != "" {
			break
		}
	}
	r.provider = a.str(semconv.AttrGenAIProviderName)
	if r.model = a.str(semconv.AttrGenAIResponseModel); r.model == "" {
		r.model = a.str(semconv.AttrGenAIRequestModel)
	}
	if r.priced {
		r.currency, r.priceRow = a.str(semconv.AttrCostCurrency), a.str(semconv.AttrCostPriceRow)
	}
	return r, true
}

// maxText bounds a text column: model names and ids come from requests,
// and a caller must not grow the ledger by a megabyte a row.
const maxText = 256

// clean makes every text column safe to store: no invalid UTF-8, NUL or
// other control characters (PostgreSQL refuses a NUL in text, and one
// refused row would hold back its whole batch), at most maxText bytes.
// It returns how many values it changed.
func (r *row) clean() int {
	n := 0
	for _, p := range []*string{&r.requestID, &r.team, &r.project, &r.customerID, &r.costCenter, &r.tier,
		&r.environment, &r.feature, &r.namespace, &r.workload, &r.service, &r.cluster, &r.provider, &r.model,
		&r.currency, &r.priceRow} {
		v, changed := safetext.Strip(*p)
		if len(v) > maxText {
			cut := maxText
			for cut > 0 && !utf8.RuneStart(v[cut]) {
				cut--
			}
			v, changed = v[:cut], true
		}
		if changed {
			*p = v
			n++
		}
	}
	return n
}

// idempotencyKey is what makes a replayed record the same row: for an
// access log line the request id, the reporting side and workload, the
// line's start time and the caller's address; for a span its trace and
// span ids and start time. The time and address are in it because a
// client may reuse a request id (or span id) for many calls: each would
// otherwise be billed once.
func idempotencyKey(kind string, ts pcommon.Timestamp, parts ...string) string {
	h := newKeyHash(kind, ts)
	for _, p := range parts {
		h.add(p)
	}
	return h.sum()
}

// tokenString writes token counts for a key.
func tokenString(t [5]int64) string {
	return fmt.Sprint(t[0], t[1], t[2], t[3], t[4])
}

// contentKey is the key of a record without a request id: its time and
// every attribute.
func contentKey(kind string, ts pcommon.Timestamp, all pcommon.Map, identity ...string) string {
	h := newKeyHash(kind, ts)
	for _, p := range identity {
		h.add(p)
	}
	keys := make([]string, 0, all.Len())
	for k := range all.All() {
		// The price the governance processor wrote depends on when the
		// record arrived (genops.cost.time is the arrival for a record
		// that states no time): a retry must hash the same.
		if !strings.HasPrefix(k, "genops.cost.") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := all.Get(k)
		h.add(k)
		h.add(scalar(v))
	}
	return h.sum()
}

// keyHash hashes length-prefixed parts, so that no two part lists hash
// alike by moving a boundary.
type keyHash struct{ h hash.Hash }

func newKeyHash(kind string, ts pcommon.Timestamp) keyHash {
	k := keyHash{sha256.New()}
	k.add(kind)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(ts))
	k.h.Write(b[:])
	return k
}

func (k keyHash) add(p string) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(len(p)))
	k.h.Write(b[:])
	k.h.Write([]byte(p))
}

func (k keyHash) sum() string { return hex.EncodeToString(k.h.Sum(nil)[:16]) }
