// Command otelcol-genops is the OpenTelemetry Collector distribution of
// GenOps: governance telemetry (team, project, customer and cost attribution,
// SLIs, AI cost) for service meshes.
//
// Run with no flags it loads the configuration compiled in from
// config/default.yaml; --config replaces it, exactly as in any collector.
package main

import (
	"os"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/httpprovider"
	"go.opentelemetry.io/collector/confmap/provider/httpsprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/otelcol"

	"github.com/genops-mesh/otelcol-genops/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	// cobra has already printed the error ("Error: ...") to stderr.
	if err := newCommand().Execute(); err != nil {
		os.Exit(1)
	}
}

func collectorSettings() otelcol.CollectorSettings {
	return otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{
			Command:     "otelcol-genops",
			Description: "GenOps governance telemetry for service meshes (OpenTelemetry Collector distribution)",
			Version:     version,
		},
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				// Used only when no --config flag is given: the flag's
				// values replace this list.
				URIs: []string{"yaml:" + config.Default},
				ProviderFactories: []confmap.ProviderFactory{
					envprovider.NewFactory(),
					fileprovider.NewFactory(),
					httpprovider.NewFactory(),
					httpsprovider.NewFactory(),
					yamlprovider.NewFactory(),
				},
				DefaultScheme: "env",
			},
		},
	}
}
