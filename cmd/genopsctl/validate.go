package main

import (
	"errors"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/genops-mesh/otelcol-genops/internal/slo"
)

func newValidate() *cobra.Command {
	var sloPath string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check an SLO file and print every problem with its line",
		Example: `  genopsctl validate --slo config/slo.yaml
  genopsctl validate --slo my-slos.yaml || echo "fix the lines above"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := slo.ParseFile(sloPath)
			var errs slo.Errors
			if errors.As(err, &errs) {
				for _, e := range errs {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s:%s\n", sloPath, e.Error())
				}
				return fmt.Errorf("%d problem(s) in %s", len(errs), sloPath)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d SLOs, valid\n", sloPath, len(f.SLOs))
			return nil
		},
	}
	cmd.Flags().StringVar(&sloPath, "slo", "config/slo.yaml", "SLO file")
	return cmd
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
