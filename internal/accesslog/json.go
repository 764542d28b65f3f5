package accesslog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// JSONFormat parses JSON access logs (Envoy's json_format, Istio's
// accessLogEncoding: JSON, Linkerd's and OSM's JSON logs) through a key
// map. Keys outside the map are kept as attributes named after the key.
type JSONFormat struct {
	keys map[string]int // JSON key -> operator index
	schema
}

// intAttributes are attribute names that hold integers when a key map
// names them directly instead of through an operator.
var intAttributes = map[string]bool{
	semconv.AttrHTTPResponseStatusCode:  true,
	semconv.AttrEnvoyBytesReceived:      true,
	semconv.AttrEnvoyBytesSent:          true,
	semconv.AttrEnvoyDurationMs:         true,
	semconv.AttrEnvoyRequestDurationMs:  true,
	semconv.AttrEnvoyResponseDurationMs: true,
	semconv.AttrServerPort:              true,
	semconv.AttrClientPort:              true,
}

// CompileJSON compiles a key map: JSON key -> an Envoy command operator
// ("%RESPONSE_CODE%", "%REQ(X-GENOPS-TEAM)%") or an attribute name
// ("http.response.status_code").
func CompileJSON(keys map[string]string) (*JSONFormat, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("empty JSON key map")
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names) // stable operator order, hence stable attribute order
	f := &JSONFormat{keys: make(map[string]int, len(keys))}
	for _, key := range names {
		target := strings.TrimSpace(keys[key])
		var op Operator
		switch {
		case len(target) > 2 && strings.HasPrefix(target, "%") && strings.HasSuffix(target, "%"):
			var err error
			op, err = parseOperator(target[1:len(target)-1], 0)
			if err != nil {
				return nil, fmt.Errorf("JSON key %q: %w", key, err)
			}
		case target != "":
			op = Operator{Text: key, Kind: KindRaw, Attr: target}
			if intAttributes[target] {
				op.Kind = KindInt
			}
		default:
			return nil, fmt.Errorf("JSON key %q: empty target; give an operator such as %%RESPONSE_CODE%% or an attribute name", key)
		}
		f.keys[key] = len(f.ops)
		f.ops = append(f.ops, op)
	}
	return f, nil
}

// Parse decodes one JSON object into fields. Strings, numbers and booleans
// are values; null is absent; nested objects and arrays are kept as JSON.
func (f *JSONFormat) Parse(line string, fields *Fields) error {
	fields.reset(len(f.ops))
	trimmed := strings.TrimSpace(line)
	if trimmed == "" {
		return &ParseError{ReasonEmpty, 0, "empty line"}
	}
	dec := json.NewDecoder(strings.NewReader(trimmed))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return &ParseError{ReasonJSON, int(dec.InputOffset()), err.Error()}
	}
	if obj == nil {
		return &ParseError{ReasonJSON, 0, "not a JSON object"}
	}
	if dec.More() {
		return &ParseError{ReasonTrailing, int(dec.InputOffset()), "text after the JSON object"}
	}
	extraKeys := make([]string, 0, 4)
	for k, v := range obj {
		s, ok := jsonValue(v)
		if !ok {
			continue
		}
		if i, known := f.keys[k]; known {
			fields.set(i, s)
			continue
		}
		extraKeys = append(extraKeys, k)
	}
	sort.Strings(extraKeys)
	for _, k := range extraKeys {
		s, _ := jsonValue(obj[k])
		fields.extra = append(fields.extra, [2]string{k, s})
	}
	return nil
}

// WriteRecord is Format.WriteRecord for JSON logs.
func (f *JSONFormat) WriteRecord(fields *Fields, lr plog.LogRecord) error {
	return f.schema.writeRecord(fields, lr)
}

func jsonValue(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	default:
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			return "", false
		}
		return strings.TrimRight(b.String(), "\n"), true
	}
}
