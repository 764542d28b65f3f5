package meshaccesslogreceiver

import (
	"context"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/fileconsumer"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/genops-mesh/otelcol-genops/receiver/meshaccesslogreceiver/internal/metadata"
)

// NewFactory returns the factory of the mesh_access_log receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		createDefaultConfig,
		receiver.WithLogs(createLogsReceiver, metadata.LogsStability),
	)
}

// defaultALSEndpoint is where the gRPC access log service listens when
// `als:` is given without an endpoint (contrib's envoyals receiver uses the
// same port).
const defaultALSEndpoint = "localhost:19001"

// createDefaultConfig: Istio's default text format, kubelet wrapping
// detected per file, start at the end of files seen for the first time
// (a checkpoint, when storage is set, takes precedence), drop what does
// not parse (it is counted), no gRPC service.
func createDefaultConfig() component.Config {
	fc := fileconsumer.NewConfig()
	als := configgrpc.NewDefaultServerConfig()
	als.NetAddr.Endpoint = defaultALSEndpoint
	return &Config{
		ALS:                configoptional.Default(als),
		StartAt:            "end",
		PollInterval:       200 * time.Millisecond,
		MaxConcurrentFiles: fc.MaxConcurrentFiles,
		MaxLogSize:         fc.MaxLogSize,
		FingerprintSize:    fc.FingerprintSize,
		Unwrap:             UnwrapAuto,
		Format:             "istio",
		OnError:            OnErrorDrop,
	}
}

func createLogsReceiver(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(set, cfg.(*Config), next)
}
