package requestlogconnector

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/genops-mesh/otelcol-genops/connector/requestlogconnector/internal/metadata"
)

// NewFactory returns the factory of the request_log connector.
func NewFactory() connector.Factory {
	return connector.NewFactory(
		metadata.Type,
		func() component.Config { return &Config{} },
		connector.WithTracesToLogs(createTracesToLogs, metadata.TracesToLogsStability),
	)
}

func createTracesToLogs(_ context.Context, _ connector.Settings, _ component.Config, next consumer.Logs) (connector.Traces, error) {
	return &requestLog{next: next}, nil
}
