package main

import (
	"github.com/spf13/cobra"
	"go.opentelemetry.io/collector/otelcol"
)

// newCommand is the collector's own command (run, validate, components,
// print-config, featuregate) with the embedded default configuration.
func newCommand() *cobra.Command {
	return otelcol.NewCommand(collectorSettings())
}
