package sliconnector

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/genops-mesh/otelcol-genops/connector/sliconnector/internal/seriesstore"
)

// Records of a known combination count through the cache exactly as the
// first one did through the series lookups; a record that differs only
// in what decides a series (response flags, status, tokens present)
// takes its own series; combinations folded by a cap are not remembered,
// and a flush empties the cache.
func TestComboCache(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Cardinality.Labels = map[string]int{"genops_customer_id": 2}
	c, sink := newTestConnector(t, cfg)
	ld := emptyLogs()
	base := map[string]any{
		"envoy.direction": "inbound", "http.response.status_code": 200, "envoy.response_flags": "-",
		"envoy.duration_ms": 40, "service.name": "llm", "k8s.namespace.name": "ai",
		"genops.team": "ml-platform", "genops.customer_id": "cust-0", "genops.cost.total": 0.5,
		"genops.cost.currency": "USD", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 10,
	}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for bk, bv := range base {
			m[bk] = bv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for range 5 {
		genopsRecord(ld, base)
	}
	genopsRecord(ld, with("envoy.response_flags", "UF"))           // bad, same status
	genopsRecord(ld, with("http.response.status_code", 201))       // same class, same series
	genopsRecord(ld, with("gen_ai.usage.input_tokens", nil))       // no tokens
	genopsRecord(ld, with("gen_ai.usage.output_tokens", int64(3))) // output tokens too
	genopsRecord(ld, with("genops.customer_id", "cust-1"))         // second customer: within the cap
	for i := range 3 {
		genopsRecord(ld, with("genops.customer_id", fmt.Sprintf("cust-x%d", i))) // folded
	}
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	// Known combinations: base, UF, 201, no tokens, output tokens, cust-1.
	if n := c.combos.n; n != 6 {
		t.Errorf("%d combinations remembered, want 6", n)
	}
	got := strings.Join(render(t, c, sink), "\n")
	for _, want := range []string{
		`genops.requests{availability="good",genops_customer_id="cust-0",genops_team="ml-platform",namespace="ai",reporter="destination",response_code_class="2xx",service="llm"} 8`,
		`genops.requests{availability="bad",genops_customer_id="cust-0",genops_team="ml-platform",namespace="ai",reporter="destination",response_code_class="2xx",service="llm"} 1`,
		`genops.requests{availability="good",genops_customer_id="__overflow__",genops_team="ml-platform",namespace="ai",reporter="destination",response_code_class="2xx",service="llm"} 3`,
		`genops.cost{currency="USD",genops_customer_id="cust-0",genops_team="ml-platform",model="gpt-4o",namespace="ai"} 4.5`,
		`genops.tokens{genops_customer_id="cust-0",genops_team="ml-platform",model="gpt-4o",namespace="ai",token_type="input"} 80`,
		`genops.tokens{genops_customer_id="cust-0",genops_team="ml-platform",model="gpt-4o",namespace="ai",token_type="output"} 3`,
		`genops.request.duration_count{genops_team="ml-platform",namespace="ai",reporter="destination",service="llm"} 13`,
		`genops.series.overflow{label="genops_customer_id",metric="genops.requests"} 3`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s", want)
		}
	}
	if t.Failed() {
		t.Log(got)
	}
	if n := c.combos.n; n != 0 {
		t.Errorf("%d combinations remembered after a flush", n)
	}
}

// The cache stops remembering at maxCombos; what it does not remember
// still counts.
func TestComboCacheBound(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Cardinality.MaxSeries = 2 * maxCombos // no fold: every combination could be remembered
	cfg.Cardinality.MaxSeriesPerNamespace = 0
	cfg.Cardinality.Labels = nil
	c, _ := newTestConnector(t, cfg)
	ld := emptyLogs()
	for i := range maxCombos + 100 {
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "envoy.route_name": fmt.Sprintf("r%d", i%(maxCombos+50)), "genops.team": "t"})
	}
	if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	if n := c.combos.n; n != maxCombos {
		t.Errorf("%d combinations remembered, want %d", n, maxCombos)
	}
	total := 0.0
	c.requests.Each(func(s *seriesstore.Series) { total += s.Sum() })
	if total != maxCombos+100 {
		t.Errorf("counted %v requests, want %d", total, maxCombos+100)
	}
}

// read takes the lowest field of a key and writes a field below
// comboValues straight into that key position: every key must map to
// exactly one field.
func TestRequestFieldKeys(t *testing.T) {
	seen := map[string]int{}
	for f, keys := range requestFieldKeys {
		for _, k := range keys {
			if g, dup := seen[k]; dup {
				t.Errorf("%q maps to fields %d and %d", k, g, f)
			}
			seen[k] = f
			if got := requestKeys.Fields(k); got != 1<<f {
				t.Errorf("%q: fields %b, want %b", k, got, uint64(1)<<f)
			}
		}
	}
}

// resourceLogs appends a resource with attrs and one record per entry of
// records to ld.
func resourceLogs(ld plog.Logs, attrs map[string]any, records ...map[string]any) {
	rl := ld.ResourceLogs().AppendEmpty()
	_ = rl.Resource().Attributes().FromRaw(attrs)
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, a := range records {
		_ = lrs.AppendEmpty().Attributes().FromRaw(a)
	}
}

// A combination is named by its resource's values and the record's own:
// records with the same attributes under different resources take their
// own series, a record's attribute overrides its resource's (and then
// differs from a record that does not), and every batch after the first
// counts through the cache what the first counted without it.
func TestComboCacheResources(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	rec := map[string]any{"envoy.direction": "inbound", "http.response.status_code": 200, "genops.team": "t", "envoy.route_name": "r"}
	moved := map[string]any{"envoy.direction": "inbound", "http.response.status_code": 200, "genops.team": "t", "envoy.route_name": "r", "k8s.namespace.name": "b"}
	// A pod label is no app to the connector (the governance processor
	// reads labels): named counts as rec does.
	named := map[string]any{"envoy.direction": "inbound", "http.response.status_code": 200, "genops.team": "t", "envoy.route_name": "r", "k8s.pod.label.app": "other"}
	renamed := map[string]any{"envoy.direction": "inbound", "http.response.status_code": 200, "genops.team": "t", "envoy.route_name": "r", "app": "other", "service.name": "other"}
	batch := func() plog.Logs {
		ld := plog.NewLogs()
		resourceLogs(ld, map[string]any{"k8s.namespace.name": "a", "app": "llm", "service.name": "llm"}, rec, rec, moved, named, renamed)
		resourceLogs(ld, map[string]any{"k8s.namespace.name": "b", "app": "llm", "service.name": "llm"}, rec)
		resourceLogs(ld, map[string]any{"k8s.namespace.name": "a", "app": "llm", "service.name": "llm", "k8s.pod.label.app": "other"}, rec, named)
		return ld
	}
	for range 3 {
		if err := c.ConsumeLogs(context.Background(), sided(batch())); err != nil {
			t.Fatal(err)
		}
	}
	// Resources: {a, llm} (twice, the second with a pod label, which
	// names nothing: one id) and {b, llm}. Combinations: rec (and named,
	// whose pod label names nothing), moved and renamed under the first;
	// rec under the second.
	if n := len(c.combos.resources); n != 2 {
		t.Errorf("%d resources remembered, want 2", n)
	}
	if n := c.combos.n; n != 4 {
		t.Errorf("%d combinations remembered, want 4", n)
	}
	got := render(t, c, sink)
	want := []string{ // per batch ×3
		// a/llm: rec ×2 and named of the first resource, rec and named of the third.
		`genops.requests{app="llm",availability="good",genops_team="t",namespace="a",reporter="destination",response_code_class="2xx",route="r",service="llm"} 15`,
		// b/llm: moved (a record of the first resource) and the second resource's rec.
		`genops.requests{app="llm",availability="good",genops_team="t",namespace="b",reporter="destination",response_code_class="2xx",route="r",service="llm"} 6`,
		// a/other: renamed.
		`genops.requests{app="other",availability="good",genops_team="t",namespace="a",reporter="destination",response_code_class="2xx",route="r",service="other"} 3`,
	}
	var requests []string
	for _, l := range got {
		if strings.HasPrefix(l, "genops.requests{") {
			requests = append(requests, l)
		}
	}
	if strings.Join(requests, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(requests, "\n"), strings.Join(want, "\n"))
	}
	if n := len(c.combos.resources); n != 0 {
		t.Errorf("%d resources remembered after a flush", n)
	}
}

// Keys are equal exactly when their resource, own positions, own values,
// status and flags are; values at the other positions (the resource's)
// are not compared, and equal keys hash alike.
func TestComboKeyEqual(t *testing.T) {
	base := func() comboKey {
		var k comboKey
		k.res, k.status, k.has = 3, 200, hasDuration
		k.set = 1<<ckTeam | 1<<ckRoute
		k.values[ckTeam], k.values[ckRoute], k.values[ckNamespace] = "t", "r", "ns"
		return k
	}
	for name, change := range map[string]func(*comboKey){
		"resource":        func(k *comboKey) { k.res = 4 },
		"own position":    func(k *comboKey) { k.set |= 1 << ckCustomer },
		"own value":       func(k *comboKey) { k.values[ckRoute] = "s" },
		"own value empty": func(k *comboKey) { k.values[ckTeam] = "" },
		"status":          func(k *comboKey) { k.status = 503 },
		"reporter":        func(k *comboKey) { k.has |= hasSourceReporter },
	} {
		a, b := base(), base()
		change(&b)
		if a.equal(&b) || b.equal(&a) {
			t.Errorf("%s: keys that differ are equal", name)
		}
	}
	a, b := base(), base()
	b.values[ckNamespace], b.values[ckApp] = "", "x" // not own: the resource's
	if !a.equal(&b) {
		t.Error("keys that differ only in the resource's values are not equal")
	}
	if a.hash() != b.hash() {
		t.Error("equal keys hash differently")
	}
}

// The cache stops naming resources at maxResources; the records of the
// resources it does not name still count.
func TestComboCacheResourceBound(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Cardinality.MaxSeries = 4 * maxResources // no fold
	c, _ := newTestConnector(t, cfg)
	ld := plog.NewLogs()
	const resources = maxResources + 100
	for i := range resources {
		resourceLogs(ld, map[string]any{"k8s.namespace.name": fmt.Sprintf("ns-%d", i)},
			map[string]any{"http.response.status_code": 200}, map[string]any{"http.response.status_code": 503})
	}
	for range 2 {
		if err := c.ConsumeLogs(context.Background(), sided(ld)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.combos.resources); n != maxResources {
		t.Errorf("%d resources remembered, want %d", n, maxResources)
	}
	if n := c.combos.n; n != maxCombos {
		t.Errorf("%d combinations remembered, want %d", n, maxCombos)
	}
	total := 0.0
	c.requests.Each(func(s *seriesstore.Series) { total += s.Sum() })
	if total != 2*2*resources {
		t.Errorf("counted %v requests, want %d", total, 2*2*resources)
	}
}

// A label value longer than max_value_length (here a 1 MiB service name
// on a record, as a 1 MiB Host header gives, and on a resource) becomes __overflow__ and is
// counted in genops_series_overflow_total; the record still counts, the
// records around it keep their own series, and neither a series nor the
// combination cache keeps the long value (nor 1 MiB response flags,
// which decide no label). With no limit it is kept.
func TestLongLabelValues(t *testing.T) {
	huge := strings.Repeat("h", 1<<20)
	batch := func() plog.Logs {
		ld := plog.NewLogs()
		ok := map[string]any{"envoy.direction": "inbound", "http.response.status_code": 200, "envoy.duration_ms": 5, "service.name": "llm", "genops.team": "t"}
		long := map[string]any{"envoy.direction": "inbound", "http.response.status_code": 200, "envoy.duration_ms": 5, "service.name": huge, "genops.team": "t"}
		// long flags decide no label: the record counts with ok's.
		flagged := maps.Clone(ok)
		flagged["envoy.response_flags"] = huge
		resourceLogs(ld, map[string]any{"k8s.namespace.name": "ai"}, ok, long, ok, flagged)
		unnamed := maps.Clone(ok) // the resource names its service
		delete(unnamed, "service.name")
		resourceLogs(ld, map[string]any{"k8s.namespace.name": "ai", "service.name": huge}, unnamed)
		return ld
	}
	longest := func(c *sliConnector) int {
		n := 0
		for _, f := range c.agg.Families() {
			f.Each(func(s *seriesstore.Series) {
				for _, v := range s.Values() {
					n = max(n, len(v))
				}
			})
		}
		for _, head := range c.combos.byHash {
			for cb := head; cb != nil; cb = cb.next {
				for _, v := range cb.key.values {
					n = max(n, len(v))
				}
			}
		}
		for values := range c.combos.resources {
			for _, v := range values {
				n = max(n, len(v))
			}
		}
		return n
	}

	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	for range 2 {
		if err := c.ConsumeLogs(context.Background(), sided(batch())); err != nil {
			t.Fatal(err)
		}
	}
	if n := longest(c); n > 256 {
		t.Errorf("a %d-byte value is kept", n)
	}
	if n := len(c.combos.resources); n != 1 {
		t.Errorf("%d resources remembered, want 1 (not the one with the long service name)", n)
	}
	got := strings.Join(render(t, c, sink), "\n")
	for _, want := range []string{
		`genops.requests{availability="good",genops_team="t",namespace="ai",reporter="destination",response_code_class="2xx",service="llm"} 6`,
		`genops.requests{availability="good",genops_team="t",namespace="ai",reporter="destination",response_code_class="2xx",service="__overflow__"} 4`,
		`genops.request.duration_count{genops_team="t",namespace="ai",reporter="destination",service="__overflow__"} 4`,
		`genops.series.overflow{label="service",metric="genops.requests"} 4`,
		`genops.series.overflow{label="service",metric="genops.request.duration"} 4`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s", want)
		}
	}
	if t.Failed() {
		t.Log(got)
	}

	cfg := createDefaultConfig().(*Config)
	cfg.Cardinality.MaxValueLength = 0
	c, _ = newTestConnector(t, cfg)
	if err := c.ConsumeLogs(context.Background(), sided(batch())); err != nil {
		t.Fatal(err)
	}
	if n := longest(c); n < len(huge) {
		t.Errorf("max_value_length 0: the longest value kept is %d bytes, want the %d-byte one", n, len(huge))
	}
}
