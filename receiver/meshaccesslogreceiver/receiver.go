// Package meshaccesslogreceiver receives Envoy and Linkerd proxy access
// logs — tailed from kubelet pod log files or streamed by Envoy's gRPC
// access log service — as one structured log record per request.
//
// Parsing lives in internal/accesslog, shared with the governance
// processor; file tailing, rotation and checkpoints are contrib's stanza
// fileconsumer; the gRPC service is go-control-plane's generated stubs on a
// configgrpc server. This package wires them and counts what fails.
package meshaccesslogreceiver

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/adapter"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/genops-mesh/otelcol-genops/internal/accesslog"
	"github.com/genops-mesh/otelcol-genops/receiver/meshaccesslogreceiver/internal/metadata"
)

const (
	transportFile = "file"
	transportALS  = "als"
	scopeName     = "github.com/genops-mesh/otelcol-genops/receiver/meshaccesslogreceiver"
)

type meshReceiver struct {
	set       receiver.Settings
	cfg       *Config
	next      consumer.Logs
	parser    accesslog.Parser
	telemetry *metadata.TelemetryBuilder

	files   *fileTail
	als     *alsServer
	storage storage.Client

	shutdownOnce sync.Once
}

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*meshReceiver, error) {
	parser, err := cfg.parser()
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	r := &meshReceiver{set: set, cfg: cfg, next: next, parser: parser, telemetry: tb}
	if len(cfg.Include) > 0 {
		obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
			ReceiverID: set.ID, Transport: transportFile, ReceiverCreateSettings: set,
		})
		if err != nil {
			return nil, err
		}
		r.files = newFileTail(r, obs)
	}
	if cfg.ALS.HasValue() {
		obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
			ReceiverID: set.ID, Transport: "grpc", LongLivedCtx: true, ReceiverCreateSettings: set,
		})
		if err != nil {
			return nil, err
		}
		r.als = newALSServer(r, obs)
	}
	return r, nil
}

func (r *meshReceiver) Start(ctx context.Context, host component.Host) error {
	if r.files != nil {
		client, err := adapter.GetStorageClient(ctx, host, r.cfg.Storage, r.set.ID)
		if err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		r.storage = client
		if err := r.files.start(client); err != nil {
			return err
		}
	}
	if r.als != nil {
		if err := r.als.start(ctx, host, r.cfg.ALS.Get()); err != nil {
			return err
		}
	}
	return nil
}

func (r *meshReceiver) Shutdown(ctx context.Context) error {
	var errs []error
	r.shutdownOnce.Do(func() {
		if r.als != nil {
			r.als.stop()
		}
		if r.files != nil {
			errs = append(errs, r.files.stop())
		}
		if r.storage != nil {
			errs = append(errs, r.storage.Close(ctx))
		}
		r.telemetry.Shutdown()
	})
	return errors.Join(errs...)
}

// parseError counts a line or entry that did not parse (or lost a field).
func (r *meshReceiver) parseError(ctx context.Context, reason, transport string, err error) {
	r.telemetry.ReceiverMeshAccessLogParseErrors.Add(ctx, 1, metric.WithAttributes(
		attribute.String("receiver", r.set.ID.String()), attribute.String("reason", reason), attribute.String("transport", transport)))
	if ce := r.set.Logger.Check(zap.DebugLevel, "access log line not parsed"); ce != nil {
		ce.Write(zap.String("reason", reason), zap.String("transport", transport), zap.Error(err))
	}
}

// errorReason is the metric label of a parse or conversion error.
func errorReason(err error) string {
	var pe *accesslog.ParseError
	if errors.As(err, &pe) {
		return pe.Reason
	}
	var ve *accesslog.ValueError
	if errors.As(err, &ve) {
		return accesslog.ReasonValue
	}
	return "other"
}
