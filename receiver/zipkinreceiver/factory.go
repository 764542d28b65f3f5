// Package zipkinreceiver is the distribution's `zipkin` receiver: contrib's
// Zipkin receiver (v0.158.0) with Zipkin v2 JSON decoded straight into
// pdata.
//
// Why a receiver of our own: Istio and Envoy sidecars report every hop as
// Zipkin v2 JSON, and in contrib's receiver decoding it was most of a
// gateway's CPU (encoding/json by reflection into zipkin-go's model, a map
// of tags per span copied once more, then the translation). Contrib has no
// option to replace its decoder, and no library decodes Zipkin JSON into
// pdata, so the v2 JSON decoder here is hand-written: a strict scanner over
// the body (json.go) and the translation rules of contrib's zipkinv2
// package applied to what it read (translate.go).
//
// Everything else is contrib's, unchanged: the configuration struct and
// its defaults (this factory's config is contrib's), the HTTP surface
// (any path; /api/v1/spans is v1; Content-Type and Content-Encoding
// handled alike; 202, 400 and 500 answered alike), the obsreport
// transports, and the decoding of v1 JSON, v1 Thrift and v2 protobuf,
// which call contrib's translators. A v2 JSON body the fast decoder
// cannot read exactly as encoding/json reads it into zipkin-go's model (a
// key that differs only in case, a repeated field, a null, a number out
// of range, a link or event encoded in tags, every malformed body) goes to
// contrib's translator too, which then decides what it means or which
// error it is. With parse_string_tags, all v2 JSON goes there.
//
// The output equals contrib's: TestDifferential compares the two on every
// Zipkin fixture and FuzzV2JSON on arbitrary bodies. Contrib's receiver
// itself is in the binary as `zipkin_contrib` (NewContribFactory): a
// config that names it instead of `zipkin` runs contrib's code.
package zipkinreceiver

import (
	"context"

	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/zipkinreceiver"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/genops-mesh/otelcol-genops/receiver/zipkinreceiver/internal/metadata"
)

// Config is contrib's: the same keys, defaults and validation.
type Config = zipkinreceiver.Config

var contrib = zipkinreceiver.NewFactory()

// NewFactory returns the `zipkin` receiver's factory.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, contrib.CreateDefaultConfig,
		receiver.WithTraces(createTraces, metadata.TracesStability))
}

// NewContribFactory is contrib's own Zipkin receiver under the type
// `zipkin_contrib`, the fallback a config can name instead of `zipkin`.
func NewContribFactory() receiver.Factory {
	return receiver.NewFactory(component.MustNewType("zipkin_contrib"), contrib.CreateDefaultConfig,
		receiver.WithTraces(func(ctx context.Context, set receiver.Settings, cfg component.Config, next consumer.Traces) (receiver.Traces, error) {
			// Contrib's factory checks that the id is of its type; its
			// telemetry then names the receiver zipkin/NAME.
			set.ID = component.NewIDWithName(contrib.Type(), set.ID.Name())
			return contrib.CreateTraces(ctx, set, cfg, next)
		}, contrib.TracesStability()))
}

func createTraces(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Traces) (receiver.Traces, error) {
	return newReceiver(cfg.(*Config), next, set)
}
