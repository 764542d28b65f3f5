package accesslog

import (
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// ValueError is a field whose value could not be converted (a status code
// that is not a number, say). The record keeps every other field.
type ValueError struct {
	Operator string
	Value    string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("%%%s%%: cannot convert %q", e.Operator, truncateForError(e.Value))
}

func truncateForError(v string) string {
	if len(v) > 64 {
		return v[:64] + "..."
	}
	return v
}

// ReasonValue is the parse error reason of a ValueError.
const ReasonValue = "value"

// WriteRecord sets the attributes, timestamp and trace id of lr from fields,
// which a parse of this format filled. It returns the first field that
// could not be converted (its attribute is left out; the rest are written).
func (f *Format) WriteRecord(fields *Fields, lr plog.LogRecord) error {
	return f.schema.writeRecord(fields, lr)
}

// GovernanceHeadroom is how many attributes the governance processor
// adds to an inbound access log record from a known caller: genops.side
// and the caller's workload (namespace, pod, app, version, owner). (What
// every record of a resource shares, the dimensions its labels or
// defaults decide, goes on the resource.) Record builders (this
// package's, the Zipkin receiver's) reserve it, so that governance does
// not grow and copy each record's attributes; an outbound record, whose
// destination's workload is written on it, grows once.
const GovernanceHeadroom = 6

func (s *schema) writeRecord(fields *Fields, lr plog.LogRecord) error {
	attrs := lr.Attributes()
	// Room for what this record gets and for what the governance processor
	// writes next (side, workload): growing the attribute slice there
	// copied every record's attributes once more (a tenth of the access
	// log pipeline's CPU, by pprof). No more: the slice is the largest
	// allocation of a record, and garbage collection a third of a
	// collector's CPU, in proportion to the bytes allocated (issue #20).
	attrs.EnsureCapacity(s.attrBound(fields) + GovernanceHeadroom)
	var (
		firstErr                 error
		direction                = s.direction
		downstreamRemote, upHost string
	)
	fail := func(op *Operator, v string) {
		if firstErr == nil {
			firstErr = &ValueError{Operator: op.Text, Value: v}
		}
	}
	for i := range s.ops {
		v, ok := fields.Value(i)
		if !ok {
			continue
		}
		if !fields.validUTF8 {
			v = validUTF8(v)
		}
		op := &s.ops[i]
		switch op.Kind {
		case KindStartTime:
			t, err := op.parseTime(v)
			if err != nil {
				attrs.PutStr(semconv.AttrEnvoyStartTime, v)
				fail(op, v)
				continue
			}
			lr.SetTimestamp(pcommon.NewTimestampFromTime(t))
		case KindPath:
			putPath(attrs, v)
		case KindURI:
			putURI(attrs, v)
		case KindProtocol:
			putProtocol(attrs, v)
		case KindAuthority:
			putHostPort(attrs, v, semconv.AttrServerAddress, semconv.AttrServerPort)
		case KindDownstreamRemoteAddress:
			downstreamRemote = v
			putHostPort(attrs, v, semconv.AttrClientAddress, semconv.AttrClientPort)
		case KindUpstreamHost:
			upHost = v
			attrs.PutStr(op.Attr, v)
		case KindUpstreamCluster:
			attrs.PutStr(op.Attr, v)
			if direction == "" {
				direction = DirectionFromCluster(v)
			}
		case KindTraceID:
			if id, ok := parseTraceID(v); ok {
				lr.SetTraceID(id)
			}
			if op.Attr != "" {
				attrs.PutStr(op.Attr, v)
			}
		case KindResponseCode, KindBytesReceived, KindBytesSent, KindDurationMs,
			KindRequestDurationMs, KindResponseDurationMs, KindInt:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				fail(op, v)
				continue
			}
			attrs.PutInt(op.Attr, n)
		case KindDurationNs:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				fail(op, v)
				continue
			}
			attrs.PutInt(semconv.AttrLinkerdTotalNs, n)
			attrs.PutInt(op.Attr, n/int64(time.Millisecond))
		default:
			attrs.PutStr(op.Attr, v)
		}
	}
	for _, kv := range fields.extra {
		attrs.PutStr(validUTF8(kv[0]), validUTF8(kv[1]))
	}
	if direction != "" {
		attrs.PutStr(semconv.AttrEnvoyDirection, direction)
	}
	// The peer is the other side of the call: the client for the inbound
	// (server-side) sidecar, the upstream for the outbound one.
	// Only the address: the governance processor looks the peer up by IP.
	switch direction {
	case DirectionInbound:
		putHost(attrs, downstreamRemote, semconv.AttrNetworkPeerAddress)
	case DirectionOutbound:
		putHost(attrs, upHost, semconv.AttrNetworkPeerAddress)
	}
	return firstErr
}

// attrBound is at most how many attributes writeRecord writes for fields:
// one per value, two or five for the values it splits, the direction and
// the peer. (A start time is the record's time, an attribute only when it
// does not parse: the one attribute past the bound, on that error.)
func (s *schema) attrBound(fields *Fields) int {
	n := len(fields.extra) + 2
	for i := range s.ops {
		if !fields.present[i] {
			continue
		}
		switch s.ops[i].Kind {
		case KindStartTime:
		case KindURI:
			n += 5 // url.full, server address and port, path, query
		case KindPath, KindProtocol, KindAuthority, KindDownstreamRemoteAddress, KindDurationNs:
			n += 2
		default:
			n++
		}
	}
	return n
}

// Directions, re-exported for readers of this package.
const (
	DirectionInbound  = semconv.DirectionInbound
	DirectionOutbound = semconv.DirectionOutbound
)

// DirectionFromCluster tells which sidecar logged a request from its
// upstream cluster name: Istio names clusters "inbound|port||" and
// "outbound|port|subset|host" (waypoints "inbound-vip|..."), OSM names local
// (inbound) clusters "ns/svc|port|local", Consul names it "local_app".
// It returns "" when the name says nothing.
func DirectionFromCluster(cluster string) string {
	switch {
	case strings.HasPrefix(cluster, "inbound"), strings.HasPrefix(cluster, "InboundPassthroughCluster"),
		strings.HasSuffix(cluster, "|local"), cluster == "local_app":
		return DirectionInbound
	case strings.HasPrefix(cluster, "outbound"), cluster == "PassthroughCluster", cluster == "BlackHoleCluster":
		return DirectionOutbound
	}
	return ""
}

func validUTF8(v string) string {
	if utf8.ValidString(v) {
		return v
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

func (op *Operator) parseTime(v string) (time.Time, error) {
	switch {
	case op.timeUnix:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, err
		}
		return time.Unix(n, 0).UTC(), nil
	case op.timeLayout != "":
		return time.Parse(op.timeLayout, v)
	default:
		return time.Parse(time.RFC3339Nano, v)
	}
}

func putPath(attrs pcommon.Map, v string) {
	path, query, hasQuery := strings.Cut(v, "?")
	attrs.PutStr(semconv.AttrURLPath, path)
	if hasQuery && query != "" {
		attrs.PutStr(semconv.AttrURLQuery, query)
	}
}

// putURI handles a request target that may be absolute
// ("http://webapp:7000/authors", as Linkerd logs it) or a path.
func putURI(attrs pcommon.Map, v string) {
	scheme, rest, ok := strings.Cut(v, "://")
	if !ok || strings.ContainsAny(scheme, "/?") {
		putPath(attrs, v)
		return
	}
	attrs.PutStr(semconv.AttrURLFull, v)
	hostport, path := rest, "/"
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		hostport, path = rest[:i], rest[i:]
	}
	if _, exists := attrs.Get(semconv.AttrServerAddress); !exists {
		putHostPort(attrs, hostport, semconv.AttrServerAddress, semconv.AttrServerPort)
	}
	putPath(attrs, path)
}

// putProtocol splits "HTTP/1.1" into network.protocol.name "http" and
// network.protocol.version "1.1" ("HTTP/2.0", as Linkerd writes it, is "2").
func putProtocol(attrs pcommon.Map, v string) {
	name, version, ok := strings.Cut(v, "/")
	if !ok {
		attrs.PutStr(semconv.AttrNetworkProtocolName, strings.ToLower(v))
		return
	}
	if name == "HTTP" {
		name = "http"
	} else {
		name = strings.ToLower(name)
	}
	switch version {
	case "2.0":
		version = "2"
	case "3.0":
		version = "3"
	}
	attrs.PutStr(semconv.AttrNetworkProtocolName, name)
	attrs.PutStr(semconv.AttrNetworkProtocolVersion, version)
}

// putHostPort writes "host:port" (or "[v6]:port", or a bare host) as an
// address attribute and, when numeric, a port attribute.
func putHostPort(attrs pcommon.Map, v, addrKey, portKey string) {
	if v == "" {
		return
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		attrs.PutStr(addrKey, v)
		return
	}
	attrs.PutStr(addrKey, host)
	if n, err := strconv.Atoi(port); err == nil {
		attrs.PutInt(portKey, int64(n))
	}
}

// putHost writes the host of "host:port" (or a bare host).
func putHost(attrs pcommon.Map, v, addrKey string) {
	if v == "" {
		return
	}
	if host, _, err := net.SplitHostPort(v); err == nil {
		v = host
	}
	attrs.PutStr(addrKey, v)
}

// parseTraceID reads a W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>"),
// a 32-digit or a 16-digit (B3, zero-padded on the left) hex trace id.
func parseTraceID(v string) (pcommon.TraceID, bool) {
	var id pcommon.TraceID
	if len(v) == 55 && v[2] == '-' && v[35] == '-' {
		v = v[3:35]
	}
	switch len(v) {
	case 32:
	case 16:
		v = "0000000000000000" + v
	default:
		return id, false
	}
	if _, err := hex.Decode(id[:], []byte(v)); err != nil {
		return pcommon.TraceID{}, false
	}
	if id.IsEmpty() {
		return id, false
	}
	return id, true
}
