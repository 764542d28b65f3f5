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
	ld := logsFromLines(t, "istio", lines, map[string]any{"k8s.namespace.name": "ai", "app": "llm", "service.name": "llm"},
		map[string]any{"genops.team": "ml-platform", "genops.customer_id": "cust-7"})
	if err := c.ConsumeLogs(t.Context(), sided(ld)); err != nil {
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

// Retries: the attempts Envoy logs (%UPSTREAM_REQUEST_ATTEMPT_COUNT%, a
// JSON number in istio_genops_json) count from the side that retries
// (the caller's outbound records; the server's sidecar logs each attempt
// as a request of its own), and so do the controls that act there (UO,
// UT, URX), whichever sides count as requests. A local reply logs 0
// attempts: no retry. Records without the field add nothing.
func TestUpstreamAttempts(t *testing.T) {
	line := func(code, flags string, attempts string, inbound bool) string {
		cluster := `outbound|8080||llm.ai.svc.cluster.local`
		if inbound {
			cluster = `inbound|8080||`
		}
		l := `{"start_time":"2026-11-20T10:00:00.000Z","method":"POST","path":"/v1/chat","protocol":"HTTP/2","response_code":` + code +
			`,"response_flags":"` + flags + `","duration":3,"authority":"llm.ai:8080","upstream_cluster":"` + cluster + `"`
		if attempts != "" {
			l += `,"upstream_request_attempt_count":` + attempts
		}
		return l + "}"
	}
	c, sink := newTestConnector(t, createDefaultConfig().(*Config)) // reporter: destination
	ld := logsFromLines(t, "istio_genops_json", []string{
		line("200", "-", "1", false), line("200", "-", "3", false), line("503", "URX", "5", false), line("200", "-", "", false),
		line("429", "RL", "0", false),                            // a local reply of the caller's sidecar
		line("200", "-", "1", true), line("200", "-", "1", true), // the server's records of attempts
	}, map[string]any{"k8s.namespace.name": "web", "app": "frontend"}, map[string]any{"genops.team": "web-team", "service.name": "llm.ai"})
	if err := c.ConsumeLogs(t.Context(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range render(t, c, sink) {
		if strings.HasPrefix(l, "genops.upstream") || strings.HasPrefix(l, "genops.policy.events") {
			got = append(got, l)
		}
	}
	want := []string{
		`genops.policy.events{app="frontend",genops_team="web-team",namespace="web",policy="rate_limited",reporter="source",service="llm.ai"} 1`,
		`genops.policy.events{app="frontend",genops_team="web-team",namespace="web",policy="retry_exhausted",reporter="source",service="llm.ai"} 1`,
		`genops.upstream.attempts{app="frontend",genops_team="web-team",namespace="web",reporter="source",service="llm.ai"} 9`,
		`genops.upstream.retries{app="frontend",genops_team="web-team",namespace="web",reporter="source",service="llm.ai"} 6`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A gateway's own answers (rate limited, denied at the edge) reach no
// destination sidecar: with the gateway's requests left to the
// destination (the default), they still count as policy events, of the
// gateway's service, from the side that called (reporter source).
func TestGatewayLocalReplies(t *testing.T) {
	c, sink := newTestConnector(t, createDefaultConfig().(*Config))
	ld := logsFromLines(t, "istio", []string{
		istioLine("429", "RL", "local_rate_limited"),
		istioLine("403", "-", "rbac_access_denied_matched_policy[ns[istio-system]-policy[edge]-rule[0]]"),
		istioLine("200", "-", "via_upstream"),
	}, map[string]any{"k8s.namespace.name": "istio-system", "app": "istio-ingressgateway", "service.name": "istio-ingressgateway"},
		map[string]any{"genops.team": "ml-platform", "genops.customer_id": "cust-9", "genops.side": "gateway"})
	if err := c.ConsumeLogs(t.Context(), sided(ld)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range render(t, c, sink) {
		if !strings.HasPrefix(l, "genops.policy.events") {
			if strings.HasPrefix(l, "genops.requests") {
				t.Errorf("a gateway record counted as a request: %s", l)
			}
			continue
		}
		got = append(got, l)
	}
	want := []string{
		`genops.policy.events{app="istio-ingressgateway",genops_customer_id="cust-9",genops_team="ml-platform",namespace="istio-system",policy="denied",policy_name="ns[istio-system]-policy[edge]-rule[0]",reporter="source",service="istio-ingressgateway"} 1`,
		`genops.policy.events{app="istio-ingressgateway",genops_customer_id="cust-9",genops_team="ml-platform",namespace="istio-system",policy="rate_limited",reporter="source",service="istio-ingressgateway"} 1`,
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
	if err := c.ConsumeTraces(t.Context(), sidedSpans(td)); err != nil {
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
