package zipkinreceiver

import (
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// errDecline is the fast decoder saying "not this input": the request is
// then decoded by contrib's translator, which decides what it means (and
// which error it is). It is never an answer to the sender by itself.
var errDecline = errors.New("zipkin v2 json: outside the fast decoder's subset")

// maxDepth bounds the nesting of values the scanner skips (unknown keys);
// deeper input goes to contrib's decoder, which has its own limit.
const maxDepth = 256

// zspan is one Zipkin v2 span as the fast decoder reads it: the fields
// contrib's translator uses, with the values it would see after
// zipkin-go's SpanModel.UnmarshalJSON. Its tags are a window of the
// request's shared tag slice, in input order (a repeated key: the last
// one counts, as in the map contrib decodes into).
type zspan struct {
	traceHi, traceLo uint64
	id               uint64
	parent           uint64
	hasParent        bool
	name, kind       string
	ts, dur          uint64 // microseconds, as sent
	local, remote    endpoint
	tags             []kv
	annos            []anno
	// Bounds of tags and annos in the scanner's slices while reading.
	tag0, tag1, anno0, anno1 int

	// For the resource/scope grouping, as contrib's sort sees them.
	service, scope string
}

type kv struct{ k, v string }

type anno struct {
	ts   uint64
	name string
}

// endpoint is zipkin-go's Endpoint after decoding: the IPs as net.IP's
// String() gives them; set is false where the model would hold nil (an
// endpoint whose fields are all empty).
type endpoint struct {
	service    string
	ipv4, ipv6 string
	port       uint16
	set        bool
}

// lookup is the value of key in tags (the last occurrence), as a map of
// them would give it.
func lookup(tags []kv, key string) (string, bool) {
	for i := len(tags) - 1; i >= 0; i-- {
		if tags[i].k == key {
			return tags[i].v, true
		}
	}
	return "", false
}

// scanner reads one request body. Strings it returns are copies (never
// views of the body, which is reused); a tag key is one string per
// request, and the keys and values every Envoy span carries one string
// for good (known).
type scanner struct {
	b      []byte
	i      int
	intern map[string]string
	tags   []kv
	annos  []anno
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return errDecline
	}
	s.i++
	return nil
}

// rawString returns the bytes between the quotes of the string at the
// cursor and whether they hold an escape. Control characters (invalid
// JSON) and invalid UTF-8 (which encoding/json would replace with U+FFFD)
// decline.
func (s *scanner) rawString() (raw []byte, escaped bool, err error) {
	if s.peek() != '"' {
		return nil, false, errDecline
	}
	s.i++
	start := s.i
	high := false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			if high && !utf8.Valid(raw) {
				return nil, false, errDecline
			}
			return raw, escaped, nil
		case c == '\\':
			// Every escape is checked, also in strings nobody reads:
			// encoding/json refuses the whole body for a bad one.
			if !s.validEscape() {
				return nil, false, errDecline
			}
			escaped = true
			continue
		case c < 0x20:
			return nil, false, errDecline
		case c >= 0x80:
			high = true
		}
		s.i++
	}
	return nil, false, errDecline
}

// validEscape steps over the escape sequence at the cursor (a backslash)
// if JSON allows it: \" \\ \/ \b \f \n \r \t or \u and four hex digits.
func (s *scanner) validEscape() bool {
	if s.i+1 >= len(s.b) {
		return false
	}
	switch s.b[s.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i += 2
		return true
	case 'u':
		if s.i+6 > len(s.b) || !hexDigits(s.b[s.i+2:s.i+6], 4) {
			return false
		}
		s.i += 6
		return true
	}
	return false
}

// str is the string at the cursor, unescaped exactly as encoding/json
// does (by encoding/json, for the rare string that has escapes).
func (s *scanner) str() (string, error) {
	start := s.i
	raw, escaped, err := s.rawString()
	if err != nil {
		return "", err
	}
	if escaped {
		var v string
		if err := json.Unmarshal(s.b[start:s.i], &v); err != nil || !utf8.ValidString(v) {
			return "", errDecline
		}
		return v, nil
	}
	return s.keep(raw), nil
}

// keep copies raw into a string, or returns the one string for a tag key
// or value that Envoy, Istio or OpenTelemetry put on every span (known).
func (s *scanner) keep(raw []byte) string {
	if v, ok := known[string(raw)]; ok {
		return v
	}
	return string(raw)
}

// keepKey is keep for tag keys: one string per key per request also for
// keys not known in advance (an application's own tags repeat too).
func (s *scanner) keepKey(raw []byte) string {
	if v, ok := known[string(raw)]; ok {
		return v
	}
	if v, ok := s.intern[string(raw)]; ok {
		return v
	}
	v := string(raw)
	if s.intern == nil {
		s.intern = make(map[string]string, 16)
	}
	if len(s.intern) < 1024 {
		s.intern[v] = v
	}
	return v
}

// known are the strings spans repeat: the tag keys Envoy's Zipkin tracer
// and Istio set, OpenTelemetry's, and their most common values.
var known = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"component", "downstream_cluster", "guid:x-request-id", "guid:x-client-trace-id", "http.method", "http.protocol",
		"http.status_code", "http.url", "istio.canonical_revision", "istio.canonical_service", "istio.mesh_id",
		"istio.namespace", "istio.cluster_id", "node_id", "peer.address", "request_size", "response_flags", "response_size",
		"upstream_cluster", "upstream_cluster.name", "upstream_address", "user_agent", "error", "error.message",
		"grpc.status_code", "grpc.path", "grpc.authority", "grpc.content_type", "grpc.timeout", "zone",
		"otel.status_code", "otel.status_description", "otel.library.name", "otel.library.version",
		"otel.scope.name", "otel.scope.version", "span.kind", "w3c.tracestate", "otlp.service.name.source",
		"x-genops-team", "x-genops-project", "x-genops-customer-id", "x-genops-cost-center", "x-genops-customer-tier",
		"x-genops-environment", "x-genops-feature", "x-genops-model", "x-genops-provider", "x-genops-tokens-input",
		"x-genops-tokens-output", "x-genops-cost",
		"proxy", "-", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/3",
		"200", "201", "202", "204", "301", "302", "304", "400", "401", "403", "404", "409", "429", "500", "502", "503", "504",
		"0", "true", "false", "cluster.local", "v1", "v2", "latest", "SERVER", "CLIENT", "PRODUCER", "CONSUMER",
	} {
		m[k] = k
	}
	return m
}()

// uint reads a JSON number into a uint64 field as encoding/json does:
// digits only; a sign, fraction, exponent or overflow is an error there,
// so it declines here.
func (s *scanner) uint(max uint64) (uint64, error) {
	s.ws()
	start := s.i
	var n uint64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		d := uint64(s.b[s.i] - '0')
		if n > (max-d)/10 {
			return 0, errDecline
		}
		n = n*10 + d
		s.i++
	}
	digits := s.i - start
	if digits == 0 || (digits > 1 && s.b[start] == '0') {
		return 0, errDecline
	}
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case '.', 'e', 'E', '-', '+':
			return 0, errDecline
		}
	}
	return n, nil
}

// literal steps over word (true, false, null) if it is at the cursor.
func (s *scanner) literal(word string) bool {
	s.ws()
	if string(s.b[s.i:min(len(s.b), s.i+len(word))]) != word {
		return false
	}
	s.i += len(word)
	return true
}

func (s *scanner) boolean() error {
	if s.literal("true") || s.literal("false") {
		return nil
	}
	return errDecline
}

// hexDigits is whether raw is 1 to max hex digits, as strconv.ParseUint(_,
// 16, 64) of its halves would accept them (zipkin-go's TraceID and ID).
func hexDigits(raw []byte, max int) bool {
	if len(raw) == 0 || len(raw) > max {
		return false
	}
	for _, c := range raw {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func hexValue(raw []byte) uint64 {
	var n uint64
	for _, c := range raw {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		n = n<<4 | uint64(c)
	}
	return n
}

// skip validates and steps over any JSON value (an unknown key's).
func (s *scanner) skip(depth int) error {
	if depth > maxDepth {
		return errDecline
	}
	switch c := s.peek(); {
	case c == '"':
		_, _, err := s.rawString()
		return err
	case c == '{':
		return s.members(true, func([]byte) error { return s.skip(depth + 1) })
	case c == '[':
		return s.array(func() error { return s.skip(depth + 1) })
	case c == 't' || c == 'f':
		return s.boolean()
	case c == 'n':
		if !s.literal("null") {
			return errDecline
		}
		return nil
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	default:
		return errDecline
	}
}

// number steps over a JSON number, strictly by the grammar.
func (s *scanner) number() error {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.b[s.i] == '-' {
		s.i++
	}
	start := s.i
	if n := digits(); n == 0 || n > 1 && s.b[start] == '0' {
		return errDecline
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return errDecline
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return errDecline
		}
	}
	return nil
}

// unknown decides about a key the fast decoder does not read: encoding/json
// matches keys to fields case-insensitively (with Unicode folds), so a key
// that is not exactly a known one but could fold to one declines; any
// other is skipped, as encoding/json ignores it.
func (s *scanner) unknown(key []byte, known []string) error {
	for _, c := range key {
		if c >= 0x80 {
			return errDecline
		}
	}
	for _, k := range known {
		if strings.EqualFold(string(key), k) {
			return errDecline
		}
	}
	return s.skip(1)
}

// object calls field for each key of the object at the cursor. Keys with
// escapes decline: encoding/json would match them to fields after
// unescaping.
func (s *scanner) object(field func(key []byte) error) error {
	return s.members(false, field)
}

// members reads an object, calling field with each key (its raw bytes)
// with the cursor on the value, which field must read.
func (s *scanner) members(escapedKeys bool, field func(key []byte) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		k, escaped, err := s.rawString()
		if err != nil || escaped && !escapedKeys {
			return errDecline
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := field(k); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errDecline
		}
	}
}

// array calls elem for each element of the array at the cursor.
func (s *scanner) array(elem func() error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return errDecline
		}
	}
}

var (
	spanKeys     = []string{"traceId", "id", "parentId", "debug", "name", "kind", "timestamp", "duration", "shared", "localEndpoint", "remoteEndpoint", "annotations", "tags"}
	endpointKeys = []string{"serviceName", "ipv4", "ipv6", "port"}
	annoKeys     = []string{"timestamp", "value"}
)

// once finds key among an object's fields (keys) and marks it seen: -1
// for a key that is none of them; errDecline for a field given twice,
// which encoding/json merges or overwrites.
func once(seen *uint32, keys []string, key []byte) (int, error) {
	for i, k := range keys {
		if string(key) == k {
			if *seen&(1<<i) != 0 {
				return i, errDecline
			}
			*seen |= 1 << i
			return i, nil
		}
	}
	return -1, nil
}

// spans reads a whole v2 JSON body. Anything it cannot read exactly as
// encoding/json into zipkin-go's model would, including every input that
// is an error there, declines.
func (s *scanner) spans() ([]zspan, error) {
	// Sizes from the body's: a span of Envoy's is about 1 KiB, a tag 50 bytes.
	out := make([]zspan, 0, len(s.b)/768+1)
	s.tags = make([]kv, 0, len(s.b)/48+1)
	err := s.array(func() error {
		sp, err := s.span()
		if err != nil {
			return err
		}
		out = append(out, sp)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.ws()
	if s.i != len(s.b) {
		return nil, errDecline
	}
	// The tag and annotation windows were cut from slices that grew while
	// reading: take them only now.
	for i := range out {
		out[i].tags = s.tags[out[i].tag0:out[i].tag1:out[i].tag1]
		out[i].annos = s.annos[out[i].anno0:out[i].anno1:out[i].anno1]
	}
	return out, nil
}

func (s *scanner) span() (zspan, error) {
	var sp zspan
	var seen uint32
	sp.tag0, sp.anno0 = len(s.tags), len(s.annos)
	err := s.object(func(key []byte) error {
		i, err := once(&seen, spanKeys, key)
		if err != nil {
			return err
		}
		if i < 0 {
			return s.unknown(key, spanKeys)
		}
		switch string(key) {
		case "traceId":
			raw, esc, err := s.rawString()
			if err != nil || esc || !hexDigits(raw, 32) {
				return errDecline
			}
			if len(raw) > 16 {
				sp.traceHi = hexValue(raw[:len(raw)-16])
				raw = raw[len(raw)-16:]
			}
			sp.traceLo = hexValue(raw)
		case "id", "parentId":
			raw, esc, err := s.rawString()
			if err != nil || esc {
				return errDecline
			}
			var v uint64
			if len(raw) > 0 { // "" is ID 0, as zipkin-go reads it
				if !hexDigits(raw, 16) {
					return errDecline
				}
				v = hexValue(raw)
			}
			if key[0] == 'i' {
				sp.id = v
			} else {
				sp.parent, sp.hasParent = v, true
			}
		case "debug", "shared":
			return s.boolean()
		case "name":
			v, err := s.str()
			sp.name = v
			return err
		case "kind":
			v, err := s.str()
			sp.kind = v
			return err
		case "timestamp":
			v, err := s.uint(1<<53 - 1)
			sp.ts = v
			return err
		case "duration":
			v, err := s.uint(1<<53 - 1)
			sp.dur = v
			return err
		case "localEndpoint":
			return s.endpoint(&sp.local)
		case "remoteEndpoint":
			return s.endpoint(&sp.remote)
		case "annotations":
			return s.array(func() error {
				var a anno
				var aseen uint32
				err := s.object(func(key []byte) error {
					i, err := once(&aseen, annoKeys, key)
					switch {
					case err != nil:
						return err
					case i == 0: // timestamp
						v, err := s.uint(1<<53 - 1)
						a.ts = v
						return err
					case i == 1: // value
						v, err := s.str()
						a.name = v
						return err
					}
					return s.unknown(key, annoKeys)
				})
				if err != nil {
					return err
				}
				// zipkin-go refuses an annotation without a timestamp;
				// a value of more than two "|" parts carries attributes
				// as JSON (contrib's event encoding): contrib reads those.
				if a.ts < 1 || strings.Count(a.name, "|") > 1 {
					return errDecline
				}
				if i := strings.IndexByte(a.name, '|'); i >= 0 {
					a.name = a.name[:i]
				}
				s.annos = append(s.annos, a)
				return nil
			})
		case "tags":
			return s.object(func(key []byte) error {
				k := s.keepKey(key)
				if k == "otlp.link.0" {
					// Links encoded as tags (contrib's otlp.link.N):
					// contrib reads them.
					return errDecline
				}
				v, err := s.str()
				if err != nil {
					return err
				}
				s.tags = append(s.tags, kv{k, v})
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return sp, err
	}
	// zipkin-go: "valid span id required" (an id absent or "" is 0).
	if sp.id == 0 {
		return sp, errDecline
	}
	sp.tag1, sp.anno1 = len(s.tags), len(s.annos)
	return sp, nil
}

func (s *scanner) endpoint(e *endpoint) error {
	var seen uint32
	err := s.object(func(key []byte) error {
		i, err := once(&seen, endpointKeys, key)
		if err != nil {
			return err
		}
		switch i {
		case 0: // serviceName
			v, err := s.str()
			e.service = v
			return err
		case 1: // ipv4
			v, err := s.ip()
			e.ipv4 = v
			return err
		case 2: // ipv6
			v, err := s.ip()
			e.ipv6 = v
			return err
		case 3: // port
			v, err := s.uint(1<<16 - 1)
			e.port = uint16(v)
			return err
		}
		return s.unknown(key, endpointKeys)
	})
	e.set = e.service != "" || e.port != 0 || e.ipv4 != "" || e.ipv6 != ""
	return err
}

// ip reads an address as net.IP's UnmarshalText and String give it: ""
// is no address; one that does not parse declines (an error there).
func (s *scanner) ip() (string, error) {
	raw, esc, err := s.rawString()
	if err != nil || esc {
		return "", errDecline
	}
	if len(raw) == 0 {
		return "", nil
	}
	if a, err := netip.ParseAddr(string(raw)); err == nil && a.Is4() {
		// net.ParseIP and netip agree on dotted quads, and both print
		// them canonically; netip allocates less.
		return a.String(), nil
	}
	ip := net.ParseIP(string(raw))
	if ip == nil {
		return "", errDecline
	}
	return ip.String(), nil
}
