package costledgerexporter

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/genops-mesh/otelcol-genops/exporter/costledgerexporter/internal/metadata"
)

// NewFactory returns the factory of the cost_ledger exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithLogs(createLogs, metadata.LogsStability),
		exporter.WithTraces(createTraces, metadata.TracesStability))
}

// createDefaultConfig: the destination side (as the sli connector counts),
// the collector's default queue (in memory: configure storage for a
// queue that survives a restart), retries with back-off for ten minutes.
func createDefaultConfig() component.Config {
	backoff := configretry.NewDefaultBackOffConfig()
	backoff.MaxElapsedTime = 0 // keep retrying: a row dropped is a call not billed
	return &Config{
		Reporter:      ReporterDestination,
		TimeoutConfig: exporterhelper.NewDefaultTimeoutConfig(),
		QueueConfig:   configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
		BackOffConfig: backoff,
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	l, err := newLedger(c, set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewLogs(ctx, set, cfg, l.pushLogs,
		exporterhelper.WithStart(l.start), exporterhelper.WithShutdown(l.shutdown),
		exporterhelper.WithTimeout(c.TimeoutConfig), exporterhelper.WithQueue(c.QueueConfig),
		exporterhelper.WithRetry(c.BackOffConfig))
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	c := cfg.(*Config)
	l, err := newLedger(c, set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewTraces(ctx, set, cfg, l.pushTraces,
		exporterhelper.WithStart(l.start), exporterhelper.WithShutdown(l.shutdown),
		exporterhelper.WithTimeout(c.TimeoutConfig), exporterhelper.WithQueue(c.QueueConfig),
		exporterhelper.WithRetry(c.BackOffConfig))
}
