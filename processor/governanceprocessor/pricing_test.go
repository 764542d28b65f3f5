package governanceprocessor

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// priceTable: gpt-4o-mini changes price on 2026-11-15; o3 prices cached
// and reasoning tokens; claude is Anthropic's shape (cache beside input).
const priceTable = `currency: USD
providers:
  anthropic: {input_includes_cache: false}
models:
  - {match: "gpt-4o-mini*", provider: openai, per_million: {input: 0.15, cached_input: 0.075, output: 0.60}}
  - {match: "gpt-4o-mini*", provider: openai, valid_from: "2026-11-15", per_million: {input: 0.12, cached_input: 0.06, output: 0.48}}
  - {match: "o3*", provider: openai, per_million: {input: 2, cached_input: 0.5, output: 8, reasoning: 10},
     tiers: {flex: {multiplier: 0.5}, priority: {per_million: {input: 3.5, output: 14}}}}
  - {match: "claude-*sonnet*", provider: anthropic, per_million: {input: 3, cached_input: 0.30, cache_write: 3.75, output: 15}}
`

func pricingGovernance(t *testing.T, cfg *Config) (*governance, *componenttest.Telemetry) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "pricing.yaml")
	if err := os.WriteFile(file, []byte(priceTable), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.PricingFile = file
	tt := newTelemetry(t)
	return newTestGovernance(t, cfg, tt), tt
}

// aiCall is an access log record of an AI call with these attributes,
// at time at (zero: none).
func aiCall(at time.Time, attrs map[string]any) plog.Logs {
	ld := inbound("x", "", "", nil)
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	if !at.IsZero() {
		lr.SetTimestamp(pcommon.NewTimestampFromTime(at))
	}
	for k, v := range attrs {
		_ = lr.Attributes().PutEmpty(k).FromRaw(v)
	}
	return ld
}

func dayAt(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d.Add(12 * time.Hour)
}

// Cached and reasoning tokens are billed once each, at their own prices,
// in both providers' shapes; the cost is exact and names its row.
func TestPricingCachedAndReasoningTokens(t *testing.T) {
	g, _ := pricingGovernance(t, openConfig())
	// OpenAI: 10,000 input of which 8,000 cached, 5,000 output of which
	// 3,000 reasoning: 2,000×2 + 8,000×0.5 + 2,000×8 + 3,000×10 per M =
	// 0.004 + 0.004 + 0.016 + 0.030 = 0.054.
	got := attrsOf(t, g, aiCall(time.Time{}, map[string]any{"gen_ai.request.model": "o3-mini",
		"gen_ai.usage.input_tokens": 10_000, "gen_ai.usage.cache_read.input_tokens": 8_000,
		"gen_ai.usage.output_tokens": 5_000, "gen_ai.usage.reasoning.output_tokens": 3_000}))
	if got["genops.cost.total"] != 0.054 || got["genops.cost.price_row"] != "o3*" || got["gen_ai.provider.name"] != "openai" {
		t.Errorf("o3: %v %v %v", got["genops.cost.total"], got["genops.cost.price_row"], got["gen_ai.provider.name"])
	}
	// Anthropic: 2,000 input beside 8,000 cache reads and 1,000 writes,
	// 1,000 output: 0.006 + 0.0024 + 0.00375 + 0.015 = 0.02715.
	got = attrsOf(t, g, aiCall(time.Time{}, map[string]any{"gen_ai.response.model": "claude-3-7-sonnet", "gen_ai.provider.name": "anthropic",
		"gen_ai.usage.input_tokens": 2_000, "gen_ai.usage.cache_read.input_tokens": 8_000,
		"gen_ai.usage.cache_creation.input_tokens": 1_000, "gen_ai.usage.output_tokens": 1_000}))
	if got["genops.cost.total"] != 0.02715 {
		t.Errorf("sonnet: %v", got["genops.cost.total"])
	}
	// The same tokens from an AI workload's response headers.
	got = attrsOf(t, g, aiCall(time.Time{}, map[string]any{"http.response.header.x-genops-model": "o3-mini",
		"http.response.header.x-genops-tokens-input": "10000", "http.response.header.x-genops-tokens-cache-read": "8000",
		"http.response.header.x-genops-tokens-output": "5000", "http.response.header.x-genops-tokens-reasoning": "3000"}))
	if got["genops.cost.total"] != 0.054 || got["gen_ai.usage.cache_read.input_tokens"] != int64(8000) || got["gen_ai.usage.reasoning.output_tokens"] != int64(3000) {
		t.Errorf("from headers: %v", got)
	}
}

// A call served in a service tier is priced at the tier's prices, and its
// row says so; the tier comes from the workload's own
// openai.*.service_tier or an AI workload's header, never from another
// workload's header (counted).
func TestPricingServiceTier(t *testing.T) {
	call := func(extra map[string]any) map[string]any {
		a := map[string]any{"gen_ai.request.model": "o3-mini", "gen_ai.usage.input_tokens": 1_000_000}
		for k, v := range extra {
			a[k] = v
		}
		return a
	}
	g, _ := pricingGovernance(t, openConfig())
	for _, tc := range []struct {
		extra map[string]any
		cost  float64
		row   string
	}{
		{nil, 2, "o3*"},
		{map[string]any{"openai.response.service_tier": "flex"}, 1, "o3*/flex"},
		{map[string]any{"openai.request.service_tier": "Priority"}, 3.5, "o3*/priority"},
		// The response says what the call was served as.
		{map[string]any{"openai.request.service_tier": "priority", "openai.response.service_tier": "default"}, 2, "o3*"},
		{map[string]any{"openai.response.service_tier": "scale"}, 2, "o3*"}, // not in the row
		{map[string]any{"http.response.header.x-genops-service-tier": "flex"}, 1, "o3*/flex"},
	} {
		got := attrsOf(t, g, aiCall(time.Time{}, call(tc.extra)))
		if got["genops.cost.total"] != tc.cost || got["genops.cost.price_row"] != tc.row {
			t.Errorf("%v: %v %v, want %v %v", tc.extra, got["genops.cost.total"], got["genops.cost.price_row"], tc.cost, tc.row)
		}
	}
	cfg := openConfig()
	cfg.AIWorkloads = nil
	g, tt := pricingGovernance(t, cfg)
	for i, claim := range []map[string]any{{"http.response.header.x-genops-service-tier": "flex"}, {"openai.response.service_tier": "flex"}} {
		got := attrsOf(t, g, aiCall(time.Time{}, call(claim)))
		if got["genops.cost.total"] != 2.0 || rejected(t, tt, "service_tier", "untrusted") != int64(i+1) {
			t.Errorf("%v from a workload that may not state its cost: %v, counted %d", claim, got["genops.cost.total"], rejected(t, tt, "service_tier", "untrusted"))
		}
	}
}

// The priced row's provider decides how tokens are counted: a call that
// says its Claude model is OpenAI's (input including the cache) is not
// billed the cheaper way.
func TestPricingProviderClaim(t *testing.T) {
	cfg := openConfig()
	cfg.AIWorkloads = nil
	g, _ := pricingGovernance(t, cfg)
	usage := map[string]any{"gen_ai.request.model": "claude-3-7-sonnet", "gen_ai.usage.input_tokens": 1_000_000,
		"gen_ai.usage.cache_read.input_tokens": 1_000_000}
	honest := attrsOf(t, g, aiCall(time.Time{}, usage))
	usage["gen_ai.provider.name"] = "openai"
	claimed := attrsOf(t, g, aiCall(time.Time{}, usage))
	if honest["genops.cost.total"] != 3.3 || claimed["genops.cost.total"] != 3.3 {
		t.Errorf("honest %v, claiming openai %v; want 3.3 both", honest["genops.cost.total"], claimed["genops.cost.total"])
	}
}

// A stated cost in another currency than the table's is refused (never 1
// yen stored as 1 dollar) and the call is priced from the table.
func TestPricingStatedCurrency(t *testing.T) {
	g, tt := pricingGovernance(t, openConfig())
	got := attrsOf(t, g, aiCall(dayAt("2026-11-20"), map[string]any{"gen_ai.request.model": "gpt-4o-mini",
		"gen_ai.usage.input_tokens": 1_000_000, "genops.cost.total": 1.0, "genops.cost.currency": "JPY"}))
	if got["genops.cost.total"] != 0.12 || got["genops.cost.currency"] != "USD" || rejected(t, tt, "cost", "inconsistent") != 1 {
		t.Errorf("%v %v, counted %d", got["genops.cost.total"], got["genops.cost.currency"], rejected(t, tt, "cost", "inconsistent"))
	}
}

// The price in force at the call's time applies: a price change never
// rewrites the past. Over the network a call may not say it happened long
// ago (it would pick an old price): it is priced now, and counted.
func TestPricingEffectiveDate(t *testing.T) {
	g, tt := pricingGovernance(t, openConfig())
	call := map[string]any{"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1_000_000}
	before := attrsOf(t, g, aiCall(dayAt("2026-11-14"), call))
	after := attrsOf(t, g, aiCall(dayAt("2026-11-15"), call))
	if before["genops.cost.total"] != 0.15 || before["genops.cost.price_row"] != "gpt-4o-mini*" ||
		after["genops.cost.total"] != 0.12 || after["genops.cost.price_row"] != "gpt-4o-mini*@2026-11-15" {
		t.Errorf("before %v %v, after %v %v", before["genops.cost.total"], before["genops.cost.price_row"], after["genops.cost.total"], after["genops.cost.price_row"])
	}
	// Over the network (no cluster here: a connection from anywhere),
	// last year's time is not taken; an hour-old one is.
	net := attrsFrom(t, g, from("10.0.0.99"), aiCall(dayAt("2025-11-14"), call))
	if net["genops.cost.price_row"] != "gpt-4o-mini*@2026-11-15" || rejected(t, tt, "timestamp", "over_limit") != 1 {
		t.Errorf("a backdated network call: %v, counted %d", net["genops.cost.price_row"], rejected(t, tt, "timestamp", "over_limit"))
	}
	// The priced time is the billed time (genops.cost.time): the record's
	// own, or the arrival of a network call that claimed too old a one;
	// whatever time a record arrives with is replaced.
	if before["genops.cost.time"] != dayAt("2026-11-14").UnixNano() {
		t.Errorf("billed at %v, want the call's time", before["genops.cost.time"])
	}
	if at, _ := net["genops.cost.time"].(int64); time.Since(time.Unix(0, at)) > time.Minute {
		t.Errorf("a backdated network call billed at %v, want its arrival", time.Unix(0, at))
	}
	forged := attrsOf(t, g, aiCall(dayAt("2026-11-15"), map[string]any{"gen_ai.request.model": "gpt-4o-mini",
		"gen_ai.usage.input_tokens": 1_000_000, "genops.cost.time": dayAt("2020-01-01").UnixNano()}))
	if forged["genops.cost.time"] != dayAt("2026-11-15").UnixNano() {
		t.Errorf("a forged genops.cost.time was kept: %v", forged["genops.cost.time"])
	}
	// A time in the future is priced now, and counted past a minute of
	// clock skew (third outside attempt: it was not counted).
	future := attrsOf(t, g, aiCall(time.Now().Add(30*time.Minute), call))
	if at, _ := future["genops.cost.time"].(int64); time.Until(time.Unix(0, at)) > time.Minute || rejected(t, tt, "timestamp", "over_limit") != 2 {
		t.Errorf("a future call billed at %v, counted %d", time.Unix(0, at), rejected(t, tt, "timestamp", "over_limit"))
	}
	recent := attrsFrom(t, g, from("10.0.0.99"), aiCall(time.Now().Add(-30*time.Minute), call))
	if recent["genops.cost.total"] == nil || rejected(t, tt, "timestamp", "over_limit") != 2 {
		t.Errorf("a recent network call: %v", recent)
	}
}

// A model no row prices gets no cost (its tokens stay, for
// genops_unpriced_tokens_total); a forged cost or price row is not kept.
func TestPricingUnpricedAndForged(t *testing.T) {
	cfg := openConfig()
	cfg.AIWorkloads = nil // no workload may state its cost
	g, tt := pricingGovernance(t, cfg)
	got := attrsOf(t, g, aiCall(time.Time{}, map[string]any{"gen_ai.request.model": "my-llama", "gen_ai.usage.input_tokens": 500,
		"genops.cost.price_row": "gpt-4o-mini*", "genops.cost.total": 9.99, "genops.cost.currency": "EUR"}))
	for _, k := range []string{"genops.cost.total", "genops.cost.price_row", "genops.cost.currency"} {
		if got[k] != nil {
			t.Errorf("unpriced call kept %s=%v", k, got[k])
		}
	}
	if got["gen_ai.usage.input_tokens"] != int64(500) || rejected(t, tt, "cost", "untrusted") != 1 {
		t.Errorf("tokens %v, refused cost counted %d", got["gen_ai.usage.input_tokens"], rejected(t, tt, "cost", "untrusted"))
	}
	// Counts that contradict each other price nothing, and are counted.
	got = attrsOf(t, g, aiCall(time.Time{}, map[string]any{"gen_ai.request.model": "o3", "gen_ai.usage.input_tokens": 10,
		"gen_ai.usage.cache_read.input_tokens": 11}))
	if got["genops.cost.total"] != nil || rejected(t, tt, "tokens", "inconsistent") != 1 {
		t.Errorf("inconsistent counts priced: %v", got["genops.cost.total"])
	}
	// A cache count in a header from a workload that may not state tokens.
	got = attrsOf(t, g, aiCall(time.Time{}, map[string]any{"gen_ai.request.model": "o3", "gen_ai.usage.input_tokens": 1000,
		"http.response.header.x-genops-tokens-cache-read": "1000"}))
	if got["gen_ai.usage.cache_read.input_tokens"] != nil || got["genops.cost.total"] != 0.002 || rejected(t, tt, "cache_read_tokens", "untrusted") != 1 {
		t.Errorf("untrusted cache header: %v %v", got["gen_ai.usage.cache_read.input_tokens"], got["genops.cost.total"])
	}
}

// A call whose workload stated its cost (the GenOps SDK) is not priced a
// second time; cost_source says which wins, and a difference is counted.
func TestPricingStatedCost(t *testing.T) {
	attrs := map[string]any{"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1_000_000, "genops.cost.total": 0.5}
	for _, tc := range []struct {
		source string
		cost   float64
		row    string
	}{{CostSourceStated, 0.5, "stated"}, {CostSourceTable, 0.12, "gpt-4o-mini*@2026-11-15"}} {
		cfg := openConfig()
		cfg.CostSource = tc.source
		g, tt := pricingGovernance(t, cfg)
		got := attrsOf(t, g, aiCall(dayAt("2026-11-20"), attrs))
		if got["genops.cost.total"] != tc.cost || got["genops.cost.price_row"] != tc.row || rejected(t, tt, "cost", "conflict") != 1 {
			t.Errorf("cost_source %s: %v %v, conflicts %d", tc.source, got["genops.cost.total"], got["genops.cost.price_row"], rejected(t, tt, "cost", "conflict"))
		}
		// Agreeing numbers are no conflict.
		same := map[string]any{"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1_000_000, "genops.cost.total": 0.12}
		if got := attrsOf(t, g, aiCall(dayAt("2026-11-20"), same)); got["genops.cost.total"] != 0.12 || rejected(t, tt, "cost", "conflict") != 1 {
			t.Errorf("agreeing stated cost: %v", got)
		}
	}
}

func TestCostSourceValidated(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.CostSource = "both"
	if err := cfg.Validate(); err == nil {
		t.Error("cost_source both accepted")
	}
}

// The call-time bounds are inclusive: over the network a call exactly
// maxCallAge old keeps its time and one a nanosecond older is priced at
// its arrival, counted; a time exactly maxClockSkew ahead is not counted
// and one a nanosecond further is (both are priced at the arrival).
func TestCallTimeBounds(t *testing.T) {
	g, tt := pricingGovernance(t, openConfig())
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	g.now = func() time.Time { return now }
	call := map[string]any{"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1_000}
	billed := func(at time.Time) time.Time {
		got := attrsFrom(t, g, from("10.0.0.99"), aiCall(at, call))
		ns, _ := got["genops.cost.time"].(int64)
		return time.Unix(0, ns).UTC()
	}
	oldest := now.Add(-maxCallAge)
	if got := billed(oldest); !got.Equal(oldest) || rejected(t, tt, "timestamp", "over_limit") != 0 {
		t.Errorf("a call exactly %s old billed at %v (counted %d), want its own time", maxCallAge, got, rejected(t, tt, "timestamp", "over_limit"))
	}
	if got := billed(oldest.Add(-time.Nanosecond)); !got.Equal(now) || rejected(t, tt, "timestamp", "over_limit") != 1 {
		t.Errorf("a call older than %s billed at %v (counted %d), want its arrival", maxCallAge, got, rejected(t, tt, "timestamp", "over_limit"))
	}
	if got := billed(now.Add(maxClockSkew)); !got.Equal(now) || rejected(t, tt, "timestamp", "over_limit") != 1 {
		t.Errorf("a call %s ahead billed at %v (counted %d), want its arrival, not counted", maxClockSkew, got, rejected(t, tt, "timestamp", "over_limit"))
	}
	if got := billed(now.Add(maxClockSkew + time.Nanosecond)); !got.Equal(now) || rejected(t, tt, "timestamp", "over_limit") != 2 {
		t.Errorf("a call past %s ahead billed at %v (counted %d), want its arrival, counted", maxClockSkew, got, rejected(t, tt, "timestamp", "over_limit"))
	}
}
