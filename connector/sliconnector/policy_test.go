package sliconnector

import (
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// istioLine is a line in Istio's default access log format (preset
// istio; Istio's documented format, with Envoy's documented response
// flags and response code details) for a status, flags and details.
func istioLine(status, flags, details string) string {
	return `[2026-11-20T10:00:00.000Z] "POST /v1/chat/completions HTTP/1.1" ` + status + ` ` + flags + ` ` + details +
		` - "-" 512 2048 3 - "-" "python-httpx/0.27.0" "req-1" "llm.ai:8080" "-" inbound|8080|| - 10.1.0.7:8080 10.1.0.66:40000 - default`
}

// Every policy, from the lines Envoy writes when each control acts:
// counted once per request in genops_policy_events_total with the team
// and customer of the request, the RBAC policy's name when Envoy gives
// it; an upstream's own 429 or 403 is no policy event; and availability
// is unchanged (rate limited and denied requests are not bad by default).
func TestPolicyEvents(t *testing.T) {
	lines := []string{
		istioLine("429", "RL", "local_rate_limited"),
		istioLine("429", "RL", "request_rate_limited"),
		istioLine("429", "-", "local_rate_limited"), // flag absent, the details say it
		istioLine("403", "-", "rbac_access_denied_matched_policy[ns[ai]-policy[deny-free-tier]-rule[0]]"),
		istioLine("403", "-", "rbac_access_denied_matched_policy[none]"),
		istioLine("403", "UAEX", "ext_authz_denied"),
		istioLine("503", "UO", "upstream_reset_before_response_started{overflow}"),
		istioLine("504", "UT", "response_timeout"),
		istioLine("503", "UF,URX", "upstream_reset_before_response_started{connection_failure}"),
		istioLine("503", "FI", "fault_filter_abort"),
		istioLine("200", "DI", "via_upstream"),
		istioLine("200", "-", "via_upstream"),
		istioLine("429", "-", "via_upstream"), // the upstream's own answer
		istioLine("403", "-", "via_upstream"),
	}
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	ld := logsFromLines(t, "istio", lines, map[string]any{"k8s.namespace.name": "ai", "app": "llm"},
		map[string]any{"genops.team": "ml-platform", "genops.customer_id": "cust-7"})
	if err := c.ConsumeLogs(t.Context(), ld); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range render(t, c, sink) {
		if strings.HasPrefix(l, "genops.policy.events") || (strings.HasPrefix(l, "genops.requests{") && strings.Contains(l, "4xx")) {
			got = append(got, l)
		}
	}
	compareGolden(t, "policy", got)
}

// Retries: the attempts Envoy logs (%UPSTREAM_REQUEST_ATTEMPT_COUNT%,
// a JSON number in istio_genops_json) add up per team and service;
// records without the field add nothing.
func TestUpstreamAttempts(t *testing.T) {
	line := func(code, flags string, attempts string) string {
		l := `{"start_time":"2026-11-20T10:00:00.000Z","method":"POST","path":"/v1/chat","protocol":"HTTP/2","response_code":` + code +
			`,"response_flags":"` + flags + `","duration":3,"authority":"llm.ai:8080","genops_team":"ml-platform"`
		if attempts != "" {
			l += `,"upstream_request_attempt_count":` + attempts
		}
		return l + "}"
	}
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	ld := logsFromLines(t, "istio_genops_json", []string{line("200", "-", "1"), line("200", "-", "3"), line("503", "URX", "5"), line("200", "-", "")},
		map[string]any{"k8s.namespace.name": "ai", "app": "llm"}, map[string]any{"genops.team": "ml-platform"})
	if err := c.ConsumeLogs(t.Context(), ld); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range render(t, c, sink) {
		if strings.HasPrefix(l, "genops.upstream.attempts") || strings.HasPrefix(l, "genops.policy.events") {
			got = append(got, l)
		}
	}
	want := []string{
		`genops.policy.events{app="llm",genops_team="ml-platform",namespace="ai",policy="retry_exhausted",reporter="destination",service="llm"} 1`,
		`genops.upstream.attempts{app="llm",genops_team="ml-platform",namespace="ai",reporter="destination",service="llm"} 9`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Each flag and detail alone, and the order when several apply.
func TestPolicyOf(t *testing.T) {
	for _, tc := range []struct{ flags, details, policy, name string }{
		{"-", "via_upstream", "", ""},
		{"", "", "", ""},
		{"RL", "", "rate_limited", ""},
		{"UAEX", "", "denied", ""},
		{"UO", "", "circuit_open", ""},
		{"URX", "", "retry_exhausted", ""},
		{"UT", "", "timeout", ""},
		{"FI", "", "fault_injected", ""},
		{"DI", "", "fault_injected", ""},
		{"UT,URX", "", "timeout", ""},
		{"RL,UO", "", "rate_limited", ""},
		{"RLSE", "", "", ""}, // the rate limit service failed: no limit acted
		{"-", "rbac_access_denied_matched_policy[p]", "denied", "p"},
		{"-", "ext_authz_denied", "denied", ""},
		{"-", "request_rate_limited", "rate_limited", ""},
		{"UF", "upstream_reset_before_response_started{connection_failure}", "", ""},
	} {
		if p, n := policyOf(tc.flags, tc.details); p != tc.policy || n != tc.name {
			t.Errorf("policyOf(%q, %q) = %q %q, want %q %q", tc.flags, tc.details, p, n, tc.policy, tc.name)
		}
	}
}

// Envoy's spans tag response_flags as its access log prints them: a
// circuit breaker's 503 on a span is a circuit_open event of the span's
// service and team.
func TestPolicyEventsFromSpans(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "llm")
	rs.Resource().Attributes().PutStr("k8s.namespace.name", "ai")
	for _, flags := range []string{"UO", "-", "RL"} {
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetKind(ptrace.SpanKindServer)
		s.Attributes().PutStr("http.status_code", "503")
		s.Attributes().PutStr("response_flags", flags)
		s.Attributes().PutStr("genops.team", "ml-platform")
	}
	if err := c.ConsumeTraces(t.Context(), td); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range render(t, c, sink) {
		if strings.HasPrefix(l, "genops.policy.events") {
			got = append(got, l)
		}
	}
	want := []string{
		`genops.policy.events{genops_team="ml-platform",namespace="ai",policy="circuit_open",reporter="destination",service="llm"} 1`,
		`genops.policy.events{genops_team="ml-platform",namespace="ai",policy="rate_limited",reporter="destination",service="llm"} 1`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
