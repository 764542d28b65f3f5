package sliconnector

import "strings"

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

// keyOf is r's comboKey; what does not decide a series is left empty, so
// that it does not split combinations.
func keyOf(r *request, reporter string) comboKey {
	k := comboKey{status: r.status}
	k.values = [comboValues]string{
		ckNamespace: r.namespace, ckApp: r.app, ckVersion: r.version, ckService: r.service,
		ckServerAddress: r.serverAddress, ckRoute: r.route, ckTeam: r.team, ckProject: r.project,
		ckCustomer: r.customer, ckCostCenter: r.costCenter, ckTier: r.tier, ckCluster: r.cluster,
		ckReporter: reporter, ckFlags: r.flags,
	}
	if r.service != "" {
		k.values[ckServerAddress] = ""
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
		k.values[ckCurrency] = r.currency
	}
	if k.has&(hasCost|hasInput|hasOutput) != 0 {
		k.values[ckProvider], k.values[ckModel], k.values[ckRequestModel] = r.provider, r.model, r.requestModel
	}
	return k
}

type combo struct {
	// The series the combination updates (nil for those it does not).
	requests, duration, exp, cost, input, output *series
}

// maxCombos bounds the cache.
const maxCombos = 16_384

// comboCache maps a comboKey to its series. A Go map with the whole key
// is the fastest exact lookup here: the runtime hashes and compares the
// eighteen strings with generated code.
type comboCache struct {
	byKey map[comboKey]*combo
}

func newComboCache() comboCache {
	return comboCache{byKey: map[comboKey]*combo{}}
}

func (c *comboCache) find(k *comboKey) *combo {
	return c.byKey[*k]
}

// store remembers a combination (its strings copied: they point into the
// record) unless the cache is full.
func (c *comboCache) store(k *comboKey, cb combo) {
	if len(c.byKey) >= maxCombos {
		return
	}
	key := *k
	for i, v := range key.values {
		key.values[i] = strings.Clone(v)
	}
	c.byKey[key] = &cb
}

// reset forgets every combination.
func (c *comboCache) reset() {
	if len(c.byKey) > 0 {
		c.byKey = map[comboKey]*combo{}
	}
}
