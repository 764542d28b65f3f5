package sliconnector

import (
	"context"
	"slices"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/genops-mesh/otelcol-genops/connector/sliconnector/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// NewFactory returns the factory of the sli connector.
func NewFactory() connector.Factory {
	return connector.NewFactory(
		metadata.Type,
		createDefaultConfig,
		connector.WithTracesToMetrics(createTracesToMetrics, metadata.TracesToMetricsStability),
		connector.WithLogsToMetrics(createLogsToMetrics, metadata.LogsToMetricsStability),
	)
}

// defaultBuckets are latency bucket bounds for request/response services,
// up to the minute that an LLM call can take.
var defaultBuckets = []time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second,
	2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute,
}

// createDefaultConfig: count the destination side only, the failure flags
// of ARCHITECTURE.md, 10,000 series per metric and 1,000 customer ids,
// exemplars on, series expire after 5 minutes, flush every 15 seconds.
func createDefaultConfig() component.Config {
	return &Config{
		Availability: AvailabilityConfig{FailureFlags: slices.Clone(semconv.FailureFlags)},
		Reporter:     ReporterDestination,
		Gateways:     GatewaysConfig{Count: GatewaySkip},
		Histogram:    HistogramConfig{Buckets: slices.Clone(defaultBuckets), Exponential: ExponentialConfig{Scale: 3}},
		Exemplars:    ExemplarsConfig{Enabled: true},
		Cardinality: CardinalityConfig{
			MaxSeries: 10_000, MaxSeriesPerNamespace: 2_500, MaxValueLength: 256,
			// Labels with values from requests get caps of their own,
			// counted per namespace, so that one sender cannot push
			// everyone else into __overflow__.
			Labels: map[string]int{
				semconv.LabelGenOpsCustomerID: 1_000, semconv.LabelService: 1_000, semconv.LabelRoute: 1_000, semconv.LabelApp: 1_000, semconv.LabelPolicyName: 100,
				semconv.LabelVersion: 1_000, semconv.LabelModel: 1_000, semconv.LabelProvider: 100, semconv.LabelCluster: 100,
			},
		},
		Expiry:        5 * time.Minute,
		FlushInterval: 15 * time.Second,
	}
}

func createTracesToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Traces, error) {
	return acquire(set, cfg.(*Config), next)
}

func createLogsToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Logs, error) {
	return acquire(set, cfg.(*Config), next)
}
