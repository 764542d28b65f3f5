package e2e

import (
	"errors"
	"testing"
	"time"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/jaegertest"
)

// Traces reach a real Jaeger searchable by the governance attributes,
// whether the governance processor wrote a value on each span (what not
// every span of a resource shares: here the team and customer each span
// claims) or once on the resource (what all of them share: tier,
// environment, feature), which Jaeger keeps as process tags. Its tag
// search matches process and span tags alike, so a span must be found
// under its own values only: no span under the resource's default team.
func TestJaegerSearchByGovernanceAttributes(t *testing.T) {
	j := jaegertest.Start(t)
	health, otlp := collectortest.FreeAddr(t), collectortest.FreeAddr(t)
	env := map[string]string{"E2E_HEALTH": health, "E2E_STORAGE": t.TempDir(), "E2E_OTLP": otlp, "E2E_JAEGER": j.OTLP}
	col := collectortest.StartConfigs(t, env, "testdata/outage.yaml", "testdata/trust-every-claim.yaml", "testdata/no-telemetry.yaml")
	col.WaitHealthy(t, health)
	sendSpans(t, otlp, []call{
		{"ml-platform", "cust-1", 200, 50 * time.Millisecond},
		{"ml-platform", "cust-2", 200, 50 * time.Millisecond},
		{"search", "cust-1", 200, 50 * time.Millisecond},
	})
	for _, q := range []struct {
		tags map[string]string
		want int
	}{
		{map[string]string{"genops.customer_tier": "unknown"}, 3},
		{map[string]string{"genops.team": "ml-platform"}, 2},
		{map[string]string{"genops.team": "search", "genops.environment": "unknown"}, 1},
		{map[string]string{"genops.customer_id": "cust-1"}, 2},
		{map[string]string{"genops.team": "unknown"}, 0},
	} {
		col.Eventually(t, 30*time.Second, func() error {
			// Every span first (Jaeger stores them asynchronously), then
			// the query.
			if n, err := findTraces(j, nil); err != nil || n != 3 {
				return errors.Join(err, errors.New("the three spans are not all in Jaeger yet"))
			}
			n, err := findTraces(j, q.tags)
			if err != nil {
				return err
			}
			if n != q.want {
				t.Fatalf("tags %v: %d traces, want %d", q.tags, n, q.want)
			}
			return nil
		})
	}
}

// findTraces counts the traces of service support-bot that Jaeger finds
// with tags.
func findTraces(j *jaegertest.Jaeger, tags map[string]string) (int, error) {
	spans, err := findSpans(j, "support-bot", tags)
	traces := map[string]bool{}
	for _, trace := range spans {
		traces[trace] = true
	}
	return len(traces), err
}
