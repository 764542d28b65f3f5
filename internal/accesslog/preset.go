package accesslog

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// Parser is a compiled text or JSON access log format.
type Parser interface {
	// Parse splits one line into fields (reused across calls).
	Parse(line string, fields *Fields) error
	// WriteRecord writes parsed fields onto a log record.
	WriteRecord(fields *Fields, lr plog.LogRecord) error
}

// Encodings of access log lines.
const (
	EncodingText = "text"
	EncodingJSON = "json"
)

// preset is a named, well-known format. The strings are the defaults of
// the meshes that write them, as quoted in shared/fixtures/envoy-access-logs/FORMATS.md.
type preset struct {
	encoding  string
	text      string
	keys      map[string]string
	direction string
}

// IstioFormat is Istio's default TEXT access log format (Istio 1.24 and
// later; 1.9 to 1.23 wrote %UPSTREAM_CLUSTER% in place of
// %UPSTREAM_CLUSTER_RAW%, which renders the same and parses the same).
const IstioFormat = istioText + "\n"

const istioText = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%`

// IstioGenOpsFormat is IstioFormat with the three governance request
// headers a GenOps user adds first (team, customer, project); the full form
// deploy/mesh configures is GenOpsMeshFormat.
const IstioGenOpsFormat = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME% "%REQ(X-GENOPS-TEAM)%" "%REQ(X-GENOPS-CUSTOMER-ID)%" "%REQ(X-GENOPS-PROJECT)%"` + "\n"

// GenOpsMeshFormat is the format deploy/mesh configures in every mesh
// (Istio's meshConfig.accessLogFormat and OTel ALS provider, Consul's
// proxy-defaults): IstioFormat, then every x-genops-* request header and
// the response headers an AI gateway or model server sets, each quoted.
// Preset "istio_genops".
const GenOpsMeshFormat = istioText +
	` "%REQ(X-GENOPS-TEAM)%" "%REQ(X-GENOPS-PROJECT)%" "%REQ(X-GENOPS-CUSTOMER-ID)%" "%REQ(X-GENOPS-COST-CENTER)%"` +
	` "%REQ(X-GENOPS-CUSTOMER-TIER)%" "%REQ(X-GENOPS-ENVIRONMENT)%" "%REQ(X-GENOPS-FEATURE)%"` +
	` "%RESP(X-GENOPS-MODEL)%" "%RESP(X-GENOPS-PROVIDER)%" "%RESP(X-GENOPS-TOKENS-INPUT)%" "%RESP(X-GENOPS-TOKENS-OUTPUT)%" "%RESP(X-GENOPS-COST)%"` + "\n"

// EnvoyFormat is Envoy's own default format (no Istio).
const EnvoyFormat = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"` + "\n"

// LinkerdApacheFormat describes linkerd2-proxy's "apache" access log
// (config.linkerd.io/access-log: apache), which has no format string of its
// own: client address, client identity, "-", [timestamp], the request line
// with an absolute URI, and the status.
const LinkerdApacheFormat = `%DOWNSTREAM_REMOTE_ADDRESS% %LINKERD_CLIENT_ID% - [%START_TIME%] "%REQ(:METHOD)% %LINKERD_URI% %PROTOCOL%" %RESPONSE_CODE%`

// istioJSONKeys are the keys of Istio's default JSON access log
// (accessLogEncoding: JSON). Preset "istio_json".
var istioJSONKeys = map[string]string{
	"start_time":                        "%START_TIME%",
	"route_name":                        "%ROUTE_NAME%",
	"method":                            "%REQ(:METHOD)%",
	"path":                              "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
	"protocol":                          "%PROTOCOL%",
	"response_code":                     "%RESPONSE_CODE%",
	"response_flags":                    "%RESPONSE_FLAGS%",
	"response_code_details":             "%RESPONSE_CODE_DETAILS%",
	"connection_termination_details":    "%CONNECTION_TERMINATION_DETAILS%",
	"bytes_received":                    "%BYTES_RECEIVED%",
	"bytes_sent":                        "%BYTES_SENT%",
	"duration":                          "%DURATION%",
	"upstream_service_time":             "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
	"x_forwarded_for":                   "%REQ(X-FORWARDED-FOR)%",
	"user_agent":                        "%REQ(USER-AGENT)%",
	"request_id":                        "%REQ(X-REQUEST-ID)%",
	"authority":                         "%REQ(:AUTHORITY)%",
	"upstream_host":                     "%UPSTREAM_HOST%",
	"upstream_cluster":                  "%UPSTREAM_CLUSTER_RAW%",
	"upstream_local_address":            "%UPSTREAM_LOCAL_ADDRESS%",
	"downstream_local_address":          "%DOWNSTREAM_LOCAL_ADDRESS%",
	"downstream_remote_address":         "%DOWNSTREAM_REMOTE_ADDRESS%",
	"requested_server_name":             "%REQUESTED_SERVER_NAME%",
	"upstream_transport_failure_reason": "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
}

// GenOpsMeshJSONKeys are istioJSONKeys, the caller's mTLS identity and
// every x-genops-* request header and AI response header: the JSON access
// log deploy/mesh configures in Istio. JSON escapes every value, so no
// header can shift another field, as a quote can in a TEXT line.
// Preset "istio_genops_json".
var GenOpsMeshJSONKeys = func() map[string]string {
	keys := maps.Clone(istioJSONKeys)
	keys["downstream_peer_uri_san"] = "%DOWNSTREAM_PEER_URI_SAN%"
	// Retries cost (genops_upstream_attempts_total); a JSON key that an
	// older mesh config does not write is only absent.
	keys["upstream_request_attempt_count"] = "%UPSTREAM_REQUEST_ATTEMPT_COUNT%"
	// x-genops-customer-id is key genops_customer_id, %REQ(X-GENOPS-CUSTOMER-ID)%.
	add := func(operator string, headers ...string) {
		for _, h := range headers {
			key := "genops_" + strings.ReplaceAll(strings.TrimPrefix(h, "x-genops-"), "-", "_")
			keys[key] = "%" + operator + "(" + strings.ToUpper(h) + ")%"
		}
	}
	add("REQ", semconv.HeaderTeam, semconv.HeaderProject, semconv.HeaderCustomerID, semconv.HeaderCostCenter,
		semconv.HeaderCustomerTier, semconv.HeaderEnvironment, semconv.HeaderFeature)
	add("RESP", semconv.HeaderModel, semconv.HeaderProvider, semconv.HeaderTokensInput, semconv.HeaderTokensOutput, semconv.HeaderCost,
		semconv.HeaderTokensCacheRead, semconv.HeaderTokensCacheWrite, semconv.HeaderTokensReasoning, semconv.HeaderServiceTier)
	return keys
}()

// GenOpsMeshJSONFormat is GenOpsMeshJSONKeys as Istio's
// meshConfig.accessLogFormat takes it with accessLogEncoding: JSON: one
// JSON object, keys sorted.
func GenOpsMeshJSONFormat() string {
	b, err := json.Marshal(GenOpsMeshJSONKeys) // encoding/json sorts map keys
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return string(b) + "\n"
}

var presets = map[string]preset{
	"istio":             {encoding: EncodingText, text: IstioFormat},
	"istio_genops":      {encoding: EncodingText, text: GenOpsMeshFormat},
	"envoy":             {encoding: EncodingText, text: EnvoyFormat},
	"linkerd_apache":    {encoding: EncodingText, text: LinkerdApacheFormat, direction: DirectionInbound},
	"ztunnel":           {encoding: EncodingZtunnel},
	"istio_json":        {encoding: EncodingJSON, keys: istioJSONKeys},
	"istio_genops_json": {encoding: EncodingJSON, keys: GenOpsMeshJSONKeys},
	"osm_json": {encoding: EncodingJSON, keys: map[string]string{
		"start_time":            "%START_TIME%",
		"method":                "%REQ(:METHOD)%",
		"path":                  "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
		"protocol":              "%PROTOCOL%",
		"response_code":         "%RESPONSE_CODE%",
		"response_code_details": "%RESPONSE_CODE_DETAILS%",
		"time_to_first_byte":    "%RESPONSE_DURATION%",
		"upstream_cluster":      "%UPSTREAM_CLUSTER%",
		"response_flags":        "%RESPONSE_FLAGS%",
		"bytes_received":        "%BYTES_RECEIVED%",
		"bytes_sent":            "%BYTES_SENT%",
		"duration":              "%DURATION%",
		"upstream_service_time": "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
		"x_forwarded_for":       "%REQ(X-FORWARDED-FOR)%",
		"user_agent":            "%REQ(USER-AGENT)%",
		"request_id":            "%REQ(X-REQUEST-ID)%",
		"requested_server_name": "%REQUESTED_SERVER_NAME%",
		"authority":             "%REQ(:AUTHORITY)%",
		"upstream_host":         "%UPSTREAM_HOST%",
	}},
	"linkerd_json": {encoding: EncodingJSON, direction: DirectionInbound, keys: map[string]string{
		"client.addr":    "%DOWNSTREAM_REMOTE_ADDRESS%",
		"client.id":      "%LINKERD_CLIENT_ID%",
		"host":           "%REQ(:AUTHORITY)%",
		"method":         "%REQ(:METHOD)%",
		"processing_ns":  "linkerd.processing_ns",
		"request_bytes":  "%BYTES_RECEIVED%",
		"response_bytes": "%BYTES_SENT%",
		"status":         "%RESPONSE_CODE%",
		"timestamp":      "%START_TIME%",
		"total_ns":       "%LINKERD_TOTAL_NS%",
		"trace_id":       "%TRACE_ID%",
		"uri":            "%LINKERD_URI%",
		"user_agent":     "%REQ(USER-AGENT)%",
		"version":        "%PROTOCOL%",
	}},
}

// Presets lists the preset names, sorted.
func Presets() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// PresetEncoding returns the encoding of a preset, or "" for a name that
// is not a preset.
func PresetEncoding(name string) string { return presets[name].encoding }

// New compiles format — a preset name or an Envoy format string — for the
// given encoding. For JSON, keys (JSON key -> operator or attribute) extend
// or override the preset's key map; with no preset, keys is the whole map.
func New(format, encoding string, keys map[string]string) (Parser, error) {
	p, isPreset := presets[format]
	if encoding == "" {
		encoding = EncodingText
		if isPreset {
			encoding = p.encoding
		}
	}
	switch encoding {
	case EncodingZtunnel:
		if format != "ztunnel" {
			return nil, fmt.Errorf("encoding ztunnel takes the preset ztunnel, not %q", format)
		}
		return compileZtunnel()
	case EncodingText:
		if isPreset {
			if p.encoding != EncodingText {
				return nil, fmt.Errorf("preset %q is a JSON format: set encoding: json", format)
			}
			f, err := Compile(p.text)
			if err != nil {
				return nil, fmt.Errorf("preset %q: %w", format, err)
			}
			f.direction = p.direction
			return f, nil
		}
		if format == "" {
			return nil, fmt.Errorf("no format: give a preset (%s) or an Envoy format string", strings.Join(Presets(), ", "))
		}
		return Compile(format)
	case EncodingJSON:
		merged := map[string]string{}
		switch {
		case isPreset && p.encoding == EncodingJSON:
			for k, v := range p.keys {
				merged[k] = v
			}
		case isPreset:
			return nil, fmt.Errorf("preset %q is a text format: set encoding: text", format)
		case format != "":
			return nil, fmt.Errorf("encoding json takes a JSON preset (%s) and/or json_keys, not a format string", strings.Join(jsonPresets(), ", "))
		}
		for k, v := range keys {
			merged[k] = v
		}
		f, err := CompileJSON(merged)
		if err != nil {
			return nil, err
		}
		f.direction = p.direction
		return f, nil
	default:
		return nil, fmt.Errorf("unknown encoding %q: use %q, %q or %q", encoding, EncodingText, EncodingJSON, EncodingZtunnel)
	}
}

func jsonPresets() []string {
	var out []string
	for _, n := range Presets() {
		if presets[n].encoding == EncodingJSON {
			out = append(out, n)
		}
	}
	return out
}

// StructureRecord parses the body of a log record that carries an access
// log line — as Envoy's OpenTelemetry access logger sends it through the
// otlp receiver — and adds the parsed attributes to the record, keeping
// the attributes it already has. fields is scratch space, reusable.
func StructureRecord(p Parser, lr plog.LogRecord, fields *Fields) error {
	if t := lr.Body().Type(); t == pcommon.ValueTypeMap || t == pcommon.ValueTypeSlice {
		return errors.New("the body is not an access log line")
	}
	body := lr.Body().AsString()
	if err := p.Parse(body, fields); err != nil {
		return err
	}
	return p.WriteRecord(fields, lr)
}
