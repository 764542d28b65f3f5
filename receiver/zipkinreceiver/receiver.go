package zipkinreceiver

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/zipkin/zipkinv1"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/zipkin/zipkinv2"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"
)

// The obsreport transports and answers of contrib's receiver.
const (
	transportV1Thrift = "http_v1_thrift"
	transportV1JSON   = "http_v1_json"
	transportV2JSON   = "http_v2_json"
	transportV2Proto  = "http_v2_proto"
)

var (
	errNextConsumerRespBody = []byte(`"Internal Server Error"`)
	errBadRequestRespBody   = []byte(`"Bad Request"`)
)

type zipkinReceiver struct {
	next     consumer.Traces
	config   *Config
	settings receiver.Settings
	obs      map[string]*receiverhelper.ObsReport

	// fast is false with parse_string_tags: then contrib decodes v2 JSON.
	fast  bool
	gates gates

	v1Thrift, v1JSON, v2JSON, v2Proto, v2ProtoDebug ptrace.Unmarshaler

	server     *http.Server
	shutdownWG sync.WaitGroup
}

func newReceiver(cfg *Config, next consumer.Traces, set receiver.Settings) (*zipkinReceiver, error) {
	obs := map[string]*receiverhelper.ObsReport{}
	for _, t := range []string{transportV1Thrift, transportV1JSON, transportV2JSON, transportV2Proto} {
		o, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{ReceiverID: set.ID, Transport: t, ReceiverCreateSettings: set})
		if err != nil {
			return nil, err
		}
		obs[t] = o
	}
	return &zipkinReceiver{
		next:         next,
		config:       cfg,
		settings:     set,
		obs:          obs,
		fast:         !cfg.ParseStringTags,
		gates:        currentGates(),
		v1Thrift:     zipkinv1.NewThriftTracesUnmarshaler(),
		v1JSON:       zipkinv1.NewJSONTracesUnmarshaler(cfg.ParseStringTags),
		v2JSON:       zipkinv2.NewJSONTracesUnmarshaler(cfg.ParseStringTags),
		v2Proto:      zipkinv2.NewProtobufTracesUnmarshaler(false, cfg.ParseStringTags),
		v2ProtoDebug: zipkinv2.NewProtobufTracesUnmarshaler(true, cfg.ParseStringTags),
	}, nil
}

func (zr *zipkinReceiver) Start(ctx context.Context, host component.Host) error {
	if err := zipkinv2.ValidateFeatureGates(); err != nil {
		zr.settings.Logger.Error("Invalid feature gate combination", zap.Error(err))
		componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		return err
	}
	var err error
	zr.server, err = zr.config.ServerConfig.ToServer(ctx, host.GetExtensions(), zr.settings.TelemetrySettings, zr)
	if err != nil {
		return err
	}
	var l net.Listener
	if l, err = zr.config.ServerConfig.ToListener(ctx); err != nil {
		return err
	}
	zr.shutdownWG.Go(func() {
		if err := zr.server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	})
	return nil
}

func (zr *zipkinReceiver) Shutdown(context.Context) error {
	var err error
	if zr.server != nil {
		err = zr.server.Close()
	}
	zr.shutdownWG.Wait()
	return err
}

// bodies are the request buffers: decoding copies every string out of
// them, so one is reused as soon as its request is decoded.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooled: a buffer grown past this by one large request is not kept.
const maxPooled = 4 << 20

func (zr *zipkinReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	asV1 := r.URL != nil && strings.Contains(r.URL.Path, "api/v1/spans")
	transport := transportOf(r, asV1)
	obs := zr.obs[transport]
	ctx = obs.StartTracesOp(ctx)

	// As contrib: a body that fails to decompress is read as it is, and a
	// read error (the body size limit) leaves what was read, which then
	// fails to decode.
	pr := decompressed(r)
	buf := bodies.Get().(*bytes.Buffer)
	buf.Reset()
	_, _ = buf.ReadFrom(pr)
	if c, ok := pr.(io.Closer); ok {
		_ = c.Close()
	}
	_ = r.Body.Close()

	td, err := zr.decode(transport, buf.Bytes(), r.Header)
	if buf.Cap() <= maxPooled {
		bodies.Put(buf)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}

	n := td.SpanCount()
	consumerErr := zr.next.ConsumeTraces(ctx, td)
	format := "zipkinV2"
	if asV1 {
		format = "zipkinV1"
	}
	obs.EndTracesOp(ctx, format, n, consumerErr)
	switch {
	case consumerErr == nil:
		w.WriteHeader(http.StatusAccepted)
	case consumererror.IsPermanent(consumerErr):
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(errBadRequestRespBody)
	default:
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(errNextConsumerRespBody)
	}
}

func (zr *zipkinReceiver) decode(transport string, body []byte, h http.Header) (td ptrace.Traces, err error) {
	// zipkin-go's model panics on some bodies (an annotation that is
	// null: a nil pointer in its UnmarshalJSON). Contrib's receiver leaves
	// that to net/http, which closes the connection and logs a stack trace
	// per request, a log any sender can fill; here it is a 400 like any
	// body that does not decode.
	defer func() {
		if r := recover(); r != nil {
			td, err = ptrace.Traces{}, fmt.Errorf("zipkin: the spans do not decode: %v", r)
		}
	}()
	switch transport {
	case transportV1Thrift:
		return zr.v1Thrift.UnmarshalTraces(body)
	case transportV1JSON:
		return zr.v1JSON.UnmarshalTraces(body)
	case transportV2Proto:
		if h.Get("X-B3-Flags") == "1" {
			return zr.v2ProtoDebug.UnmarshalTraces(body)
		}
		return zr.v2Proto.UnmarshalTraces(body)
	}
	if zr.fast {
		if td, ok := zr.gates.fastV2JSON(body); ok {
			return td, nil
		}
	}
	return zr.v2JSON.UnmarshalTraces(body)
}

// fastV2JSON decodes a v2 JSON body straight into pdata; false when the
// body is outside the fast decoder's subset (contrib's then decodes it).
func (g gates) fastV2JSON(body []byte) (ptrace.Traces, bool) {
	s := scanner{b: body}
	spans, err := s.spans()
	if err != nil {
		return ptrace.Traces{}, false
	}
	return g.toTraces(spans), true
}

func transportOf(r *http.Request, asV1 bool) string {
	if asV1 {
		if r.Header.Get("Content-Type") == "application/x-thrift" {
			return transportV1Thrift
		}
		return transportV1JSON
	}
	if r.Header.Get("Content-Type") == "application/x-protobuf" {
		return transportV2Proto
	}
	return transportV2JSON
}

// decompressed is contrib's processBodyIfNecessary.
func decompressed(r *http.Request) io.Reader {
	switch r.Header.Get("Content-Encoding") {
	case "gzip":
		if gz, err := gzip.NewReader(r.Body); err == nil {
			return gz
		}
	case "deflate", "zlib":
		if zl, err := zlib.NewReader(r.Body); err == nil {
			return zl
		}
	}
	return r.Body
}
