package sliconnector

import (
	"context"
	"fmt"
	"strings"
	"testing"
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
		"envoy.duration_ms": 40, "server.address": "llm.ai.svc.cluster.local:8080", "k8s.namespace.name": "ai",
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
	if err := c.ConsumeLogs(context.Background(), ld); err != nil {
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
	c, _ := newTestConnector(t, cfg)
	ld := emptyLogs()
	for i := range maxCombos + 100 {
		genopsRecord(ld, map[string]any{"http.response.status_code": 200, "envoy.route_name": fmt.Sprintf("r%d", i%(maxCombos+50)), "genops.team": "t"})
	}
	if err := c.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	if n := c.combos.n; n != maxCombos {
		t.Errorf("%d combinations remembered, want %d", n, maxCombos)
	}
	total := 0.0
	c.requests.each(func(s *series) { total += s.sum })
	if total != maxCombos+100 {
		t.Errorf("counted %v requests, want %d", total, maxCombos+100)
	}
}

// read takes the lowest field of a key and writes a field below
// comboValues straight into that key position: every key must map to
// exactly one field, and the reporter position must be no field's.
func TestRequestFieldKeys(t *testing.T) {
	seen := map[string]int{}
	for f, keys := range requestFieldKeys {
		if f == ckReporter {
			t.Errorf("field %d is the reporter's key position", f)
		}
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
