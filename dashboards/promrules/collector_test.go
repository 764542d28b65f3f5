package promrules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The collector's alerts, run by promtool on the hand-written tests in
// testdata/collector-alerts.test.yaml: each fires on the failure it names
// and no other, and none fires on a healthy collector. Annotations are
// left out of the rules promtool sees (the tests would restate them);
// TestCollectorRunbooks checks them.
func TestCollectorAlerts(t *testing.T) {
	promtool := promtoolOrSkip(t)
	rules := Collector(CollectorOptions{})
	tests := runHandWritten(t, promtool, rules, "collector-rules.yaml", "collector-alerts.test.yaml")
	// Every alert is provoked there.
	for _, r := range rules.Groups[0].Rules {
		if !strings.Contains(string(tests), "alertname: "+r.Alert+"\n        exp_alerts:\n          - exp_labels") {
			t.Errorf("%s is never provoked in testdata/collector-alerts.test.yaml", r.Alert)
		}
	}
	// The full rules (with annotations) pass promtool's checks.
	full := filepath.Join(t.TempDir(), "full.yaml")
	if err := os.WriteFile(full, marshal(t, Collector(CollectorOptions{})), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", "--lint=all", "--lint-fatal", full).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
}

// Every collector alert links to its section of docs/operations.md, and
// the section exists.
func TestCollectorRunbooks(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Collector(CollectorOptions{}).Groups[0].Rules {
		if !strings.HasSuffix(r.Annotations["runbook_url"], "docs/operations.md#"+strings.ToLower(r.Alert)) {
			t.Errorf("%s: runbook_url %q", r.Alert, r.Annotations["runbook_url"])
		}
		if !strings.Contains(string(doc), "\n### "+r.Alert+"\n") {
			t.Errorf("docs/operations.md has no section \"### %s\"", r.Alert)
		}
		if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("%s: no summary or description", r.Alert)
		}
	}
}

// The opt-in policy alerts of an SLO (alerting.policy), run by promtool on
// the hand-written tests in testdata/policy-alerts.test.yaml; an SLO
// without them has neither alert.
func TestPolicyAlerts(t *testing.T) {
	promtool := promtoolOrSkip(t)
	f := mustParse(t, `slos:
  - name: availability
    service: llm
    namespace: ai
    objective: 99
    indicator: {availability: {}}
    alerting:
      policy: {rate_limited_share: 0.05, new_denial_source: true}
`)
	rules := Generate(f)
	names := map[string]bool{}
	for _, r := range rules.Groups[0].Rules {
		names[r.Alert] = true
	}
	if !names[RateLimitedAlert] || !names[NewDenialAlert] {
		t.Fatalf("alerts: %v", names)
	}
	runHandWritten(t, promtool, rules, "policy-rules.yaml", "policy-alerts.test.yaml")
	for _, g := range Generate(exampleFile(t)).Groups {
		for _, r := range g.Rules {
			if r.Alert == RateLimitedAlert || r.Alert == NewDenialAlert {
				t.Errorf("%s: %s without alerting.policy", g.Name, r.Alert)
			}
		}
	}
}

// The burn factors, windows and the zero-traffic guard, checked against
// numbers written by hand in testdata/literal-thresholds.test.yaml (the
// generated tests take their thresholds from Factor, so a wrong factor
// would pass them).
func TestLiteralThresholds(t *testing.T) {
	promtool := promtoolOrSkip(t)
	f := mustParse(t, "slos:\n  - {name: checkout-availability, service: checkout, namespace: shop, objective: 99.9, window: 30d, indicator: {availability: {}}}\n")
	runHandWritten(t, promtool, Generate(f), "literal-rules.yaml", "literal-thresholds.test.yaml")
}

// runHandWritten runs promtool on a hand-written test file of testdata
// (whose rule_files names rulesName) against rules without their
// annotations (the tests would restate them), and returns the test file.
func runHandWritten(t *testing.T, promtool string, rules RuleFile, rulesName, testFile string) []byte {
	t.Helper()
	for _, g := range rules.Groups {
		for i := range g.Rules {
			g.Rules[i].Annotations = nil
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, rulesName), marshal(t, rules), 0o644); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join("testdata", testFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), tests, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", "test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool test rules (testdata/%s): %v\n%s", testFile, err, out)
	}
	return tests
}
