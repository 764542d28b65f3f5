package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/genops-mesh/otelcol-genops/internal/slo"
)

func newImport() *cobra.Command {
	var from, out string
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Convert Sloth (prometheus/v1) or OpenSLO (v1) SLOs over the GenOps metrics into an SLO file",
		Long: `Import reads Sloth prometheus/v1 specs or OpenSLO v1 SLO documents whose SLIs
are ratios of event counts over the GenOps metric contract (genops_requests_total
with availability="bad"; genops_request_duration_seconds _count and _bucket{le})
for one service (namespace="..." and service="..." matchers), and writes the
equivalent SLO file. Raw error-ratio queries, Sloth plugins, OpenSLO threshold
metrics, other metrics and calendar windows are refused with the reason.`,
		Example: `  genopsctl import --from sloth/support-bot.yaml > config/slo.yaml
  genopsctl import --from openslo.yaml --out config/slo.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fh, err := os.Open(from)
			if err != nil {
				return err
			}
			defer fh.Close()
			yml, f, err := slo.Import(fh)
			if err != nil {
				return err
			}
			if out == "" {
				_, err = cmd.OutOrStdout().Write(yml)
				return err
			}
			if err := os.WriteFile(out, yml, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d SLOs\n", out, len(f.SLOs))
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "Sloth or OpenSLO file")
	cmd.Flags().StringVar(&out, "out", "", "SLO file to write (default: standard output)")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}
