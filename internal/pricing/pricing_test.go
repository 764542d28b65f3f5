package pricing

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

const table = `
currency: USD
providers:
  anthropic: {input_includes_cache: false}
models:
  - {match: "gpt-4o-mini*", provider: openai, valid_from: "2024-07-18", per_million: {input: 0.15, cached_input: 0.075, output: 0.60}}
  - {match: "gpt-4o-mini*", provider: openai, valid_from: "2026-11-15", per_million: {input: 0.12, cached_input: 0.06, output: 0.48}}
  - {match: "gpt-4o*", provider: openai, input_per_million: 2.50, output_per_million: 10}
  - {match: "o3*", provider: openai, per_million: {input: 2, cached_input: 0.5, output: 8, reasoning: 8}}
  - {match: "claude-*sonnet*", provider: anthropic, per_million: {input: 3, cached_input: 0.30, cache_write: 3.75, output: 15}}
  - {match: "late-*", provider: x, valid_from: "2026-01-01", input_per_million: 1, output_per_million: 1}
`

func mustParse(t *testing.T, s string) *Table {
	t.Helper()
	tb, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// The row in force at the call's time prices it: a price change applies
// from its day on and never rewrites the past.
func TestEffectiveDating(t *testing.T) {
	tb := mustParse(t, table)
	for _, tc := range []struct {
		model string
		at    string
		id    string
		ok    bool
	}{
		{"gpt-4o-mini-2024-07-18", "2025-03-01", "gpt-4o-mini*@2024-07-18", true},
		{"gpt-4o-mini", "2026-11-14", "gpt-4o-mini*@2024-07-18", true},
		{"gpt-4o-mini", "2026-11-15", "gpt-4o-mini*@2026-11-15", true},
		{"gpt-4o-mini", "2024-07-17", "gpt-4o*", true}, // before the mini rows: the next glob
		{"gpt-4o", "2020-01-01", "gpt-4o*", true},
		{"late-model", "2025-12-31", "", false}, // no row yet, no default: unpriced
		{"late-model", "2026-01-01", "late-*@2026-01-01", true},
		{"llama-3", "2026-01-01", "", false},
	} {
		r, ok := tb.Lookup(tc.model, day(tc.at))
		if ok != tc.ok || (ok && r.ID() != tc.id) {
			id := ""
			if r != nil {
				id = r.ID()
			}
			t.Errorf("%s at %s: %q %v, want %q %v", tc.model, tc.at, id, ok, tc.id, tc.ok)
		}
	}
	withDefault := mustParse(t, table+"default: {input_per_million: 1, output_per_million: 3}\n")
	if r, ok := withDefault.Lookup("llama-3", day("2026-01-01")); !ok || r.ID() != "default" {
		t.Errorf("an explicit default row prices what nothing matches: %v", ok)
	}
}

// Exact nano-unit cost: 1,000 input and 200 output tokens of gpt-4o-mini
// at 0.15 and 0.60 per million are 150,000 + 120,000 nanos; rounding is
// half to even, once per call.
func TestCostIsExact(t *testing.T) {
	tb := mustParse(t, table)
	r, _ := tb.Lookup("gpt-4o-mini", day("2025-01-01"))
	b, err := tb.Bill("openai", Usage{Input: 1000, Output: 200})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := r.Cost(b); !ok || c != 270_000 {
		t.Errorf("cost %d nanos, want 270000", c)
	}
	// One token at 0.15/M is 150 nanos exactly; at 0.0005/M one token is
	// half a nano, and 1.5 at 0.0015/M: each call rounds half to even.
	tiny := mustParse(t, "currency: USD\nmodels:\n  - {match: t, input_per_million: 0.0005, output_per_million: 0.0015}\n")
	tr, _ := tiny.Lookup("t", day("2025-01-01"))
	for _, tc := range []struct {
		in, out int64
		want    int64
	}{{1, 0, 0}, {3, 0, 2}, {0, 1, 2}, {1, 1, 2}, {5, 0, 2}, {7, 0, 4}} {
		if c, _ := tr.Cost(Billed{0: tc.in, 3: tc.out}); c != tc.want {
			t.Errorf("%d in, %d out: %d nanos, want %d (half to even)", tc.in, tc.out, c, tc.want)
		}
	}
	// The largest price and the largest counts do not overflow silently.
	huge := mustParse(t, "currency: USD\nmodels:\n  - {match: h, input_per_million: 1000000, output_per_million: 1000000}\n")
	hr, _ := huge.Lookup("h", day("2025-01-01"))
	if c, ok := hr.Cost(Billed{0: 10_000_000}); !ok || c != 10_000_000*NanosPerUnit {
		t.Errorf("10M tokens at 1M/M: %d %v", c, ok)
	}
	if _, ok := hr.Cost(Billed{0: math.MaxInt64, 3: math.MaxInt64}); ok {
		t.Error("an overflowing cost was accepted")
	}
	if _, ok := hr.Cost(Billed{0: -1}); ok {
		t.Error("a negative count was accepted")
	}
}

// A cached token is billed once, at the cached price, whether the provider
// counts it inside input_tokens (the GenAI conventions, OpenAI) or beside
// them (Anthropic); reasoning tokens are billed once, at their price.
func TestCachedAndReasoningTokens(t *testing.T) {
	tb := mustParse(t, table)
	at := day("2025-06-01")
	// OpenAI shape: 1,000 input of which 800 cached; 500 output of which
	// 300 reasoning.
	o3, _ := tb.Lookup("o3-mini", at)
	b, err := tb.Bill("openai", Usage{Input: 1000, CacheRead: 800, Output: 500, Reasoning: 300})
	if err != nil {
		t.Fatal(err)
	}
	if b != (Billed{200, 800, 0, 200, 300}) {
		t.Errorf("billed %v", b)
	}
	// 200×2 + 800×0.5 + 200×8 + 300×8 = 400+400+1600+2400 = 4800 per M.
	if c, _ := o3.Cost(b); c != 4_800_000 {
		t.Errorf("o3: %d nanos, want 4800000", c)
	}
	// Anthropic shape: input_tokens 200 beside 800 cache reads and 100
	// cache writes.
	sonnet, _ := tb.Lookup("claude-3-7-sonnet", at)
	b, err = tb.Bill("anthropic", Usage{Input: 200, CacheRead: 800, CacheCreation: 100, Output: 50})
	if err != nil {
		t.Fatal(err)
	}
	if b != (Billed{200, 800, 100, 50, 0}) {
		t.Errorf("billed %v", b)
	}
	// 200×3 + 800×0.30 + 100×3.75 + 50×15 = 600+240+375+750 = 1965 per M.
	if c, _ := sonnet.Cost(b); c != 1_965_000 {
		t.Errorf("sonnet: %d nanos, want 1965000", c)
	}
	// The same call in the convention's shape (input includes the cache)
	// under a provider without a rule costs the same.
	b2, err := tb.Bill("other", Usage{Input: 1100, CacheRead: 800, CacheCreation: 100, Output: 50})
	if err != nil || b2 != b {
		t.Errorf("convention shape billed %v %v, want %v", b2, err, b)
	}
	// A table silent on caching bills cached tokens as input, not free.
	gpt4o, _ := tb.Lookup("gpt-4o", at)
	if gpt4o.NanosPerMillion(CachedInput) != gpt4o.NanosPerMillion(Input) || gpt4o.NanosPerMillion(Reasoning) != gpt4o.NanosPerMillion(Output) {
		t.Error("unpriced cache and reasoning tokens must default to input and output prices")
	}
	// Counts that contradict each other are refused.
	if _, err := tb.Bill("openai", Usage{Input: 10, CacheRead: 11}); err == nil {
		t.Error("more cached than input tokens accepted")
	}
	if _, err := tb.Bill("openai", Usage{Output: 10, Reasoning: 11}); err == nil {
		t.Error("more reasoning than output tokens accepted")
	}
}

func TestParseRefusesBadTables(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"nan":          {"currency: USD\nmodels:\n  - {match: a, input_per_million: .nan, output_per_million: 1}\n", "not an amount"},
		"inf":          {"currency: USD\nmodels:\n  - {match: a, input_per_million: .inf, output_per_million: 1}\n", "not an amount"},
		"negative":     {"currency: USD\nmodels:\n  - {match: a, input_per_million: -1, output_per_million: 1}\n", "not an amount"},
		"absurd":       {"currency: USD\nmodels:\n  - {match: a, input_per_million: 2000000, output_per_million: 1}\n", "not a price from 0"},
		"string":       {"currency: USD\nmodels:\n  - {match: a, input_per_million: \"1\", output_per_million: 1}\n", "not a number"},
		"ten decimals": {"currency: USD\nmodels:\n  - {match: a, input_per_million: 0.0000000001, output_per_million: 1}\n", "nine decimals"},
		"default nan":  {"currency: USD\ndefault: {input_per_million: .nan, output_per_million: 1}\n", "not an amount"},
		"unknown key":  {"currency: USD\nmodels:\n  - {match: a, per_million: {inptu: 1}}\n", "inptu"},
		"twice":        {"currency: USD\nmodels:\n  - {match: a, input_per_million: 1, per_million: {input: 2}}\n", "given twice"},
		"no prices":    {"currency: USD\nmodels:\n  - {match: a, provider: x}\n", "prices neither"},
		"bad date":     {"currency: USD\nmodels:\n  - {match: a, valid_from: 2026-13-01, input_per_million: 1}\n", "valid_from"},
		"same day":     {"currency: USD\nmodels:\n  - {match: a, valid_from: 2026-01-01, input_per_million: 1}\n  - {match: a, valid_from: 2026-01-01, input_per_million: 2}\n", "same day"},
		"bad glob":     {"currency: USD\nmodels:\n  - {match: \"[\", input_per_million: 1}\n", "match"},
		"no currency":  {"models: []\n", "currency"},
		"tier both":    {"currency: USD\nmodels:\n  - {match: a, input_per_million: 1, tiers: {batch: {multiplier: 0.5, per_million: {input: 1}}}}\n", "either multiplier or per_million"},
		"tier empty":   {"currency: USD\nmodels:\n  - {match: a, input_per_million: 1, tiers: {batch: {}}}\n", "either multiplier or per_million"},
		"tier name":    {"currency: USD\nmodels:\n  - {match: a, input_per_million: 1, tiers: {Batch: {multiplier: 0.5}}}\n", "tier name"},
		"tier default": {"currency: USD\nmodels:\n  - {match: a, input_per_million: 1, tiers: {default: {multiplier: 0.5}}}\n", "own prices"},
		"tier absurd":  {"currency: USD\nmodels:\n  - {match: a, input_per_million: 1, tiers: {batch: {multiplier: 50}}}\n", "tiers.batch.multiplier"},
		"tier nan":     {"currency: USD\nmodels:\n  - {match: a, input_per_million: 1, tiers: {flex: {per_million: {output: .nan}}}}\n", "tiers.flex.per_million.output"},
		"unknown":      {"currency: USD\nmodel: []\n", "model"},
		// Every bad price is named by its row and key, all at once.
		"poisoned": {"currency: USD\nmodels:\n  - {match: \"a*\", input_per_million: .nan, output_per_million: 1}\n  - {match: \"b*\", input_per_million: 1, per_million: {output: -3}}\ndefault: {input_per_million: -.inf, output_per_million: 0}\n",
			"models[0] (a*).input_per_million: \".nan\""},
	} {
		_, err := Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, tc.want)
		}
	}
}

// A service tier prices a call at the tier's prices: a multiplier of
// every price of the row (exact: half of a listed price), or the tier's
// own prices with a row's defaults. A tier the row does not name, and
// the names that mean the standard tier, are priced at the row's own.
func TestServiceTiers(t *testing.T) {
	tb := mustParse(t, `
currency: USD
models:
  - {match: "gpt-4o-mini*", provider: openai, valid_from: "2024-07-18", per_million: {input: 0.15, cached_input: 0.075, output: 0.60},
     tiers: {batch: {multiplier: 0.5}, priority: {per_million: {input: 0.25, output: 1.00}}}}
  - {match: "odd*", per_million: {input: 0.000000003, output: 1}, tiers: {batch: {multiplier: 0.5}}}
default: {input_per_million: 1, output_per_million: 2, tiers: {batch: {multiplier: 0.5}}}
`)
	u := Billed{1_000_000, 1_000_000, 0, 1_000_000, 0} // a million of each: the cost is the sum of the prices
	for _, tc := range []struct {
		model, tier, id string
		nanos           int64
	}{
		{"gpt-4o-mini", "", "gpt-4o-mini*@2024-07-18", 150_000_000 + 75_000_000 + 600_000_000},
		{"gpt-4o-mini", "default", "gpt-4o-mini*@2024-07-18", 825_000_000},
		{"gpt-4o-mini", "flex", "gpt-4o-mini*@2024-07-18", 825_000_000}, // not in the row: standard prices
		{"gpt-4o-mini", "batch", "gpt-4o-mini*@2024-07-18/batch", 75_000_000 + 37_500_000 + 300_000_000},
		// Own prices: cached input not given, so as the tier's input.
		{"gpt-4o-mini", "priority", "gpt-4o-mini*@2024-07-18/priority", 250_000_000 + 250_000_000 + 1_000_000_000},
		// 3 nanos × 0.5 = 1.5: half to even, 2.
		{"odd-1", "batch", "odd*/batch", 2 + 2 + 500_000_000},
		{"llama", "batch", "default/batch", 500_000_000 + 500_000_000 + 1_000_000_000},
	} {
		r, ok := tb.Lookup(tc.model, day("2026-11-01"))
		if !ok {
			t.Fatalf("%s: unpriced", tc.model)
		}
		r = r.ForTier(tc.tier)
		if r.ID() != tc.id {
			t.Errorf("%s %q: row %s, want %s", tc.model, tc.tier, r.ID(), tc.id)
		}
		if n, _ := r.Cost(u); n != tc.nanos {
			t.Errorf("%s %q: %d nanos, want %d", tc.model, tc.tier, n, tc.nanos)
		}
	}
	if d := tb.Describe("gpt-4o-mini", day("2026-11-01")); !strings.Contains(d, "service tier batch (gpt-4o-mini*@2024-07-18/batch): input 0.075000000") {
		t.Errorf("Describe does not show the tiers:\n%s", d)
	}
}

func TestParseNanos(t *testing.T) {
	for s, want := range map[string]int64{"0": 0, "3": 3_000_000_000, "0.15": 150_000_000, "2.50": 2_500_000_000,
		"0.000000001": 1, "1e-3": 1_000_000, "+1.5": 1_500_000_000, ".5": 500_000_000} {
		if got, err := ParseNanos(s); err != nil || got != want {
			t.Errorf("%q: %d %v, want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "-0.1", "abc", "1.2.3", "NaN", "Inf", "1e400", "0.0000000001", "99999999999999999999"} {
		if _, err := ParseNanos(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if FormatNanos(1_965_000) != "0.001965000" || FormatNanos(-5) != "-0.000000005" || FormatNanos(12*NanosPerUnit) != "12.000000000" {
		t.Error("FormatNanos")
	}
}

func FuzzParseNanos(f *testing.F) {
	for _, s := range []string{"0", "0.15", "1e-3", "-1", ".nan", "99999999999999999999", "1.0000000005"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNanos(s)
		if err == nil && n < 0 {
			t.Fatalf("%q: negative %d", s, n)
		}
	})
}

// The shipped table loads, and prices what its comments promise.
func TestShippedTable(t *testing.T) {
	tb, err := Load(filepath.Join("..", "..", "config", "pricing.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, ok := tb.Lookup("gpt-4o-mini-2024-07-18", day("2026-11-01"))
	if !ok || r.Provider != "openai" {
		t.Fatalf("gpt-4o-mini: %v", ok)
	}
	if _, ok := tb.Lookup("my-self-hosted-llama", day("2026-11-01")); ok && tb.Default == nil {
		t.Error("an unknown model was priced without a default row")
	}
}

func TestErrorsNameRowAndKey(t *testing.T) {
	_, err := Parse([]byte(`currency: USD
models:
  - {match: "a*", input_per_million: .nan, output_per_million: 1}
  - {match: "b*", input_per_million: 1, per_million: {output: -3}}
  - {match: "c*", input_per_million: .inf, output_per_million: 1e300}
default: {input_per_million: -.inf, output_per_million: 0}
`))
	if err == nil {
		t.Fatal("a poisoned table loaded")
	}
	for _, want := range []string{
		"models[0] (a*).input_per_million", "models[1] (b*).per_million.output", "models[2] (c*).input_per_million",
		"models[2] (c*).output_per_million", "default.input_per_million",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q not in %v", want, err)
		}
	}
}

// The cache answers what the table answers, on first sight and after, and
// neither a stream of new model names nor an oversized one grows it past
// its bounds.
func TestCache(t *testing.T) {
	at := day("2026-11-20")
	for _, src := range []string{table, table + "default: {input_per_million: 1, output_per_million: 3}\n"} {
		tb := mustParse(t, src)
		c := NewCache(tb)
		for range 2 {
			for _, model := range []string{"gpt-4o-mini-2024-07-18", "gpt-4o", "claude-3-7-sonnet", "late-x", "my-own-llama", ""} {
				for _, when := range []time.Time{at, day("2024-07-17"), day("2025-12-31")} {
					row, ok := c.Lookup(model, when)
					wantRow, wantOK := tb.Lookup(model, when)
					if row != wantRow || ok != wantOK {
						t.Errorf("%q at %v: cache %v %v, table %v %v", model, when, row, ok, wantRow, wantOK)
					}
				}
			}
		}
		for i := range 3 * maxCachedModels {
			c.Lookup(fmt.Sprintf("hostile-%d", i), at)
			if n := cached(c); n > maxCachedModels {
				t.Fatalf("cache holds %d models", n)
			}
		}
		huge := "gpt-4o" + strings.Repeat("x", maxCachedModelLen)
		row, ok := c.Lookup(huge, at)
		if wantRow, wantOK := tb.Lookup(huge, at); row != wantRow || ok != wantOK {
			t.Errorf("oversized model: cache %v %v, table %v %v", row, ok, wantRow, wantOK)
		}
		if _, kept := c.groups.Load(huge); kept {
			t.Error("oversized model name remembered")
		}
	}
}

func TestCheck(t *testing.T) {
	tb := mustParse(t, `currency: USD
models:
  - {match: "gpt-4o*", input_per_million: 2.5, output_per_million: 10}
  - {match: "gpt-4o-mini*", input_per_million: 0.15, output_per_million: 0.6}
  - {match: "o3*", valid_from: "2025-01-31", input_per_million: 1.1, output_per_million: 4.4}
  - {match: "claude-*", input_per_million: 3, output_per_million: 15}
`)
	var problems, notes []string
	for _, f := range tb.Check() {
		if f.Problem {
			problems = append(problems, f.Text)
		} else {
			notes = append(notes, f.Text)
		}
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "models[1] (gpt-4o-mini*) is shadowed by models[0] (gpt-4o*)") {
		t.Errorf("problems: %q", problems)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "models[2] (o3*) has no row before 2025-01-31") || !strings.Contains(notes[0], "nothing (unpriced)") {
		t.Errorf("notes: %q", notes)
	}
	// The shipped table has no problem.
	shipped, err := Load(filepath.Join("..", "..", "config", "pricing.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range shipped.Check() {
		if f.Problem {
			t.Errorf("config/pricing.yaml: %s", f.Text)
		}
	}
	if d := tb.Describe("gpt-4o-2024-08-06", day("2026-01-01")); !strings.Contains(d, "gpt-4o* (row models[0] (gpt-4o*))") ||
		!strings.Contains(d, "cached_input 2.500000000 USD per million tokens (not in the row: as input)") {
		t.Errorf("describe:\n%s", d)
	}
}

// The example table in docs/pricing.md loads and means what the page says.
func TestDocsExample(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("..", "..", "docs", "pricing.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(page), "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml block in docs/pricing.md")
	}
	tb := mustParse(t, block)
	if r, _ := tb.Lookup("gpt-4o-mini", day("2026-11-14")); r.ID() != "gpt-4o-mini*" {
		t.Errorf("before the change: %s", r.ID())
	}
	if r, _ := tb.Lookup("gpt-4o-mini", day("2026-11-15")); r.ID() != "gpt-4o-mini*@2026-11-15" {
		t.Errorf("from the change: %s", r.ID())
	}
	if r, ok := tb.Lookup("my-llama", day("2026-11-15")); !ok || r.ID() != "default" {
		t.Error("the default row")
	}
	if r, _ := tb.Lookup("gpt-4o-mini", day("2026-11-15")); r.ForTier("batch").ID() != "gpt-4o-mini*@2026-11-15/batch" ||
		r.ForTier("batch").NanosPerMillion(Output) != 240_000_000 || r.ForTier("priority").NanosPerMillion(CachedInput) != 250_000_000 {
		t.Errorf("the tiers: %s", tb.Describe("gpt-4o-mini", day("2026-11-15")))
	}
	// The page's worked example: 10,000 input tokens of which 8,000
	// cached, input 2 and cached_input 0.5 per million, is 0.008 both ways.
	ex := mustParse(t, "currency: USD\nproviders: {anthropic: {input_includes_cache: false}}\nmodels:\n  - {match: m, per_million: {input: 2, cached_input: 0.5, output: 8}}\n")
	r, _ := ex.Lookup("m", day("2026-01-01"))
	for provider, u := range map[string]Usage{"openai": {Input: 10_000, CacheRead: 8_000}, "anthropic": {Input: 2_000, CacheRead: 8_000}} {
		b, err := ex.Bill(provider, u)
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := r.Cost(b); FormatNanos(c) != "0.008000000" {
			t.Errorf("%s: %s", provider, FormatNanos(c))
		}
	}
}

func cached(c *Cache) int {
	n := 0
	c.groups.Range(func(any, any) bool { n++; return true })
	return n
}

// The governance processor prices calls of concurrent batches with one
// cache: run with -race.
func TestCacheConcurrent(t *testing.T) {
	tb := mustParse(t, `currency: USD
models:
  - match: "gpt-4o*"
    input_per_million: 2.5
    output_per_million: 10
`)
	c := NewCache(tb)
	at := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 3 * maxCachedModels {
				model := fmt.Sprintf("gpt-4o-%d", (i*(w+1))%(2*maxCachedModels))
				if _, ok := c.Lookup(model, at); !ok {
					t.Errorf("%s not priced", model)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := cached(c); n > maxCachedModels {
		t.Errorf("cache holds %d models", n)
	}
}

// Amounts on each side of ParseNanos' bounds, in both notations.
func TestParseNanosBounds(t *testing.T) {
	for s, want := range map[string]int64{
		"1e-9": 1, "0e0": 0, "2.5e-6": 2500, "4e9": 4_000_000_000_000_000_000,
		"9223372035.999999999": 9_223_372_035_999_999_999, "0.000000001": 1, "0": 0,
	} {
		if got, err := ParseNanos(s); err != nil || got != want {
			t.Errorf("ParseNanos(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for s, want := range map[string]string{
		"5e9": "not an amount", "-1e-9": "not an amount", "1.5e-10": "more than nine decimals",
		"9223372036": "too large", "1.0000000001": "more than nine decimals",
	} {
		if _, err := ParseNanos(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseNanos(%q): %v, want %q", s, err, want)
		}
	}
	if got := FormatNanos(0); got != "0.000000000" {
		t.Errorf("FormatNanos(0) = %q", got)
	}
	if got := FormatNanos(-1_500_000_000); got != "-1.500000000" {
		t.Errorf("FormatNanos(-1.5) = %q", got)
	}
}

// Every amount is rounded half to even, once.
func TestDivHalfEven(t *testing.T) {
	for _, tc := range [][3]int64{{5, 2, 2}, {7, 2, 4}, {6, 4, 2}, {10, 4, 2}, {9, 4, 2}, {11, 4, 3}, {0, 2, 0}} {
		if got := DivHalfEven(tc[0], tc[1]); got != tc[2] {
			t.Errorf("DivHalfEven(%d, %d) = %d, want %d", tc[0], tc[1], got, tc[2])
		}
	}
	// A quotient that does not fit 64 bits is refused, not a panic.
	if _, ok := divHalfEven(4, 0, 4); ok {
		t.Error("hi = d: a 65-bit quotient was accepted")
	}
	if q, ok := divHalfEven(3, 0, 4); !ok || q != 3<<62 {
		t.Errorf("hi < d: %d %v", q, ok)
	}
}

// A tier's name and multiplier on each side of their bounds.
func TestTierBounds(t *testing.T) {
	row := func(tier string) string {
		return "currency: USD\nmodels:\n  - {match: a, input_per_million: 1, tiers: {" + tier + "}}\n"
	}
	for doc, ok := range map[string]bool{
		row("batch: {multiplier: 10}"):                       true,
		row("batch: {multiplier: 10.000000001}"):             false,
		row(strings.Repeat("a", 32) + ": {multiplier: 0.5}"): true,
		row(strings.Repeat("a", 33) + ": {multiplier: 0.5}"): false,
		row("z09_-: {multiplier: 0.5}"):                      true,
		row("tier/1: {multiplier: 0.5}"):                     false,
		row("\"tier:1\": {multiplier: 0.5}"):                 false,
		row("\"tier@\": {multiplier: 0.5}"):                  false,
		row("\"\": {multiplier: 0.5}"):                       false,
		row("flex: {per_million: {input: 0.5, output: 2}}"):  true,
	} {
		if _, err := Parse([]byte(doc)); (err == nil) != ok {
			t.Errorf("%s: %v, want ok=%v", doc, err, ok)
		}
	}
}

// Cached input tokens may be all the input, not more.
func TestCachedInputBound(t *testing.T) {
	tb := mustParse(t, "currency: USD\nmodels:\n  - {match: \"gpt-*\", provider: openai, input_per_million: 1, output_per_million: 1}\n")
	if _, err := tb.Bill("openai", Usage{Input: 100, CacheRead: 60, CacheCreation: 40}); err != nil {
		t.Errorf("all input cached: %v", err)
	}
	_, err := tb.Bill("openai", Usage{Input: 100, CacheRead: 100, CacheCreation: 50})
	if err == nil || !strings.Contains(err.Error(), "150 cached input tokens of 100 input tokens") {
		t.Errorf("more cached than input: %v", err)
	}
}

func TestDayOf(t *testing.T) {
	if got := dayOf(&Row{}); got != "the start" {
		t.Errorf("no valid_from: %q", got)
	}
	if got := dayOf(&Row{ValidFrom: "2025-01-01"}); got != "2025-01-01" {
		t.Errorf("valid_from: %q", got)
	}
}
