// Package pricing is the AI price table (config/pricing.yaml): rows of
// prices per million tokens by model glob and provider, each in force from
// a date, and exact cost arithmetic in integer nano-units of the table's
// currency. It is read by the governance processor (which prices calls)
// and by genopsctl (`pricing check`, and the ledger's reports).
//
// Money is never a float here: a price of up to nine decimals per million
// tokens is an exact integer count of nano-units per million tokens, a
// call's cost is the exact sum of tokens × price divided by a million,
// rounded half to even once per call, so that a ledger of calls adds up to
// the cent whatever the order of the additions.
package pricing

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"
)

// NanosPerUnit is how many nano-units make one unit of a currency.
const NanosPerUnit = 1_000_000_000

// Token types a row prices, as the per_million keys and the token_type
// label name them.
const (
	Input       = "input"        // input tokens neither read from nor written to a cache
	CachedInput = "cached_input" // input tokens read from the provider's cache
	CacheWrite  = "cache_write"  // input tokens written to the provider's cache
	Output      = "output"       // output tokens that are not reasoning
	Reasoning   = "reasoning"    // reasoning output tokens (default price: output's)
)

// TokenTypes in the order Usage holds them.
var TokenTypes = [numTypes]string{Input, CachedInput, CacheWrite, Output, Reasoning}

const numTypes = 5

// Table is a price table file.
type Table struct {
	Currency string `yaml:"currency"`
	AsOf     string `yaml:"as_of"`
	Source   string `yaml:"source"`
	// Providers say how each provider counts its tokens (Normalization).
	Providers map[string]Normalization `yaml:"providers"`
	Models    []Row                    `yaml:"models"`
	// Default prices a call no row matches; without it such a call is
	// unpriced (and counted), never priced at a guess.
	Default *Row `yaml:"default"`

	groups []group
}

// Normalization says what a provider's token counts include. The
// OpenTelemetry GenAI conventions count cached (read and written) input
// tokens inside gen_ai.usage.input_tokens and reasoning tokens inside
// gen_ai.usage.output_tokens; some providers (Anthropic's API) report
// cache reads and writes beside input_tokens instead.
type Normalization struct {
	// InputIncludesCache: input_tokens includes cache_read and
	// cache_creation tokens (default true, the convention's reading).
	InputIncludesCache *bool `yaml:"input_includes_cache"`
	// OutputIncludesReasoning: output_tokens includes reasoning tokens
	// (default true).
	OutputIncludesReasoning *bool `yaml:"output_includes_reasoning"`
}

// Row prices the models its glob matches, from ValidFrom on.
type Row struct {
	Match    string `yaml:"match"`
	Provider string `yaml:"provider"`
	// ValidFrom is the first day (UTC, YYYY-MM-DD) the row is in force;
	// empty: since always. A later row with the same match replaces it
	// from its own date, so a price change never rewrites the past.
	ValidFrom string `yaml:"valid_from"`
	// PerMillion: prices per million tokens by token type.
	PerMillion map[string]Price `yaml:"per_million"`
	// Shorthand of per_million.input and per_million.output.
	InputPerMillion  *Price `yaml:"input_per_million"`
	OutputPerMillion *Price `yaml:"output_per_million"`
	// Tiers: the same models' prices under a provider's service tier
	// (OpenAI's batch, flex and priority, Anthropic's batch), by the
	// tier's name as a call states it (openai.response.service_tier, the
	// x-genops-service-tier header). A call of a tier the row does not
	// name is priced at the row's own prices.
	Tiers map[string]Tier `yaml:"tiers"`

	tiers  map[string]*Row
	tier   string // on a tier's row: its name
	from   time.Time
	nanos  [numTypes]int64 // nano-units per million tokens
	priced [numTypes]bool
	where  string
}

// Tier prices a service tier: every price of its row times Multiplier
// (a batch discount of half is 0.5), or its own PerMillion prices, with
// the defaults of a row's (cached input as input, reasoning as output).
type Tier struct {
	Multiplier *Price           `yaml:"multiplier"`
	PerMillion map[string]Price `yaml:"per_million"`
}

// maxMultiplier bounds a tier's multiplier (priority tiers cost about
// twice the standard price; ten times is a typo).
const maxMultiplier = 10 * NanosPerUnit

// Tier names a call may state that mean the row's own prices: a table
// may not name a tier so.
var standardTiers = []string{"auto", "default", "standard"}

// Price is a decimal price per million tokens, read from YAML exactly (as
// its text, never through a float) into nano-units per million tokens
// when its row is checked, so that an error names the row and the key.
type Price struct {
	Nanos int64
	Text  string
	tag   string
}

// maxPrice bounds a price per million tokens: no model costs a million
// currency units per million tokens, and a typo that large would bill
// absurdly. In nano-units: 1e15, so tokens × price stays far inside the
// 128-bit sums of Cost.
const maxPrice = 1_000_000 * NanosPerUnit

func (p *Price) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a price is a number", n.Line)
	}
	*p = Price{Text: n.Value, tag: n.Tag}
	return nil
}

func (p *Price) parse() error {
	if p.tag != "!!int" && p.tag != "!!float" {
		return fmt.Errorf("%q is not a number", p.Text)
	}
	nanos, err := ParseNanos(p.Text)
	if err != nil {
		return err
	}
	if nanos > maxPrice {
		return fmt.Errorf("%s is not a price from 0 to %d", p.Text, maxPrice/NanosPerUnit)
	}
	p.Nanos = nanos
	return nil
}

// ParseNanos reads a non-negative decimal amount ("2.5", "0.075", "3",
// "1e-3") into nano-units exactly; more than nine decimals, a negative,
// NaN, Inf or an amount past int64 nano-units is an error.
func ParseNanos(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "eE") {
		// Exponent notation: through big decimal arithmetic would be
		// exact, but prices are not written so; refuse what a float could
		// misread rather than guess.
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f*NanosPerUnit > math.MaxInt64/2 {
			return 0, fmt.Errorf("%q is not an amount from 0 up", s)
		}
		n := math.Round(f * NanosPerUnit)
		if math.Abs(f*NanosPerUnit-n) > 1e-6*math.Max(1, n) {
			return 0, fmt.Errorf("%q has more than nine decimals", s)
		}
		return int64(n), nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	whole = strings.TrimPrefix(whole, "+")
	if whole == "" && frac == "" || strings.HasPrefix(whole, "-") {
		return 0, fmt.Errorf("%q is not an amount from 0 up", s)
	}
	if len(frac) > 9 {
		return 0, fmt.Errorf("%q has more than nine decimals", s)
	}
	var w, f uint64
	var err error
	if whole != "" {
		if w, err = strconv.ParseUint(whole, 10, 64); err != nil {
			return 0, fmt.Errorf("%q is not an amount from 0 up", s)
		}
	}
	if frac != "" {
		if f, err = strconv.ParseUint(frac, 10, 64); err != nil {
			return 0, fmt.Errorf("%q is not an amount from 0 up", s)
		}
		for range 9 - len(frac) {
			f *= 10
		}
	}
	if w > math.MaxInt64/NanosPerUnit-1 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(w)*NanosPerUnit + int64(f), nil
}

// FormatNanos renders nano-units as a decimal amount with 9 decimals.
func FormatNanos(n int64) string {
	sign := ""
	u := uint64(n)
	if n < 0 {
		sign, u = "-", uint64(-n)
	}
	return fmt.Sprintf("%s%d.%09d", sign, u/NanosPerUnit, u%NanosPerUnit)
}

// group is the rows of one match glob, by date.
type group struct {
	match string
	rows  []*Row // ValidFrom ascending
}

// Load reads and checks a price table, naming the row and key at fault.
func Load(file string) (*Table, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return t, nil
}

// Parse reads and checks a price table from its YAML.
func Parse(b []byte) (*Table, error) {
	var t Table
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, err
	}
	if t.Currency == "" {
		return nil, errors.New("currency: required (e.g. USD)")
	}
	var errs []error
	for i := range t.Models {
		r := &t.Models[i]
		r.where = fmt.Sprintf("models[%d] (%s)", i, r.Match)
		if r.Match == "" {
			errs = append(errs, fmt.Errorf("models[%d].match: required", i))
		} else if _, err := path.Match(r.Match, ""); err != nil {
			errs = append(errs, fmt.Errorf("models[%d].match %q: %w", i, r.Match, err))
		}
		errs = append(errs, r.compile()...)
	}
	if t.Default != nil {
		t.Default.where = "default"
		if t.Default.Match != "" || t.Default.ValidFrom != "" {
			errs = append(errs, errors.New("default: takes no match or valid_from"))
		}
		errs = append(errs, t.Default.compile()...)
	}
	for name := range t.Providers {
		if name == "" {
			errs = append(errs, errors.New("providers: an empty provider name"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// Group rows by glob, in the order each glob first appears; within a
	// glob, by date. Two rows of one glob from the same day are an error.
	index := map[string]int{}
	for i := range t.Models {
		r := &t.Models[i]
		gi, ok := index[r.Match]
		if !ok {
			gi = len(t.groups)
			index[r.Match] = gi
			t.groups = append(t.groups, group{match: r.Match})
		}
		t.groups[gi].rows = append(t.groups[gi].rows, r)
	}
	for _, g := range t.groups {
		sort.SliceStable(g.rows, func(i, j int) bool { return g.rows[i].from.Before(g.rows[j].from) })
		for i := 1; i < len(g.rows); i++ {
			if g.rows[i].from.Equal(g.rows[i-1].from) {
				errs = append(errs, fmt.Errorf("%s and %s: the same match in force from the same day", g.rows[i-1].where, g.rows[i].where))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &t, nil
}

// compile checks a row's date and prices and resolves them into nanos.
func (r *Row) compile() []error {
	var errs []error
	if r.ValidFrom != "" {
		d, err := time.Parse(time.DateOnly, r.ValidFrom)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.valid_from %q: not a YYYY-MM-DD date", r.where, r.ValidFrom))
		}
		r.from = d
	}
	set := func(key, name string, p Price) {
		i := slices.Index(TokenTypes[:], key)
		if i < 0 {
			errs = append(errs, fmt.Errorf("%s.per_million.%s: not one of %s", r.where, key, strings.Join(TokenTypes[:], ", ")))
			return
		}
		if err := p.parse(); err != nil {
			errs = append(errs, fmt.Errorf("%s.%s: %w", r.where, name, err))
			return
		}
		if r.priced[i] {
			errs = append(errs, fmt.Errorf("%s: %s given twice (per_million and its shorthand)", r.where, key))
		}
		r.nanos[i], r.priced[i] = p.Nanos, true
	}
	keys := make([]string, 0, len(r.PerMillion))
	for k := range r.PerMillion {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		set(k, "per_million."+k, r.PerMillion[k])
	}
	if r.InputPerMillion != nil {
		set(Input, "input_per_million", *r.InputPerMillion)
	}
	if r.OutputPerMillion != nil {
		set(Output, "output_per_million", *r.OutputPerMillion)
	}
	if !r.priced[0] && !r.priced[3] {
		errs = append(errs, fmt.Errorf("%s: prices neither input nor output tokens", r.where))
	}
	// Defaults: a cache read or write costs what input costs unless
	// priced (a table that says nothing about caching bills cached tokens
	// as input, never as free); reasoning costs what output costs.
	for i, from := range map[int]int{1: 0, 2: 0, 4: 3} {
		if !r.priced[i] {
			r.nanos[i] = r.nanos[from]
		}
	}
	if r.tier == "" {
		errs = append(errs, r.compileTiers()...)
	}
	return errs
}

// compileTiers makes a row of each of r's tiers.
func (r *Row) compileTiers() []error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(r.Tiers)) {
		spec := r.Tiers[name]
		where := r.where + ".tiers." + name
		switch {
		case !validTierName(name):
			errs = append(errs, fmt.Errorf("%s: a tier name is 1 to 32 of a-z, 0-9, _ and -", where))
			continue
		case slices.Contains(standardTiers, name):
			errs = append(errs, fmt.Errorf("%s: %q means the row's own prices; name the tier that differs", where, name))
			continue
		case (spec.Multiplier == nil) == (spec.PerMillion == nil):
			errs = append(errs, fmt.Errorf("%s: give either multiplier or per_million", where))
			continue
		}
		t := &Row{Match: r.Match, Provider: r.Provider, ValidFrom: r.ValidFrom, PerMillion: spec.PerMillion,
			from: r.from, tier: name, where: where}
		if spec.Multiplier != nil {
			m := *spec.Multiplier
			if err := m.parse(); err != nil || m.Nanos > maxMultiplier {
				errs = append(errs, fmt.Errorf("%s.multiplier %q: not a number from 0 to %d", where, m.Text, maxMultiplier/NanosPerUnit))
				continue
			}
			t.priced = r.priced
			for i, n := range r.nanos {
				t.nanos[i] = scale(n, m.Nanos)
			}
		} else if e := t.compile(); len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		if r.tiers == nil {
			r.tiers = make(map[string]*Row, len(r.Tiers))
		}
		r.tiers[name] = t
	}
	return errs
}

func validTierName(name string) bool {
	if name == "" || len(name) > 32 {
		return false
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// scale is nanos × multiplier (both in nano-units), rounded half to
// even: exact whenever the tier's price has nine decimals or fewer, as a
// half or a quarter of a listed price has. Both are bounded (maxPrice,
// maxMultiplier), so the product fits 128 bits and the quotient 64.
func scale(nanos, multiplier int64) int64 {
	hi, lo := bits.Mul64(uint64(nanos), uint64(multiplier))
	q, _ := divHalfEven(hi, lo, NanosPerUnit)
	return int64(q)
}

// DivHalfEven is n / d for a non-negative amount n and an even d,
// rounded half to even, as every amount here is rounded: for the reports
// that render nano-units in cents, or read cents into nano-units.
func DivHalfEven(n, d int64) int64 {
	q, _ := divHalfEven(0, uint64(n), uint64(d))
	return int64(q)
}

// divHalfEven is the 128-bit hi:lo divided by d (even), rounded half to
// even: the one rounding of every amount here. ok is false when the
// quotient does not fit 64 bits.
func divHalfEven(hi, lo, d uint64) (q uint64, ok bool) {
	if hi >= d {
		return 0, false
	}
	q, rem := bits.Div64(hi, lo, d)
	if rem > d/2 || rem == d/2 && q%2 == 1 {
		q++
	}
	return q, true
}

// ForTier is the row that prices a call of the named service tier: the
// tier's own row when r has one, else r (the standard prices).
func (r *Row) ForTier(name string) *Row {
	if t, ok := r.tiers[name]; ok {
		return t
	}
	return r
}

// ID names a row in a ledger: its glob and the day it took effect, and
// after a slash the service tier it prices ("gpt-4o*@2026-01-01/batch").
func (r *Row) ID() string {
	id := r.Match
	switch {
	case r.where == "default" || strings.HasPrefix(r.where, "default."):
		id = "default"
	case r.ValidFrom != "":
		id += "@" + r.ValidFrom
	}
	if r.tier != "" {
		id += "/" + r.tier
	}
	return id
}

// NanosPerMillion is the row's price of a token type, in nano-units per
// million tokens.
func (r *Row) NanosPerMillion(tokenType string) int64 {
	if i := slices.Index(TokenTypes[:], tokenType); i >= 0 {
		return r.nanos[i]
	}
	return 0
}

// Lookup finds the row that prices model at t: the first glob (in the
// table's order) that matches model and has a row in force at t, that
// glob's latest row from before t; else the default row.
func (t *Table) Lookup(model string, at time.Time) (*Row, bool) {
	for gi := range t.groups {
		if ok, _ := path.Match(t.groups[gi].match, model); ok {
			if r := t.groups[gi].at(at); r != nil {
				return r, true
			}
		}
	}
	if t.Default != nil {
		return t.Default, true
	}
	return nil, false
}

func (g *group) at(t time.Time) *Row {
	for i := len(g.rows) - 1; i >= 0; i-- {
		if !g.rows[i].from.After(t) {
			return g.rows[i]
		}
	}
	return nil
}

// Normalization of a provider, defaults filled in.
func (t *Table) normalization(provider string) (inputIncludesCache, outputIncludesReasoning bool) {
	n := t.Providers[provider]
	inputIncludesCache, outputIncludesReasoning = true, true
	if n.InputIncludesCache != nil {
		inputIncludesCache = *n.InputIncludesCache
	}
	if n.OutputIncludesReasoning != nil {
		outputIncludesReasoning = *n.OutputIncludesReasoning
	}
	return
}

// Usage is a call's token counts as reported (the GenAI conventions'
// gen_ai.usage.* attributes): non-negative, within the caller's limits.
type Usage struct {
	Input, CacheRead, CacheCreation, Output, Reasoning int64
}

// Billed is a call's tokens split by what each is billed as, by
// TokenTypes index.
type Billed [numTypes]int64

// Bill splits u by token type under the provider's normalisation, so that
// a cached token is billed once, at the cached price. It fails when the
// counts contradict each other (more cached than input tokens where input
// includes them, more reasoning than output tokens).
func (t *Table) Bill(provider string, u Usage) (Billed, error) {
	inputIncludesCache, outputIncludesReasoning := t.normalization(provider)
	var b Billed
	b[1], b[2] = u.CacheRead, u.CacheCreation
	b[0] = u.Input
	if inputIncludesCache {
		b[0] = u.Input - u.CacheRead - u.CacheCreation
		if b[0] < 0 {
			return Billed{}, fmt.Errorf("%d cached input tokens of %d input tokens", u.CacheRead+u.CacheCreation, u.Input)
		}
	}
	b[4] = u.Reasoning
	b[3] = u.Output
	if outputIncludesReasoning {
		b[3] = u.Output - u.Reasoning
		if b[3] < 0 {
			return Billed{}, fmt.Errorf("%d reasoning tokens of %d output tokens", u.Reasoning, u.Output)
		}
	}
	return b, nil
}

// Cost is the exact cost of b under r in nano-units: the sum of tokens ×
// price per million, divided by a million, rounded half to even once. ok
// is false when the cost does not fit int64 nano-units.
func (r *Row) Cost(b Billed) (nanos int64, ok bool) {
	var hi, lo uint64
	for i, n := range b {
		if n < 0 {
			return 0, false
		}
		h, l := bits.Mul64(uint64(n), uint64(r.nanos[i]))
		var c uint64
		lo, c = bits.Add64(lo, l, 0)
		hi, c = bits.Add64(hi, h, c)
		if c != 0 {
			return 0, false
		}
	}
	q, ok := divHalfEven(hi, lo, 1_000_000)
	if !ok || q > math.MaxInt64 {
		return 0, false
	}
	return int64(q), true
}

// maxCachedModels and maxCachedModelLen bound a Cache: model names come
// from headers, and a client that sends a new or a huge one with every
// call must not grow it. Longer names are looked up, not remembered.
const (
	maxCachedModels   = 1024
	maxCachedModelLen = 256
)

// Cache remembers which globs match each model name, so that a call does
// not run path.Match over every glob of the table (about 8% of the
// governance processor's time on fresh records). Safe for concurrent use:
// a sync.Map, read without a lock once a model is known (the few models
// a platform calls are read over and over), bounded by maxCachedModels.
type Cache struct {
	*Table
	groups sync.Map // model → []int
	n      atomic.Int64
}

// NewCache wraps t.
func NewCache(t *Table) *Cache {
	return &Cache{Table: t}
}

// Lookup is Table.Lookup, with the globs that match model remembered.
func (c *Cache) Lookup(model string, at time.Time) (*Row, bool) {
	var matching []int
	if v, found := c.groups.Load(model); found {
		matching = v.([]int)
	} else {
		matching = []int{}
		for gi := range c.Table.groups {
			if ok, _ := path.Match(c.Table.groups[gi].match, model); ok {
				matching = append(matching, gi)
			}
		}
		if len(model) <= maxCachedModelLen {
			if c.n.Add(1) > maxCachedModels {
				// Millions of distinct names (a hostile caller) cost a
				// clear per maxCachedModels of them, never memory.
				c.groups.Clear()
				c.n.Store(1)
			}
			// A copy: model points into the record, and a key would keep
			// the whole access log line alive.
			c.groups.Store(strings.Clone(model), matching)
		}
	}
	for _, gi := range matching {
		if r := c.Table.groups[gi].at(at); r != nil {
			return r, true
		}
	}
	if c.Default != nil {
		return c.Default, true
	}
	return nil, false
}

// Finding is something Check noticed about a table that loads.
type Finding struct {
	// Problem: a row that can never apply (the table is wrong); otherwise
	// a note (a gap a reader should know about).
	Problem bool
	Text    string
}

// Check looks for rows that can never price a call and for periods in
// which a glob prices nothing:
//
//   - a glob shadowed by an earlier one: a model the later glob names (its
//     text with wildcards filled in) is matched first by the earlier glob,
//     which has a row in force from the later glob's first day on. Glob
//     containment in general is not decided here; this finds the common
//     mistake of a general glob above a specific one.
//   - a glob whose first row starts on a date: before it, calls of its
//     models fall to the next glob, the default row or nothing.
func (t *Table) Check() []Finding {
	var out []Finding
	for gi, g := range t.groups {
		sample := strings.NewReplacer("*", "", "?", "x").Replace(g.match)
		first := g.rows[0]
		for gj := range gi {
			earlier := &t.groups[gj]
			if ok, _ := path.Match(earlier.match, sample); !ok {
				continue
			}
			if r := earlier.at(first.from); r != nil && !r.from.After(first.from) {
				out = append(out, Finding{Problem: true, Text: fmt.Sprintf(
					"%s is shadowed by %s: %q matches the earlier glob first, from %s on", first.where, earlier.rows[0].where, sample, dayOf(first))})
				break
			}
		}
		if first.ValidFrom != "" {
			next := "nothing (unpriced)"
			if t.Default != nil {
				next = "the default row"
			}
			for _, later := range t.groups[gi+1:] {
				if ok, _ := path.Match(later.match, sample); ok {
					next = later.rows[0].where
					break
				}
			}
			out = append(out, Finding{Text: fmt.Sprintf("%s has no row before %s: calls of %q before then are priced by %s", first.where, first.ValidFrom, sample, next)})
		}
	}
	return out
}

func dayOf(r *Row) string {
	if r.ValidFrom == "" {
		return "the start"
	}
	return r.ValidFrom
}

// Describe writes the row that prices model at t and its prices per
// million tokens, or that nothing does.
func (t *Table) Describe(model string, at time.Time) string {
	r, ok := t.Lookup(model, at)
	if !ok {
		return fmt.Sprintf("%s at %s: no row prices it (unpriced: its tokens are counted in genops_unpriced_tokens_total)", model, at.Format(time.DateOnly))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %s: %s (row %s", model, at.Format(time.DateOnly), r.ID(), r.where)
	if r.Provider != "" {
		fmt.Fprintf(&b, ", provider %s", r.Provider)
	}
	b.WriteString(")\n")
	for i, typ := range TokenTypes {
		note := ""
		if !r.priced[i] {
			note = " (not in the row: as " + map[int]string{1: Input, 2: Input, 4: Output}[i] + ")"
		}
		fmt.Fprintf(&b, "  %-12s %s %s per million tokens%s\n", typ, FormatNanos(r.nanos[i]), t.Currency, note)
	}
	for _, name := range slices.Sorted(maps.Keys(r.tiers)) {
		tr := r.tiers[name]
		fmt.Fprintf(&b, "  service tier %s (%s):", name, tr.ID())
		for i, typ := range TokenTypes {
			fmt.Fprintf(&b, " %s %s", typ, FormatNanos(tr.nanos[i]))
		}
		b.WriteString("\n")
	}
	return b.String()
}
