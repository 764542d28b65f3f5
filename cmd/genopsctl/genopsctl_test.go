package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
		{"check", "rules", filepath.Join(generatedDir, rulesFile)},
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
