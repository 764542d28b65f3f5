package main

// The component list mirrors what the OpenTelemetry Collector Builder
// (ocb v0.158.0) generates for a manifest with the same components: one
// factory map per kind built with otelcol.MakeFactoryMap (which also
// registers each factory's deprecated type alias, e.g. "filelog" for
// "file_log") and a map from component type to its Go module, which the
// `components` subcommand prints. It is written by hand because the builder
// would also generate main.go, and ours differs only in the embedded default
// configuration.

import (
	"github.com/open-telemetry/opentelemetry-collector-contrib/connector/countconnector"
	"github.com/open-telemetry/opentelemetry-collector-contrib/connector/spanmetricsconnector"
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/loadbalancingexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusremotewriteexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/healthcheckextension"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/pprofextension"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/k8sattributesprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/resourceprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/transformprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/filelogreceiver"
	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/debugexporter"
	"go.opentelemetry.io/collector/exporter/otlpexporter"
	"go.opentelemetry.io/collector/exporter/otlphttpexporter"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/zpagesextension"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/batchprocessor"
	"go.opentelemetry.io/collector/processor/memorylimiterprocessor"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"

	"github.com/genops-mesh/otelcol-genops/connector/requestlogconnector"
	"github.com/genops-mesh/otelcol-genops/connector/sliconnector"
	"github.com/genops-mesh/otelcol-genops/exporter/costledgerexporter"
	"github.com/genops-mesh/otelcol-genops/extension/ingestlimitextension"
	"github.com/genops-mesh/otelcol-genops/processor/governanceprocessor"
	"github.com/genops-mesh/otelcol-genops/receiver/meshaccesslogreceiver"
	"github.com/genops-mesh/otelcol-genops/receiver/zipkinreceiver"
)

const (
	coreModule    = "go.opentelemetry.io/collector/"
	contribModule = "github.com/open-telemetry/opentelemetry-collector-contrib/"
	coreVersion   = " v0.158.0"
	thisModule    = "github.com/genops-mesh/otelcol-genops"
)

// module pairs a factory with the Go module that provides it, as the
// builder's manifest does.
type module[F component.Factory] struct {
	factory F
	path    string
}

func components() (otelcol.Factories, error) {
	factories := otelcol.Factories{Telemetry: otelconftelemetry.NewFactory()}
	var err error

	if factories.Extensions, factories.ExtensionModules, err = factoryMap(
		module[extension.Factory]{zpagesextension.NewFactory(), coreModule + "extension/zpagesextension" + coreVersion},
		module[extension.Factory]{healthcheckextension.NewFactory(), contribModule + "extension/healthcheckextension" + coreVersion},
		module[extension.Factory]{filestorage.NewFactory(), contribModule + "extension/storage" + coreVersion},
		// Authenticates ALS, OTLP and Zipkin senders by bearer token
		// (server side) and the agents' exporter to the gateway (client).
		module[extension.Factory]{bearertokenauthextension.NewFactory(), contribModule + "extension/bearertokenauthextension" + coreVersion},
		// v0.158.0 of pprofextension is not downloadable from the module
		// proxy this project builds with; v0.157.0 builds against v0.158.0.
		// Bounds how many ingest requests are decoded at once, across
		// every listener that names it in `middlewares`.
		module[extension.Factory]{ingestlimitextension.NewFactory(), thisModule},
		module[extension.Factory]{pprofextension.NewFactory(), contribModule + "extension/pprofextension v0.157.0"},
	); err != nil {
		return otelcol.Factories{}, err
	}

	if factories.Receivers, factories.ReceiverModules, err = factoryMap(
		module[receiver.Factory]{otlpreceiver.NewFactory(), coreModule + "receiver/otlpreceiver" + coreVersion},
		// `zipkin` decodes Zipkin v2 JSON straight into pdata, with contrib's
		// output (receiver/zipkinreceiver); `zipkin_contrib` is contrib's
		// receiver itself, for a config that wants to fall back to it.
		module[receiver.Factory]{zipkinreceiver.NewFactory(), thisModule + "/receiver/zipkinreceiver"},
		module[receiver.Factory]{zipkinreceiver.NewContribFactory(), contribModule + "receiver/zipkinreceiver" + coreVersion},
		module[receiver.Factory]{prometheusreceiver.NewFactory(), contribModule + "receiver/prometheusreceiver" + coreVersion},
		module[receiver.Factory]{filelogreceiver.NewFactory(), contribModule + "receiver/filelogreceiver" + coreVersion},
		module[receiver.Factory]{meshaccesslogreceiver.NewFactory(), thisModule + "/receiver/meshaccesslogreceiver"},
	); err != nil {
		return otelcol.Factories{}, err
	}

	if factories.Processors, factories.ProcessorModules, err = factoryMap(
		module[processor.Factory]{memorylimiterprocessor.NewFactory(), coreModule + "processor/memorylimiterprocessor" + coreVersion},
		module[processor.Factory]{batchprocessor.NewFactory(), coreModule + "processor/batchprocessor" + coreVersion},
		module[processor.Factory]{k8sattributesprocessor.NewFactory(), contribModule + "processor/k8sattributesprocessor" + coreVersion},
		module[processor.Factory]{resourceprocessor.NewFactory(), contribModule + "processor/resourceprocessor" + coreVersion},
		module[processor.Factory]{transformprocessor.NewFactory(), contribModule + "processor/transformprocessor" + coreVersion},
		module[processor.Factory]{governanceprocessor.NewFactory(), thisModule + "/processor/governanceprocessor"},
	); err != nil {
		return otelcol.Factories{}, err
	}

	if factories.Connectors, factories.ConnectorModules, err = factoryMap(
		module[connector.Factory]{spanmetricsconnector.NewFactory(), contribModule + "connector/spanmetricsconnector" + coreVersion},
		module[connector.Factory]{countconnector.NewFactory(), contribModule + "connector/countconnector" + coreVersion},
		module[connector.Factory]{sliconnector.NewFactory(), thisModule + "/connector/sliconnector"},
		// Tiered agents: a span's request as a log record, routed like
		// the access log records (docs/scaling.md).
		module[connector.Factory]{requestlogconnector.NewFactory(), thisModule + "/connector/requestlogconnector"},
	); err != nil {
		return otelcol.Factories{}, err
	}

	if factories.Exporters, factories.ExporterModules, err = factoryMap(
		module[exporter.Factory]{debugexporter.NewFactory(), coreModule + "exporter/debugexporter" + coreVersion},
		module[exporter.Factory]{otlpexporter.NewFactory(), coreModule + "exporter/otlpexporter" + coreVersion},
		module[exporter.Factory]{otlphttpexporter.NewFactory(), coreModule + "exporter/otlphttpexporter" + coreVersion},
		module[exporter.Factory]{prometheusexporter.NewFactory(), contribModule + "exporter/prometheusexporter" + coreVersion},
		// Tiered mode (docs/scaling.md): agents route governed records to
		// the gateway replica that owns their workload; gateways write
		// the metric contract into a scale-out Prometheus-compatible store.
		module[exporter.Factory]{loadbalancingexporter.NewFactory(), contribModule + "exporter/loadbalancingexporter" + coreVersion},
		module[exporter.Factory]{prometheusremotewriteexporter.NewFactory(), contribModule + "exporter/prometheusremotewriteexporter" + coreVersion},
		// One idempotent row per priced AI call (PostgreSQL or SQLite).
		module[exporter.Factory]{costledgerexporter.NewFactory(), thisModule},
	); err != nil {
		return otelcol.Factories{}, err
	}

	return factories, nil
}

// factoryMap builds one kind's factory map (with deprecated aliases) and its
// type-to-module map.
func factoryMap[F component.Factory](mods ...module[F]) (map[component.Type]F, map[component.Type]string, error) {
	fs := make([]F, len(mods))
	paths := make(map[component.Type]string, len(mods))
	for i, m := range mods {
		fs[i] = m.factory
		paths[m.factory.Type()] = m.path
	}
	factories, err := otelcol.MakeFactoryMap(fs...)
	return factories, paths, err
}
