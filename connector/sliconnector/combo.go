package sliconnector

import (
	"math/bits"
	"slices"
	"strings"

	"github.com/genops-mesh/otelcol-genops/connector/sliconnector/internal/seriesstore"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// A combo is one combination of everything a record says that decides
// which series it updates (its raw label sources, status, response flags,
// reporter and which of duration, cost and tokens it carries), with the
// series it updated. Traffic repeats a few thousand combinations; once a
// combination is known, a record costs one hash, one comparison and the
// updates, instead of classifying the request and
// finding five to six series (each a hash and fourteen string
// comparisons).
//
// A record's values are its resource's, overridden by its own
// attributes. The resource's values are looked up once per resource and
// stand in the key as a number (comboCache.resource); the key then holds
// only the values the record's own attributes set, and a record hashes
// and compares those alone.
//
// The cache is bounded (maxCombos, maxResources): when full, new
// combinations take the ordinary path and are not remembered. Combinations
// whose labels a cap folded are never remembered, nor values longer than
// cardinality.max_value_length. It is emptied at every flush, because
// expiry may drop the series it points to.

// Positions of the values of a comboKey.
const (
	ckNamespace = iota
	ckApp
	ckVersion
	ckService
	ckRoute
	ckTeam
	ckProject
	ckCustomer
	ckCostCenter
	ckTier
	ckCluster
	ckFlags
	ckProvider
	ckModel
	ckRequestModel
	ckCurrency
	comboValues
)

// Bits of comboKey.has.
const (
	hasDuration = 1 << iota
	hasCost
	hasInput
	hasOutput
	hasSpanError
	hasSourceReporter // reporter="source" (else "destination")
)

type comboKey struct {
	// values by position: at the positions in set, the record's own; at
	// the others, its resource's, which the key names by res instead.
	values [comboValues]string
	set    uint32 // bit i: position i set by the record's own attributes
	res    uint32 // the resource's values (comboCache.resource; 0: none)
	status int64
	has    uint8
}

// finishKey completes the request's comboKey once its attributes are
// read: the reporter, what the record carries, and — left empty so that
// they do not split combinations — the values that decide no series
// (currency without a cost; provider and models without a cost or tokens). Completing it in place
// spares a copy of the key per record; nothing reads an emptied value
// afterwards. A resource's value emptied here is still named by res: it
// may split a combination, never merge two.
func (r *request) finishKey(reporter string) {
	k := &r.comboKey
	k.has = 0
	if reporter == semconv.ReporterSource {
		k.has |= hasSourceReporter
	}
	if r.hasDuration {
		k.has |= hasDuration
	}
	if r.spanError {
		k.has |= hasSpanError
	}
	if r.inTokens > 0 {
		k.has |= hasInput
	}
	if r.outTokens > 0 {
		k.has |= hasOutput
	}
	if r.hasCost {
		k.has |= hasCost
	} else {
		k.values[ckCurrency] = ""
	}
	if k.has&(hasCost|hasInput|hasOutput) == 0 {
		k.values[ckProvider], k.values[ckModel], k.values[ckRequestModel] = "", "", ""
	}
}

// hash is the hash of k: its resource, what it carries, and the record's
// own values.
func (k *comboKey) hash() uint64 {
	h := uint64(k.res)*0x9e3779b97f4a7c15 ^ (uint64(k.has)<<32|uint64(k.set))*0xc2b2ae3d27d4eb4f ^ uint64(k.status)
	for s := k.set; s != 0; s &= s - 1 {
		var fh uint64
		if v := k.values[bits.TrailingZeros32(s)]; v != "" {
			fh = seriesstore.Hash(v)
		}
		h = (h ^ fh) * 0x100000001b3
		h ^= h >> 29
	}
	return h
}

// equal reports whether k and o are one combination: the same resource,
// the same record values at the same positions, status and the rest.
func (k *comboKey) equal(o *comboKey) bool {
	if k.res != o.res || k.set != o.set || k.status != o.status || k.has != o.has {
		return false
	}
	for s := k.set; s != 0; s &= s - 1 {
		i := bits.TrailingZeros32(s)
		if k.values[i] != o.values[i] {
			return false
		}
	}
	return true
}

type combo struct {
	key  comboKey
	next *combo // another combination with the same hash
	// The series the combination updates (nil for those it does not).
	requests, duration, exp, cost, input, output *seriesstore.Series
	unpricedInput, unpricedOutput                *seriesstore.Series
}

// maxCombos bounds the cache; maxResources bounds its resource ids (a
// combination has one resource, so more would never be used).
const (
	maxCombos    = 16_384
	maxResources = maxCombos
)

// comboCache maps a comboKey's hash to its combinations, and the values
// of the resources they come from to resource ids.
type comboCache struct {
	byHash    map[uint64]*combo
	n         int
	resources map[[comboValues]string]uint32
	// maxValueLen: longer values are not remembered (0: no limit).
	maxValueLen int
}

func newComboCache(maxValueLen int) comboCache {
	return comboCache{byHash: map[uint64]*combo{}, resources: map[[comboValues]string]uint32{}, maxValueLen: maxValueLen}
}

// tooLong reports whether v is longer than the cache remembers.
func (c *comboCache) tooLong(v string) bool {
	return c.maxValueLen > 0 && len(v) > c.maxValueLen
}

// resource is the id of a resource's values, 1 or more, or 0 when there
// are maxResources already or a value is too long: the records of such a
// resource are counted without the cache.
func (c *comboCache) resource(values *[comboValues]string) uint32 {
	if id, ok := c.resources[*values]; ok {
		return id
	}
	if len(c.resources) >= maxResources || slices.ContainsFunc(values[:], c.tooLong) {
		return 0
	}
	var k [comboValues]string
	for i, v := range values { // they point into the batch
		k[i] = strings.Clone(v)
	}
	id := uint32(len(c.resources) + 1)
	c.resources[k] = id
	return id
}

func (c *comboCache) find(h uint64, k *comboKey) *combo {
	for cb := c.byHash[h]; cb != nil; cb = cb.next {
		if cb.key.equal(k) {
			return cb
		}
	}
	return nil
}

// store remembers a combination of a named resource (k.res != 0) unless
// the cache is full or a value is too long. It keeps the record's own
// values (copied: they point into the record), the only ones equal reads.
func (c *comboCache) store(h uint64, k *comboKey, cb combo) {
	if c.n >= maxCombos {
		return
	}
	cb.key = comboKey{set: k.set, res: k.res, status: k.status, has: k.has}
	for s := k.set; s != 0; s &= s - 1 {
		i := bits.TrailingZeros32(s)
		if c.tooLong(k.values[i]) {
			return
		}
		cb.key.values[i] = strings.Clone(k.values[i])
	}
	cb.next = c.byHash[h]
	c.byHash[h] = &cb
	c.n++
}

// reset forgets every combination and resource.
func (c *comboCache) reset() {
	if c.n > 0 || len(c.resources) > 0 {
		*c = newComboCache(c.maxValueLen)
	}
}
