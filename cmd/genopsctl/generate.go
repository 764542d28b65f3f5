package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/genops-mesh/otelcol-genops/dashboards/grafana"
	"github.com/genops-mesh/otelcol-genops/dashboards/kiali"
	"github.com/genops-mesh/otelcol-genops/dashboards/promrules"
	"github.com/genops-mesh/otelcol-genops/internal/slo"
)

// Output formats of generate.
const (
	formatFiles = "files"
	formatK8s   = "k8s"
)

// Paths under --out.
const (
	rulesFile               = "prometheus/slo-rules.yaml"
	rulesTestFile           = "prometheus/slo-rules.test.yaml"
	prometheusRuleFile      = "kubernetes/slo-prometheusrule.yaml"
	dashboardsConfigMapFile = "kubernetes/grafana-dashboards.yaml"
	kialiDashboardFile      = "kiali/genops-governance.yaml"
	kialiCRFile             = "kubernetes/kiali-custom-dashboards.yaml"
)

// buildDashboards builds the Grafana dashboards, in a stable order.
func buildDashboards(f *slo.File) ([]dashboard.Dashboard, error) {
	var out []dashboard.Dashboard
	for _, build := range []func() (dashboard.Dashboard, error){
		grafana.Cost, func() (dashboard.Dashboard, error) { return grafana.SLOs(f) }, grafana.Traffic, grafana.Chargeback,
	} {
		d, err := build()
		if err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

func newGenerate() *cobra.Command {
	var sloPath, out, format string
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate Prometheus SLO rules (and their promtool tests) and Grafana dashboards from an SLO file",
		Long: `Generate turns each SLO of the file into recording rules (error ratios over
5m, 30m, 1h, 2h, 6h, 1d, 3d and the SLO window, budget left, burn rate),
multi-window multi-burn-rate page and ticket alerts, and an alert for a
missing SLI source; and writes promtool unit tests that prove each alert fires
at its burn rate and not below it.

It also writes the Grafana dashboards (cost by team, service SLOs, mesh
traffic by team) as JSON, and the Kiali "GenOps governance" custom dashboard.

  --format files  prometheus/slo-rules.yaml, prometheus/slo-rules.test.yaml,
                  grafana/<uid>.json, kiali/genops-governance.yaml
  --format k8s    the same, plus kubernetes/slo-prometheusrule.yaml (a
                  monitoring.coreos.com/v1 PrometheusRule) and
                  kubernetes/grafana-dashboards.yaml (ConfigMaps labelled
                  grafana_dashboard: "1") and kubernetes/kiali-custom-dashboards.yaml
                  (the Kiali CR's spec.custom_dashboards)`,
		Example: `  genopsctl generate --slo config/slo.yaml --out deploy/generated
  genopsctl generate --slo slo.yaml --out out --format files
  promtool test rules out/prometheus/slo-rules.test.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != formatFiles && format != formatK8s {
				return fmt.Errorf("--format: %q is not one of files, k8s", format)
			}
			f, err := slo.ParseFile(sloPath)
			if err != nil {
				return err
			}
			files, err := Generate(f, format)
			if err != nil {
				return err
			}
			for _, name := range sortedKeys(files) {
				path := filepath.Join(out, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(path, files[name], 0o644); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), path)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&sloPath, "slo", "config/slo.yaml", "SLO file")
	cmd.Flags().StringVar(&out, "out", "generated", "output directory")
	cmd.Flags().StringVar(&format, "format", formatK8s, "files or k8s")
	return cmd
}

// Generate returns the generated files by path under the output
// directory. Generators return values; only this writes YAML.
func Generate(f *slo.File, format string) (map[string][]byte, error) {
	rules := promrules.Generate(f)
	files := map[string][]byte{}
	var err error
	if files[rulesFile], err = toYAML(header("Prometheus rules"), rules); err != nil {
		return nil, err
	}
	// The test file sits beside the rule file: promtool resolves
	// rule_files relative to it.
	tests := promrules.GenerateTests(f, filepath.Base(rulesFile))
	if files[rulesTestFile], err = toYAML(header("promtool unit tests (promtool test rules)"), tests); err != nil {
		return nil, err
	}
	dashboards, err := buildDashboards(f)
	if err != nil {
		return nil, err
	}
	var configMaps []map[string]any
	for _, d := range dashboards {
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return nil, err
		}
		name := "grafana/" + *d.Uid + ".json"
		files[name] = append(b, '\n')
		configMaps = append(configMaps, map[string]any{
			"apiVersion": "v1",
			"kind":       "ConfigMap",
			"metadata": map[string]any{
				"name":   *d.Uid,
				"labels": map[string]string{"grafana_dashboard": "1", "app.kubernetes.io/name": "otelcol-genops"},
			},
			"data": map[string]string{*d.Uid + ".json": string(b)},
		})
	}
	if files[kialiDashboardFile], err = toYAML(header("Kiali custom dashboard (spec.custom_dashboards entry); show it on a workload with the pod annotation kiali.io/dashboards: "+kiali.Name), kiali.Dashboards(f)); err != nil {
		return nil, err
	}
	if format == formatK8s {
		if files[kialiCRFile], err = toYAML(header("Kiali CR fragment: merge spec.custom_dashboards into your Kiali resource"), kiali.CR(f)); err != nil {
			return nil, err
		}
		var all bytes.Buffer
		all.WriteString(header("Grafana dashboard ConfigMaps (label grafana_dashboard: \"1\" for Grafana's sidecar)"))
		for i, cm := range configMaps {
			if i > 0 {
				all.WriteString("---\n")
			}
			b, err := toYAML("", cm)
			if err != nil {
				return nil, err
			}
			all.Write(b)
		}
		files[dashboardsConfigMapFile] = all.Bytes()
		obj := map[string]any{
			"apiVersion": "monitoring.coreos.com/v1",
			"kind":       "PrometheusRule",
			"metadata": map[string]any{
				"name":   "genops-slo",
				"labels": map[string]string{"app.kubernetes.io/name": "otelcol-genops", "app.kubernetes.io/component": "slo-rules"},
			},
			"spec": rules,
		}
		if files[prometheusRuleFile], err = toYAML(header("PrometheusRule"), obj); err != nil {
			return nil, err
		}
	}
	return files, nil
}

func header(what string) string {
	return "# " + what + " generated by `genopsctl generate` from the SLO file. Do not edit:\n# change the SLO file and generate again.\n"
}

func toYAML(head string, v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(head)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
