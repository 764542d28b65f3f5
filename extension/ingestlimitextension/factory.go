package ingestlimitextension

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/genops-mesh/otelcol-genops/extension/ingestlimitextension/internal/metadata"
)

// NewFactory returns the factory of the ingest_limit extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, create, metadata.ExtensionStability)
}

// createDefaultConfig: four requests decoded at once (four 2 MiB Zipkin
// bodies decode into well under the chart's 512 MiB; see the chart
// README), a second of waiting, about what a sender's own timeout
// tolerates; sixteen bodies read at once (32 MiB of 2 MiB bodies), at most
// two per client address, each within ten seconds.
func createDefaultConfig() component.Config {
	return &Config{MaxConcurrentRequests: 4, MaxWait: time.Second,
		MaxConcurrentReads: 16, MaxReadsPerClient: 2, MaxReadTime: 10 * time.Second}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newLimiter(cfg.(*Config), set.TelemetrySettings)
}
