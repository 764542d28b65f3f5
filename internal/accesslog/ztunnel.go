package accesslog

import (
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// EncodingZtunnel is Istio ambient mode's ztunnel access log.
const EncodingZtunnel = "ztunnel"

// ZtunnelFormat parses the access log of ztunnel, the L4 proxy of Istio's
// ambient mode: Rust tracing's default formatter — a tab-separated header
// (timestamp, level, target "access", message) and then space-separated
// key=value pairs, values quoted when they hold spaces or colons. No
// library parses that format, so it is written here; the key map and the
// record building are the JSON formats' own.
//
// Every record is L4: it carries network.transport "tcp" (the SLI
// connector does not count it as an HTTP request) and ztunnel.outcome
// "success", or "failure" with error.type when the line has an error key.
type ZtunnelFormat struct {
	kv *JSONFormat
}

// ztunnelKeys maps ztunnel's keys to the attributes the receiver writes
// for Envoy logs, so that governance and the connector read them alike.
var ztunnelKeys = map[string]string{
	"time":          "%START_TIME%",
	"src.addr":      "%DOWNSTREAM_REMOTE_ADDRESS%",
	"src.identity":  "%DOWNSTREAM_PEER_URI_SAN%",
	"dst.addr":      "%UPSTREAM_HOST%",
	"bytes_sent":    "%BYTES_SENT%",
	"bytes_recv":    "%BYTES_RECEIVED%",
	"duration":      "%DURATION%",
	"direction":     semconv.AttrEnvoyDirection,
	"src.workload":  semconv.SourcePrefix + semconv.AttrK8sPodName,
	"src.namespace": semconv.SourcePrefix + semconv.AttrK8sNamespace,
	"dst.workload":  semconv.AttrK8sPodName,
	"dst.namespace": semconv.AttrK8sNamespace,
	"dst.service":   semconv.AttrServerAddress,
	"error":         "error.type",
}

func compileZtunnel() (*ZtunnelFormat, error) {
	kv, err := CompileJSON(ztunnelKeys)
	if err != nil {
		return nil, err
	}
	return &ZtunnelFormat{kv: kv}, nil
}

// Parse splits one ztunnel line into fields. Lines of other targets
// (ztunnel's own logs) are errors with reason "prefix".
func (f *ZtunnelFormat) Parse(line string, fields *Fields) error {
	fields.reset(len(f.kv.ops))
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return &ParseError{ReasonEmpty, 0, "empty line"}
	}
	head := strings.SplitN(line, "\t", 5)
	if len(head) < 5 {
		return &ParseError{ReasonDelimiter, len(line), "want <time>\\t<level>\\t<target>\\t<message>\\t<key=value ...>"}
	}
	if head[2] != "access" {
		return &ParseError{ReasonPrefix, len(head[0]) + len(head[1]) + 2, "not an access log line (target " + strconvQuote(head[2]) + ")"}
	}
	f.set(fields, "time", head[0])
	outcome := "success"
	rest, pos := head[4], len(line)-len(head[4])
	for rest != "" {
		trimmed := strings.TrimLeft(rest, " ")
		pos += len(rest) - len(trimmed)
		rest = trimmed
		if rest == "" {
			break
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 || strings.ContainsRune(rest[:eq], ' ') {
			return &ParseError{ReasonDelimiter, pos, "want key=value"}
		}
		key := rest[:eq]
		rest = rest[eq+1:]
		pos += eq + 1
		var value string
		if strings.HasPrefix(rest, `"`) {
			v, n, ok := unquote(rest)
			if !ok {
				return &ParseError{ReasonDelimiter, pos, "unterminated quoted value of " + key}
			}
			value, rest = v, rest[n:]
			pos += n
		} else {
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			value, rest = rest[:end], rest[end:]
			pos += end
		}
		switch key {
		case "duration":
			if d, err := time.ParseDuration(value); err == nil {
				value = strconv.FormatInt(d.Milliseconds(), 10)
			}
		case "error":
			outcome = "failure"
		}
		if !f.set(fields, key, value) {
			fields.extra = append(fields.extra, [2]string{"ztunnel." + key, value})
		}
	}
	fields.extra = append(fields.extra,
		[2]string{"network.transport", "tcp"},
		[2]string{"ztunnel.outcome", outcome},
		[2]string{"ztunnel.message", head[3]})
	return nil
}

func (f *ZtunnelFormat) set(fields *Fields, key, value string) bool {
	i, ok := f.kv.keys[key]
	if ok {
		fields.set(i, value)
	}
	return ok
}

// WriteRecord is Format.WriteRecord for ztunnel logs.
func (f *ZtunnelFormat) WriteRecord(fields *Fields, lr plog.LogRecord) error {
	return f.kv.WriteRecord(fields, lr)
}

// unquote reads a double-quoted value at the start of s (backslash escapes
// \" and \\) and returns it and the bytes consumed.
func unquote(s string) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), i + 1, true
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, false
}

func strconvQuote(s string) string { return strconv.Quote(truncateForError(s)) }
