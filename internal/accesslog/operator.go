package accesslog

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// Kind is what an operator's value means, which decides the attribute it
// becomes and how it is converted.
type Kind uint8

const (
	// KindRaw is an operator this package does not interpret: its value is
	// kept as a string attribute named after the operator.
	KindRaw Kind = iota
	KindStartTime
	KindMethod
	KindPath
	KindURI // a full request URI (Linkerd), or a path
	KindProtocol
	KindResponseCode
	KindResponseFlags
	KindResponseCodeDetails
	KindConnectionTerminationDetails
	KindUpstreamTransportFailureReason
	KindBytesReceived
	KindBytesSent
	KindDurationMs
	KindDurationNs // Linkerd total_ns
	KindRequestDurationMs
	KindResponseDurationMs
	KindUpstreamHost
	KindUpstreamCluster
	KindUpstreamLocalAddress
	KindDownstreamLocalAddress
	KindDownstreamRemoteAddress
	KindDownstreamPeerURISAN
	KindLinkerdClientID
	KindRequestedServerName
	KindRouteName
	KindTraceID
	KindAuthority
	KindUserAgent
	KindRequestID
	KindRequestHeader
	KindResponseHeader
	KindInt // an integer attribute of a given name (JSON key maps)
)

// Operator is one compiled command operator, %NAME(ARG):MAX%.
type Operator struct {
	// Text is the operator as written, without the surrounding percent signs.
	Text string
	Kind Kind
	// Attr is the attribute the value is stored under. Empty for kinds that
	// set several attributes or the record's own fields (time, trace id).
	Attr string
	// Header is the lower-case header name of REQ/RESP operators, the
	// primary one of a "X?Y" fallback pair.
	Header string
	// MaxLen is the :Z truncation length, 0 when absent.
	MaxLen int
	// timeLayout is the Go layout of a START_TIME(...) argument; empty for
	// Envoy's default RFC 3339 format. timeUnix is set for "%s".
	timeLayout string
	timeUnix   bool
}

// simpleOperators maps operators without arguments to their kind and
// attribute.
var simpleOperators = map[string]struct {
	kind Kind
	attr string
}{
	"START_TIME":                        {KindStartTime, ""},
	"PROTOCOL":                          {KindProtocol, ""},
	"RESPONSE_CODE":                     {KindResponseCode, semconv.AttrHTTPResponseStatusCode},
	"RESPONSE_FLAGS":                    {KindResponseFlags, semconv.AttrEnvoyResponseFlags},
	"RESPONSE_CODE_DETAILS":             {KindResponseCodeDetails, semconv.AttrEnvoyResponseCodeDetails},
	"UPSTREAM_REQUEST_ATTEMPT_COUNT":    {KindInt, semconv.AttrEnvoyUpstreamAttempts},
	"CONNECTION_TERMINATION_DETAILS":    {KindConnectionTerminationDetails, semconv.AttrEnvoyConnectionTerminationDetails},
	"UPSTREAM_TRANSPORT_FAILURE_REASON": {KindUpstreamTransportFailureReason, semconv.AttrEnvoyUpstreamTransportFailureReason},
	"BYTES_RECEIVED":                    {KindBytesReceived, semconv.AttrEnvoyBytesReceived},
	"BYTES_SENT":                        {KindBytesSent, semconv.AttrEnvoyBytesSent},
	"DURATION":                          {KindDurationMs, semconv.AttrEnvoyDurationMs},
	"REQUEST_DURATION":                  {KindRequestDurationMs, semconv.AttrEnvoyRequestDurationMs},
	"RESPONSE_DURATION":                 {KindResponseDurationMs, semconv.AttrEnvoyResponseDurationMs},
	"UPSTREAM_HOST":                     {KindUpstreamHost, semconv.AttrEnvoyUpstreamHost},
	"UPSTREAM_CLUSTER":                  {KindUpstreamCluster, semconv.AttrEnvoyUpstreamCluster},
	"UPSTREAM_CLUSTER_RAW":              {KindUpstreamCluster, semconv.AttrEnvoyUpstreamCluster},
	"UPSTREAM_LOCAL_ADDRESS":            {KindUpstreamLocalAddress, semconv.AttrEnvoyUpstreamLocalAddress},
	"DOWNSTREAM_LOCAL_ADDRESS":          {KindDownstreamLocalAddress, semconv.AttrEnvoyDownstreamLocalAddress},
	"DOWNSTREAM_REMOTE_ADDRESS":         {KindDownstreamRemoteAddress, ""},
	"DOWNSTREAM_PEER_URI_SAN":           {KindDownstreamPeerURISAN, semconv.AttrEnvoyDownstreamPeerURISAN},
	"REQUESTED_SERVER_NAME":             {KindRequestedServerName, semconv.AttrEnvoyRequestedServerName},
	"ROUTE_NAME":                        {KindRouteName, semconv.AttrEnvoyRouteName},
	"TRACE_ID":                          {KindTraceID, ""},
	// Not Envoy operators: they name Linkerd fields in the linkerd presets.
	"LINKERD_URI":       {KindURI, ""},
	"LINKERD_CLIENT_ID": {KindLinkerdClientID, semconv.AttrLinkerdClientID},
	"LINKERD_TOTAL_NS":  {KindDurationNs, semconv.AttrEnvoyDurationMs},
}

// requestHeaders maps request headers with a meaning of their own.
var requestHeaders = map[string]struct {
	kind Kind
	attr string
}{
	":method":                {KindMethod, semconv.AttrHTTPRequestMethod},
	":path":                  {KindPath, ""},
	"x-envoy-original-path":  {KindPath, ""},
	":authority":             {KindAuthority, ""},
	"host":                   {KindAuthority, ""},
	"user-agent":             {KindUserAgent, semconv.AttrUserAgentOriginal},
	"x-request-id":           {KindRequestID, semconv.AttrEnvoyRequestID},
	"x-forwarded-for":        {KindRequestHeader, semconv.RequestHeaderPrefix + "x-forwarded-for"},
	"x-b3-traceid":           {KindTraceID, semconv.RequestHeaderPrefix + "x-b3-traceid"},
	"traceparent":            {KindTraceID, semconv.RequestHeaderPrefix + "traceparent"},
	"x-envoy-attempt-count":  {KindRequestHeader, semconv.RequestHeaderPrefix + "x-envoy-attempt-count"},
	"x-envoy-decorator-oper": {KindRequestHeader, semconv.RequestHeaderPrefix + "x-envoy-decorator-oper"},
}

// parseOperator compiles the text between two percent signs. pos is the
// byte offset of the text in the format string, for error messages.
func parseOperator(text string, pos int) (Operator, error) {
	op := Operator{Text: text}
	name, arg, rest := text, "", ""
	if i := strings.IndexByte(text, '('); i >= 0 {
		j := strings.LastIndexByte(text, ')')
		if j < i {
			return op, &CompileError{pos, fmt.Sprintf("operator %%%s%%: unbalanced parenthesis", text)}
		}
		name, arg, rest = text[:i], text[i+1:j], text[j+1:]
	} else if i := strings.IndexByte(text, ':'); i >= 0 {
		name, rest = text[:i], text[i:]
	}
	if name == "" {
		return op, &CompileError{pos, fmt.Sprintf("empty command operator %%%s%%", text)}
	}
	for _, c := range name {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return op, &CompileError{pos, fmt.Sprintf("operator name %q: only A-Z, 0-9 and _ are allowed", name)}
		}
	}
	if rest != "" {
		if rest[0] != ':' {
			return op, &CompileError{pos, fmt.Sprintf("operator %%%s%%: unexpected %q after the argument", text, rest)}
		}
		n, err := strconv.Atoi(rest[1:])
		if err != nil || n <= 0 {
			return op, &CompileError{pos, fmt.Sprintf("operator %%%s%%: truncation length %q is not a positive integer", text, rest[1:])}
		}
		op.MaxLen = n
	}

	switch name {
	case "REQ", "RESP", "TRAILER":
		if arg == "" {
			return op, &CompileError{pos, fmt.Sprintf("operator %%%s%% needs a header name, e.g. %%%s(X-REQUEST-ID)%%", text, name)}
		}
		primary, _, _ := strings.Cut(arg, "?")
		op.Header = strings.ToLower(primary)
		if name == "REQ" {
			if known, ok := requestHeaders[op.Header]; ok {
				op.Kind, op.Attr = known.kind, known.attr
				return op, nil
			}
			op.Kind, op.Attr = KindRequestHeader, semconv.RequestHeaderPrefix+op.Header
			return op, nil
		}
		op.Kind, op.Attr = KindResponseHeader, semconv.ResponseHeaderPrefix+op.Header
		return op, nil
	case "START_TIME":
		op.Kind = KindStartTime
		if arg != "" {
			layout, unix, ok := strftimeLayout(arg)
			if !ok {
				// Keep the value rather than guess a time: the record's
				// timestamp falls back to the time it was read.
				op.Kind, op.Attr = KindRaw, semconv.AttrEnvoyStartTime
				return op, nil
			}
			op.timeLayout, op.timeUnix = layout, unix
		}
		return op, nil
	}
	if s, ok := simpleOperators[name]; ok && arg == "" {
		op.Kind, op.Attr = s.kind, s.attr
		return op, nil
	}
	op.Kind, op.Attr = KindRaw, "envoy."+strings.ToLower(text)
	return op, nil
}

// strftimeLayout converts the strftime-style argument of START_TIME(...)
// (Envoy formats it with absl::FormatTime) to a Go time layout. It reports
// false for specifiers it does not know.
func strftimeLayout(f string) (layout string, unix bool, ok bool) {
	if f == "%s" {
		return "", true, true
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		spec := f[i+1:]
		matched := false
		for _, s := range strftimeSpecs {
			if strings.HasPrefix(spec, s.spec) {
				b.WriteString(s.layout)
				i += len(s.spec)
				matched = true
				break
			}
		}
		if !matched {
			return "", false, false
		}
	}
	return b.String(), false, true
}

// strftimeSpecs lists the specifiers, longest first where one is a prefix
// of another.
var strftimeSpecs = []struct{ spec, layout string }{
	{"E3S", "05.000"}, {"E6S", "05.000000"}, {"E9S", "05.000000000"}, {"E*S", "05.999999999"},
	{"3f", "000"}, {"6f", "000000"}, {"9f", "000000000"}, {"f", "000000000"},
	{"Ez", "-07:00"}, {"z", "-0700"}, {"Z", "MST"},
	{"Y", "2006"}, {"y", "06"}, {"m", "01"}, {"d", "02"}, {"e", "_2"},
	{"H", "15"}, {"I", "03"}, {"M", "04"}, {"S", "05"}, {"p", "PM"},
	{"b", "Jan"}, {"h", "Jan"}, {"B", "January"}, {"a", "Mon"}, {"A", "Monday"},
	{"j", "002"}, {"T", "15:04:05"}, {"F", "2006-01-02"}, {"D", "01/02/06"}, {"R", "15:04"},
	{"%", "%"},
}
