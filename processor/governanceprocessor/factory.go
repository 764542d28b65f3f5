package governanceprocessor

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/genops-mesh/otelcol-genops/internal/k8smeta"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
	"github.com/genops-mesh/otelcol-genops/processor/governanceprocessor/internal/metadata"
)

// NewFactory returns the factory of the governance processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithLogs(createLogs, metadata.LogsStability),
		processor.WithTraces(createTraces, metadata.TracesStability),
		processor.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}

// Default validation follows the GenOps governance spec: kebab-case team
// and project names, customer ids of letters, digits, - and _, a fixed set
// of environments.
const (
	kebabCase       = `^[a-z0-9]+(-[a-z0-9]+)*$`
	customerPattern = `^[a-zA-Z0-9]([a-zA-Z0-9_-]*[a-zA-Z0-9])?$`
	codePattern     = `^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$`
)

// createDefaultConfig fails closed (docs/trust.md): labels beat claims,
// a header or span tag counts only when a trusted source sent the request
// (trusted_sources, empty here), no workload may state its own cost;
// headers and labels named as in ARCHITECTURE.md, no Kubernetes lookups.
func createDefaultConfig() component.Config {
	dim := func(pattern string, allow ...string) DimensionConfig {
		return DimensionConfig{Trust: TrustWhenSourceMatches, Pattern: pattern, Allow: allow, MaxLength: 128, Default: "unknown"}
	}
	return &Config{
		Sources: append([]string(nil), defaultOrder...),
		Limits:  LimitsConfig{MaxTokensPerRequest: 10_000_000, MaxCostPerRequest: 1000, MaxHostServices: 100},
		Gateways: GatewaysConfig{Workloads: []string{
			"istio-system/istio-ingressgateway", "istio-system/istio-eastwestgateway", "istio-system/istio-egressgateway",
		}},
		CostSource: CostSourceStated,
		Headers: map[string]string{
			DimTeam: semconv.HeaderTeam, DimProject: semconv.HeaderProject, DimCustomerID: semconv.HeaderCustomerID,
			DimCostCenter: semconv.HeaderCostCenter, DimCustomerTier: semconv.HeaderCustomerTier,
			DimEnvironment: semconv.HeaderEnvironment, DimFeature: semconv.HeaderFeature,
		},
		Labels: map[string]string{
			DimTeam: semconv.LabelTeam, DimProject: semconv.LabelProject, DimCostCenter: semconv.LabelCostCenter,
			DimCustomerTier: semconv.LabelCustomerTier,
		},
		Dimensions: map[string]DimensionConfig{
			DimTeam:         dim(kebabCase),
			DimProject:      dim(kebabCase),
			DimCustomerID:   dim(customerPattern),
			DimCostCenter:   dim(codePattern),
			DimCustomerTier: dim(kebabCase),
			DimEnvironment:  dim("", "production", "staging", "development", "test", "local"),
			DimFeature:      dim(codePattern),
		},
		Kubernetes: KubernetesConfig{Mode: KubernetesOff, SyncTimeout: 2 * time.Minute, DeleteGracePeriod: k8smeta.DefaultDeleteGracePeriod},
	}
}

var processorCapabilities = consumer.Capabilities{MutatesData: true}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	p, err := newGovernance(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		processorhelper.WithCapabilities(processorCapabilities), processorhelper.WithStart(p.start), processorhelper.WithShutdown(p.shutdown))
}

func createMetrics(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	p, err := newGovernance(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return processorhelper.NewMetrics(ctx, set, cfg, next, p.processMetrics,
		processorhelper.WithCapabilities(processorCapabilities), processorhelper.WithStart(p.start), processorhelper.WithShutdown(p.shutdown))
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	p, err := newGovernance(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(processorCapabilities), processorhelper.WithStart(p.start), processorhelper.WithShutdown(p.shutdown))
}
