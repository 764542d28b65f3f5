package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// The README's 60-second tour, step by step, against the binary on its
// embedded default config (moved to free ports): the same example span file,
// the same URLs, the same series the README greps for.
func TestReadmeTour(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const (
		spanFile = "docs/examples/zipkin-span.json"
		post     = "--data @" + spanFile + " http://127.0.0.1:9411/api/v2/spans"
		grep     = "curl -s http://127.0.0.1:8889/metrics | grep '^genops_requests_total{'"
		health   = "curl -s http://127.0.0.1:13133/"
	)
	for _, step := range []string{health, post, grep, "make run", "make test"} {
		if !bytes.Contains(readme, []byte(step)) {
			t.Fatalf("README.md no longer contains the tour step %q: update this test with it", step)
		}
	}
	span, err := os.ReadFile(filepath.Join(root, spanFile))
	if err != nil {
		t.Fatal(err)
	}

	env := newDefaultConfigEnv(t)
	col := collectortest.Start(t, nil, env.vars(t)...)
	col.WaitHealthy(t, env.health)

	resp, err := http.Post("http://"+env.zipkin+"/api/v2/spans", "application/json", bytes.NewReader(span))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST %s: %s", spanFile, resp.Status)
	}

	col.Eventually(t, 30*time.Second, func() error {
		families, err := collectortest.Scrape("http://" + env.prometheus + "/metrics")
		if err != nil {
			return err
		}
		got := collectortest.Matching(collectortest.Samples(families["genops_requests_total"]), map[string]string{
			"service":            "support-bot",
			"genops_team":        "ml-platform",
			"genops_project":     "support-bot",
			"genops_customer_id": "unknown", // the governance processor's default
			"availability":       "good",
		})
		if len(got) != 1 || got[0].Value != 1 {
			return fmt.Errorf("want one support-bot call for ml-platform, got %v (families: %s)", got, collectortest.Names(families))
		}
		return nil
	})
	if !strings.Contains(col.Output(), "spans") {
		t.Errorf("the debug exporter printed nothing about the span:\n%s", col.Output())
	}
}
