package sliconnector

import (
	"strings"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// A combo is one combination of everything a record says that decides
// which series it updates (its raw label sources, status, response flags,
// reporter and which of duration, cost and tokens it carries), with the
// series it updated. Traffic repeats a few thousand combinations; once a
// combination is known, a record costs one hash, one comparison and the
// updates, instead of classifying the request, deriving the service and
// finding five to six series (each a hash and fourteen string
// comparisons).
//
// The cache is bounded (maxCombos): when full, new combinations take the
// ordinary path and are not remembered. Combinations whose labels a cap
// folded are never remembered. It is emptied at every flush, because
// expiry may drop the series it points to.

// Positions of the values of a comboKey.
const (
	ckNamespace = iota
	ckApp
	ckVersion
	ckService
	ckServerAddress
	ckRoute
	ckTeam
	ckProject
	ckCustomer
	ckCostCenter
	ckTier
	ckCluster
	ckReporter
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
)

type comboKey struct {
	values [comboValues]string
	status int64
	has    uint8
}

// finishKey completes the request's comboKey once its attributes are
// read: the reporter, what the record carries, and — left empty so that
// they do not split combinations — the values that decide no series (the
// server address when the service is known; currency without a cost;
// provider and models without a cost or tokens). Completing it in place
// spares a copy of the key per record; nothing reads an emptied value
// afterwards.
func (r *request) finishKey(reporter string) {
	k := &r.comboKey
	k.values[ckReporter] = reporter
	if k.values[ckService] != "" {
		k.values[ckServerAddress] = ""
	}
	k.has = 0
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

// fieldHashes are the hashes of a request's values by comboKey position
// (0 for an empty value). A resource's are computed once; a record's
// values that come from its resource reuse them, so a record hashes only
// the values its own attributes set.
type fieldHashes [comboValues]uint64

func (h *fieldHashes) of(values *[comboValues]string) {
	for i, v := range values {
		h[i] = 0
		if v != "" {
			h[i] = hashValue(v)
		}
	}
}

// hash is the hash of k, from the record's own values (set: bit i for
// position i set by the record's attributes) and the resource's hashes
// for the rest.
func (k *comboKey) hash(set uint32, res *fieldHashes) uint64 {
	h := uint64(k.has)*0x9e3779b97f4a7c15 ^ uint64(k.status)
	for i, v := range k.values {
		var fh uint64
		switch {
		case v == "":
		case i == ckReporter:
			fh = destinationHash
			if v == semconv.ReporterSource {
				fh = sourceHash
			}
		case set&(1<<i) != 0:
			fh = hashValue(v)
		default:
			fh = res[i]
		}
		h = (h ^ fh) * 0x100000001b3
		h ^= h >> 29
	}
	return h
}

type combo struct {
	key  comboKey
	next *combo // another combination with the same hash
	// The series the combination updates (nil for those it does not).
	requests, duration, exp, cost, input, output *series
}

// maxCombos bounds the cache.
const maxCombos = 16_384

// comboCache maps a comboKey's hash to its combinations.
type comboCache struct {
	byHash map[uint64]*combo
	n      int
}

func newComboCache() comboCache {
	return comboCache{byHash: map[uint64]*combo{}}
}

func (c *comboCache) find(h uint64, k *comboKey) *combo {
	for cb := c.byHash[h]; cb != nil; cb = cb.next {
		if cb.key == *k {
			return cb
		}
	}
	return nil
}

// store remembers a combination (its strings copied: they point into the
// record) unless the cache is full.
func (c *comboCache) store(h uint64, k *comboKey, cb combo) {
	if c.n >= maxCombos {
		return
	}
	cb.key = *k
	for i, v := range cb.key.values {
		cb.key.values[i] = strings.Clone(v)
	}
	cb.next = c.byHash[h]
	c.byHash[h] = &cb
	c.n++
}

// reset forgets every combination.
func (c *comboCache) reset() {
	if c.n > 0 {
		c.byHash, c.n = map[uint64]*combo{}, 0
	}
}
