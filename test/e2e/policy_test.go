package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genops-mesh/otelcol-genops/dashboards/grafana"
	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// Policy enforcement through the built collector into a real Prometheus:
// Envoy access log lines (istio_genops_json, as deploy/mesh configures) of
// requests that a local rate limit, an RBAC policy, a circuit breaker, a
// timeout and exhausted retries acted on; the counters equal the lines,
// per customer, team and policy, and every query of the generated "Policy
// enforcement" dashboard returns data.
func TestPolicyEnforcement(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pods", "ai_llm-0_5b1c6d9e-1111-2222-3333-444455556666", "istio-proxy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Rate limits and RBAC act in the server's sidecar (inbound records);
	// circuit breakers, timeouts and retries in the caller's (outbound).
	line := func(team, customer string, code int, flags, details string, attempts int) string {
		cluster := "inbound|8080||"
		if strings.ContainsAny(flags, "OTX") || attempts > 1 { // UO, UT, URX, retried
			cluster = "outbound|8080||llm.ai.svc.cluster.local"
		}
		l := fmt.Sprintf(`{"start_time":"2026-11-20T10:00:00.000Z","method":"POST","path":"/v1/chat","protocol":"HTTP/2","response_code":%d,"response_flags":%q,"response_code_details":%q,"duration":3,"authority":"llm.ai:8080","upstream_cluster":%q,"genops_team":%q,"genops_customer_id":%q`,
			code, flags, details, cluster, team, customer)
		if attempts > 0 {
			l += `,"upstream_request_attempt_count":` + strconv.Itoa(attempts)
		}
		return "2026-11-20T10:00:00.000000000Z stdout F " + l + "}\n"
	}
	var text strings.Builder
	add := func(n int, l string) {
		for range n {
			text.WriteString(l)
		}
	}
	add(5, line("ml-platform", "cust-a", 429, "RL", "local_rate_limited", 0))
	add(15, line("ml-platform", "cust-a", 200, "-", "via_upstream", 1))
	add(3, line("search", "cust-b", 403, "-", "rbac_access_denied_matched_policy[ns[ai]-policy[deny-free]-rule[0]]", 0))
	add(2, line("search", "cust-b", 503, "UO", "upstream_reset_before_response_started{overflow}", 1))
	add(1, line("search", "cust-b", 504, "UT", "response_timeout", 1))
	add(2, line("search", "cust-b", 503, "UF,URX", "upstream_reset_before_response_started{connection_failure}", 3))
	add(2, line("search", "cust-b", 200, "-", "via_upstream", 2))
	add(1, line("search", "cust-b", 429, "-", "via_upstream", 1)) // the upstream's own 429
	if err := os.WriteFile(filepath.Join(dir, "0.log"), []byte(text.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	prom, health := collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	col := collectortest.StartConfigs(t, map[string]string{"E2E_HEALTH": health, "E2E_PROM": prom, "E2E_LOGS": filepath.Dir(filepath.Dir(dir))},
		"testdata/policy.yaml", "testdata/trust-every-claim.yaml", "testdata/no-telemetry.yaml")
	col.WaitHealthy(t, health)
	p := collectortest.StartPrometheus(t, []string{prom})

	value := func(q string) (map[string]float64, error) {
		r, err := p.Query(q)
		if err != nil {
			return nil, err
		}
		out := map[string]float64{}
		for _, s := range r {
			var keys []string
			for k, v := range s.Metric {
				keys = append(keys, k+"="+v)
			}
			sort.Strings(keys)
			f, _ := s.Float()
			out[strings.Join(keys, ",")] = f
		}
		return out, nil
	}
	want := map[string]map[string]float64{
		`sum by (genops_customer_id, genops_team) (genops_policy_events_total{policy="rate_limited"})`: {"genops_customer_id=cust-a,genops_team=ml-platform": 5},
		`sum by (genops_team, policy_name) (genops_policy_events_total{policy="denied"})`:              {"genops_team=search,policy_name=ns[ai]-policy[deny-free]-rule[0]": 3},
		`sum by (service, policy) (genops_policy_events_total{policy!~"rate_limited|denied"})`: {
			"policy=circuit_open,service=llm": 2, "policy=timeout,service=llm": 1, "policy=retry_exhausted,service=llm": 2},
		// attempts from the callers' records only: the UO, UT, URX and
		// retried lines (the server logs each attempt as a request)
		`sum by (genops_team) (genops_upstream_attempts_total)`: {"genops_team=search": 2 + 1 + 6 + 4},
		`sum by (genops_team) (genops_upstream_retries_total)`:  {"genops_team=search": 4 + 2},
		// requests: the server's records (reporter destination)
		`sum(genops_requests_total)`: {"": 5 + 15 + 3 + 1},
	}
	col.Eventually(t, 60*time.Second, func() error {
		for q, w := range want {
			got, err := value(q)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(w) {
				return fmt.Errorf("%s\n got %v\nwant %v", q, got, w)
			}
		}
		return nil
	})
	// The same requests again: the counters increase within the panels'
	// windows (increase() of a counter that has not moved is 0, and the
	// share panel divides by it).
	f, err := os.OpenFile(filepath.Join(dir, "0.log"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text.String()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	exprs := queriesOf(t, grafana.Policy)
	col.Eventually(t, 30*time.Second, func() error {
		for _, e := range exprs {
			r, err := p.Query(e)
			if err != nil {
				t.Fatalf("a dashboard query fails in Prometheus: %v", err)
			}
			if len(r) == 0 {
				return fmt.Errorf("no data yet for %s", e)
			}
		}
		return nil
	})
	t.Logf("%d policy dashboard queries returned data", len(exprs))
}
