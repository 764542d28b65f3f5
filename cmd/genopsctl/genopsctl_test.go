package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/genops-mesh/otelcol-genops/internal/slo"
)

const generatedDir = "../../deploy/generated"

// The generated output for the example SLO file is committed under
// deploy/generated; this fails when it is stale. Regenerate with:
//
//	go run ./cmd/genopsctl generate --slo config/slo.yaml --out deploy/generated
func TestCommittedOutputIsCurrent(t *testing.T) {
	f, err := slo.ParseFile("../../config/slo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(f, formatK8s)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range sortedKeys(files) {
		have, err := os.ReadFile(filepath.Join(generatedDir, name))
		if err != nil || !bytes.Equal(have, files[name]) {
			t.Errorf("deploy/generated/%s is stale or missing (%v): run `go run ./cmd/genopsctl generate --slo config/slo.yaml --out deploy/generated`", name, err)
		}
	}
}

// promtool accepts the committed rules and passes their unit tests, and
// the PrometheusRule object carries the same groups.
func TestCommittedRulesWithPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not found: test/install-deps.sh installs Debian's prometheus package")
		}
		t.Skip("promtool not found (make test installs it)")
	}
	for _, args := range [][]string{
		{"check", "rules", "--lint=all", "--lint-fatal", filepath.Join(generatedDir, rulesFile)},
		{"test", "rules", filepath.Join(generatedDir, rulesTestFile)},
	} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRoot()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestValidateCommand(t *testing.T) {
	out, err := run(t, "validate", "--slo", "../../config/slo.yaml")
	if err != nil || !strings.Contains(out, "3 SLOs, valid") {
		t.Errorf("valid file: %v\n%s", err, out)
	}
	out, err = run(t, "validate", "--slo", "../../internal/slo/testdata/invalid.yaml")
	if err == nil || !strings.Contains(out, `invalid.yaml:line 2: slo "Bad Name": objective: 120 is not a percentage`) {
		t.Errorf("invalid file: %v\n%s", err, out)
	}
}

func TestGenerateCommand(t *testing.T) {
	dir := t.TempDir()
	out, err := run(t, "generate", "--slo", "../../config/slo.yaml", "--out", dir, "--format", "files")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, name := range []string{rulesFile, rulesTestFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, prometheusRuleFile)); err == nil {
		t.Error("--format files wrote a PrometheusRule")
	}
	if _, err := run(t, "generate", "--format", "helm"); err == nil {
		t.Error("an unknown format was accepted")
	}
	if out, _ := run(t, "generate", "--help"); !strings.Contains(out, "genopsctl generate --slo config/slo.yaml") {
		t.Errorf("--help has no example:\n%s", out)
	}
}

// The dashboard ConfigMaps decode strictly as Kubernetes ConfigMaps, carry
// the Grafana sidecar's label, and hold the dashboards' JSON.
func TestDashboardConfigMaps(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(generatedDir, dashboardsConfigMapFile))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(b), "\n---\n")
	if len(docs) != 5 {
		t.Fatalf("%d ConfigMaps, want 5 (cost, SLOs, traffic, policy, chargeback)", len(docs))
	}
	for _, doc := range docs {
		var cm corev1.ConfigMap
		if err := k8syaml.UnmarshalStrict([]byte(doc), &cm); err != nil {
			t.Fatalf("%v\n%s", err, doc[:min(len(doc), 300)])
		}
		if cm.Kind != "ConfigMap" || cm.Labels["grafana_dashboard"] != "1" || len(cm.Data) != 1 {
			t.Errorf("ConfigMap %s: %+v", cm.Name, cm.ObjectMeta)
		}
		for name, js := range cm.Data {
			var d map[string]any
			if err := json.Unmarshal([]byte(js), &d); err != nil || d["uid"] != cm.Name || name != cm.Name+".json" {
				t.Errorf("ConfigMap %s: %s does not hold its dashboard (%v)", cm.Name, name, err)
			}
		}
	}
}

func TestImportCommand(t *testing.T) {
	out, err := run(t, "import", "--from", "../../internal/slo/testdata/openslo.yaml")
	if err != nil || !strings.Contains(out, "name: checkout-availability") || !strings.Contains(out, "objective: 99.5") {
		t.Errorf("%v\n%s", err, out)
	}
	if _, err := run(t, "import"); err == nil {
		t.Error("import without --from succeeded")
	}
}
