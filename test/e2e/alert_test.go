package e2e

import (
	"fmt"
	"testing"
	"time"
)

// Scenario "SLO alert": support-bot answers 2% of its requests with 503,
// 20× the error budget of its 99.9% availability SLO; in a real Prometheus
// running the generated rules, the page alert for that SLO fires (with no
// `for`: the 5-minute window confirms) and carries the team. Before the
// traffic, and for the SLO
// without traffic (checkout), no burn-rate alert is pending or firing.
func TestSLOPageAlertFires(t *testing.T) {
	otlp, col, p := startSpanPipeline(t)

	burnAlerts := `ALERTS{alertname=~"GenOpsSLOErrorBudgetBurn.*"}`
	// One evaluation with no traffic at all: nothing burns.
	col.Eventually(t, 30*time.Second, func() error {
		r, err := p.Query(`slo:objective:ratio`)
		if err != nil || len(r) == 0 {
			return fmt.Errorf("rules not evaluated yet (%v)", err)
		}
		return nil
	})
	if r, err := p.Query(burnAlerts); err != nil || len(r) != 0 {
		t.Fatalf("burn-rate alerts at zero traffic: %v %v", r, err)
	}

	// Batches of 100 requests, 2 of them failing, sent while waiting for
	// the alert (each check sends one batch; the ratio, not the rate,
	// decides the burn).
	batch := make([]call, 100)
	for i := range batch {
		batch[i] = call{"ml-platform", "cust-1", 200, 200 * time.Millisecond}
		if i < 2 {
			batch[i].status = 503
		}
	}
	last := time.Time{}
	// Firing at the first evaluation that sees the burn (no `for`).
	col.Eventually(t, 4*time.Minute, func() error {
		if time.Since(last) >= time.Second {
			sendSpans(t, otlp, batch)
			last = time.Now()
		}
		r, err := p.Query(`ALERTS{alertname="GenOpsSLOErrorBudgetBurnPage",alertstate="firing"}`)
		if err != nil {
			return err
		}
		if len(r) == 0 {
			pending, _ := p.Query(`ALERTS{alertname="GenOpsSLOErrorBudgetBurnPage",alertstate="pending"}`)
			return fmt.Errorf("page alert not firing yet (pending: %d)", len(pending))
		}
		for _, a := range r {
			if a.Metric["slo"] != "support-bot-availability" || a.Metric["team"] != "ml-platform" || a.Metric["severity"] != "page" {
				t.Fatalf("page alert with labels %v", a.Metric)
			}
		}
		return nil
	})
	r, err := p.Query(burnAlerts)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range r {
		if a.Metric["slo"] != "support-bot-availability" {
			t.Errorf("alert for an SLO without failing traffic: %v", a.Metric)
		}
	}
}
