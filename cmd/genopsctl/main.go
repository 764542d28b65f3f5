// Command genopsctl generates, from one SLO file, what people look at and
// what pages them: Prometheus recording and burn-rate alert rules (plain
// rule files or PrometheusRule objects) with promtool unit tests; and
// validates SLO files.
package main

import (
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "genopsctl",
		Short:         "Governance telemetry for service meshes: generate SLO rules, check SLO files",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.AddCommand(newGenerate(), newValidate(), newImport(), newCoverage(), newTraces(), newPricing(), newChargeback(), newReconcile(), newDoctor())
	return root
}
