package accesslog

import (
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// A quoted last value keeps every quote inside it: both genops text
// formats end with a quoted header, and a client writes any text there.
// Cut at its first quote, `a"b` would read as `a`; a value that holds
// the text between two fields (` "`) splits two ways and is refused as
// ambiguous, never cut (`curl "x" 1` is not `curl `).
func TestQuotedLastValue(t *testing.T) {
	p, err := New(`%RESPONSE_CODE% "%REQ(USER-AGENT)%"`, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ line, want string }{
		{`200 "a"b"`, `a"b`},
		{`200 "a"b"c""`, `a"b"c"`},
		{`200 ""`, ``},
		{`200 "curl/8.5.0"`, `curl/8.5.0`},
		{`200 "curl "x" 1"`, ReasonAmbiguous},
		{`200 "ends with " ""`, ReasonAmbiguous},
	} {
		var f Fields
		if err := p.Parse(tc.line, &f); err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Reason != ReasonAmbiguous || tc.want != ReasonAmbiguous {
				t.Errorf("%s: %v", tc.line, err)
			}
			continue
		}
		if tc.want == ReasonAmbiguous {
			t.Errorf("%s: parsed, want refused as ambiguous", tc.line)
			continue
		}
		lr := plog.NewLogRecord()
		if err := p.WriteRecord(&f, lr); err != nil {
			t.Fatal(err)
		}
		got, _ := lr.Attributes().Get("user_agent.original")
		if got.Str() != tc.want {
			t.Errorf("%s: user agent %q, want %q (attributes %v)", tc.line, got.Str(), tc.want, lr.Attributes().AsRaw())
		}
	}
}

// A parse error says where the line went wrong ("at byte N"): the start
// of what was not understood.
func TestParseErrorPositions(t *testing.T) {
	zt, err := New("ztunnel", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	text, err := New(`[%START_TIME%] "%REQ(:METHOD)% %PROTOCOL%" %RESPONSE_CODE% "%REQ(USER-AGENT)%"`, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p      Parser
		line   string
		reason string
		pos    int
	}{
		// the target after "<time>\t<level>\t"
		{zt, "2024-04-12T10:17:44Z\tinfo\tztunnel::proxy\tlistener established\taddress=0.0.0.0:15001", ReasonPrefix, 26},
		// no tabs: the end of the line
		{zt, "2024-04-12T10:17:44Z info access", ReasonDelimiter, 32},
		// the quote that opens the unterminated value
		{zt, "2024-04-12T10:17:44Z\tinfo\taccess\tconnection complete\tsrc.addr=\"unterminated", ReasonDelimiter, 62},
		// the key that has no "="
		{zt, "2024-04-12T10:17:44Z\tinfo\taccess\tconnection complete\tnot a pair", ReasonDelimiter, 53},
		{zt, "2024-04-12T10:17:44Z\tinfo\taccess\tconnection complete\tsrc.addr=1.2.3.4:5 oops", ReasonDelimiter, 72},
		{zt, "   ", ReasonEmpty, 0},
		// not the format's leading text: byte 0
		{text, `GET / HTTP/1.1`, ReasonPrefix, 0},
		// no ` "` after the status: where the status starts
		{text, `[2026-11-20T10:00:00.000Z] "GET HTTP/1.1" 200 curl`, ReasonDelimiter, 42},
		// no closing quote at the end: where the last field starts
		{text, `[2026-11-20T10:00:00.000Z] "GET HTTP/1.1" 200 "curl`, ReasonDelimiter, 47},
	} {
		var f Fields
		err := tc.p.Parse(tc.line, &f)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Reason != tc.reason || pe.Pos != tc.pos {
			t.Errorf("%q: %v, want %s at byte %d", tc.line, err, tc.reason, tc.pos)
		}
	}
}

// Format strings the compiler refuses, each with the message a user
// reads, and ones it takes.
func TestCompileEdges(t *testing.T) {
	for format, want := range map[string]string{
		"%RESPONSE_CODE% %":             "unterminated command operator",
		"%(X-ID)%":                      "empty command operator",
		"%:5%":                          "empty command operator",
		"%REQ(X-ID):0%":                 `truncation length "0" is not a positive integer`,
		"%REQ(X-ID):1%":                 "",
		"%RESPONSE_CODE-X%":             `operator name "RESPONSE_CODE-X": only A-Z, 0-9 and _ are allowed`,
		"%response_code%":               "only A-Z, 0-9 and _ are allowed",
		"100%% %RESPONSE_CODE%":         "",
		"%RESPONSE_CODE% %%":            "",
		"%DOWNSTREAM_PEER_URI_SAN% %Z%": "",
		"%A0% %A9% %A_%":                "",
		// strftime's literal percent ends the argument: the operator
		// ends after the parenthesis, not at the percent inside it.
		"[%START_TIME(%s%%)%] %RESPONSE_CODE%": "",
	} {
		_, err := Compile(format)
		switch {
		case want == "" && err != nil && strings.Contains(err.Error(), "only A-Z"):
			t.Errorf("%q: %v", format, err)
		case want == "" && err != nil && !strings.Contains(format, "%A") && !strings.Contains(format, "%Z%"):
			t.Errorf("%q: %v", format, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: %v, want %q", format, err, want)
		}
	}
	// "%%" is one literal percent sign.
	f, err := Compile("%RESPONSE_CODE% 100%%")
	if err != nil {
		t.Fatal(err)
	}
	var fl Fields
	if err := f.Parse("200 100%", &fl); err != nil {
		t.Errorf("a literal percent sign: %v", err)
	}
	if err := f.Parse("200 100%%", &fl); err == nil {
		t.Error("%% matched two percent signs")
	}
}

// A JSON key mapped to "%%" is a raw field named "%%", not an operator.
func TestJSONPercentKey(t *testing.T) {
	if _, err := CompileJSON(map[string]string{"code": "%RESPONSE_CODE%", "pct": "%%"}); err != nil {
		t.Errorf("CompileJSON: %v", err)
	}
	_, err := New("%RESPONSE_CODE%", EncodingJSON, nil)
	if err == nil || !strings.Contains(err.Error(), "istio_json") || strings.Contains(err.Error(), "istio_genops,") {
		t.Errorf("a format string with encoding json: %v", err)
	}
}

// The last, unquoted field holds no space: text after it is refused where
// the extra text starts.
func TestTrailingTextPosition(t *testing.T) {
	f, err := Compile("%RESPONSE_CODE% %DURATION%")
	if err != nil {
		t.Fatal(err)
	}
	for line, pos := range map[string]int{"200 5 extra": 5, "200  5": 4} {
		var fl Fields
		var pe *ParseError
		if err := f.Parse(line, &fl); !errors.As(err, &pe) || pe.Reason != ReasonTrailing || pe.Pos != pos {
			t.Errorf("%q: %v, want %s at byte %d", line, err, ReasonTrailing, pos)
		}
	}
}

// A value that cannot be converted is quoted in the error, whole up to 64
// bytes, cut after.
func TestValueErrorLength(t *testing.T) {
	exact, long := strings.Repeat("x", 64), strings.Repeat("y", 65)
	if got := (&ValueError{Operator: "DURATION", Value: exact}).Error(); !strings.Contains(got, `"`+exact+`"`) {
		t.Errorf("64 bytes were cut: %s", got)
	}
	if got := (&ValueError{Operator: "DURATION", Value: long}).Error(); !strings.Contains(got, `"`+long[:64]+`..."`) {
		t.Errorf("65 bytes were not cut: %s", got)
	}
}

// Linkerd's total_ns is kept in nanoseconds and converted to
// milliseconds for the duration every SLI reads.
func TestLinkerdTotalNs(t *testing.T) {
	p, err := New("%RESPONSE_CODE% %LINKERD_TOTAL_NS%", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	lr := plog.NewLogRecord()
	lr.Body().SetStr("200 1500000")
	var fl Fields
	if err := StructureRecord(p, lr, &fl); err != nil {
		t.Fatal(err)
	}
	a := lr.Attributes().AsRaw()
	if a["linkerd.total_ns"] != int64(1500000) || a["envoy.duration_ms"] != int64(1) {
		t.Errorf("attributes %v", a)
	}
	lr.Body().SetStr("200 soon")
	if err := StructureRecord(p, lr, &fl); err == nil {
		t.Error("a total_ns that is no number was taken")
	}
}

func TestDirectionFromCluster(t *testing.T) {
	for cluster, want := range map[string]string{
		"outbound|8080||llm.ai.svc.cluster.local": DirectionOutbound, "PassthroughCluster": DirectionOutbound,
		"BlackHoleCluster": DirectionOutbound, "inbound|8080||": DirectionInbound, "InboundPassthroughClusterIpv4": DirectionInbound,
		"ai/llm|8080|local": DirectionInbound, "local_app": DirectionInbound, "some-cluster": "",
	} {
		if got := DirectionFromCluster(cluster); got != want {
			t.Errorf("%s: %q, want %q", cluster, got, want)
		}
	}
}

// A full URI (Linkerd's uri field) is split into the server address and
// the path; a path alone is a path.
func TestPutURI(t *testing.T) {
	for uri, want := range map[string][2]string{
		"http://llm.ai:8080/v1/chat?x=1": {"llm.ai", "/v1/chat"},
		"http://llm.ai":                  {"llm.ai", "/"},
		"/v1/chat":                       {"", "/v1/chat"},
		"file:///etc/hosts":              {"", "/etc/hosts"},
	} {
		attrs := pcommon.NewMap()
		putURI(attrs, uri)
		a := attrs.AsRaw()
		if host, _ := a["server.address"].(string); host != want[0] || a["url.path"] != want[1] {
			t.Errorf("%s: %v", uri, a)
		}
	}
}

func TestPutProtocol(t *testing.T) {
	for v, want := range map[string][2]string{
		"HTTP/1.1": {"http", "1.1"}, "HTTP/2": {"http", "2"}, "HTTP/2.0": {"http", "2"}, "SPDY/3": {"spdy", "3"},
	} {
		attrs := pcommon.NewMap()
		putProtocol(attrs, v)
		a := attrs.AsRaw()
		if a["network.protocol.name"] != want[0] || a["network.protocol.version"] != want[1] {
			t.Errorf("%s: %v", v, a)
		}
	}
}

// ztunnel key=value edges: a key that is empty, an empty value, and a
// quoted value that ends in a backslash.
func TestZtunnelEdges(t *testing.T) {
	zt, err := New("ztunnel", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	const head = "2024-04-12T10:17:44Z\tinfo\taccess\tconnection complete\t"
	var fl Fields
	if err := zt.Parse(head+"src.addr=1.2.3.4:5 =x", &fl); err == nil {
		t.Error("an empty key was taken")
	}
	if err := zt.Parse(head+`src.addr="1.2.3.4:5\`, &fl); err == nil {
		t.Error("a quoted value ending in a backslash was taken")
	}
	lr := plog.NewLogRecord()
	lr.Body().SetStr(head + "src.workload= dst.addr=10.0.0.7:8080")
	if err := StructureRecord(zt, lr, &fl); err != nil {
		t.Fatal(err)
	}
	if a := lr.Attributes().AsRaw(); a["envoy.upstream_host"] != "10.0.0.7:8080" {
		t.Errorf("after an empty value the next pair was lost: %v", a)
	}
}

// The builder (ALS entries) refuses an operator it cannot compile, and
// drops an empty extra attribute.
func TestBuilder(t *testing.T) {
	if _, err := NewBuilder("RESPONSE_CODE", "bad-name"); err == nil || !strings.Contains(err.Error(), `operator 1 "bad-name"`) {
		t.Errorf("NewBuilder: %v", err)
	}
	b, err := NewBuilder("RESPONSE_CODE")
	if err != nil {
		t.Fatal(err)
	}
	var fl Fields
	b.Reset(&fl)
	fl.Set(0, "200")
	fl.AddExtra("http.request.header.x-genops-team", "")
	fl.AddExtra("http.request.header.x-genops-project", "search")
	lr := plog.NewLogRecord()
	if err := b.WriteRecord(&fl, lr); err != nil {
		t.Fatal(err)
	}
	a := lr.Attributes().AsRaw()
	if _, ok := a["http.request.header.x-genops-team"]; ok || a["http.request.header.x-genops-project"] != "search" {
		t.Errorf("extras %v", a)
	}
}

// The mesh JSON format is one JSON object per line, as Istio's
// accessLogFormat with accessLogEncoding JSON takes it.
func TestGenOpsMeshJSONFormat(t *testing.T) {
	f := GenOpsMeshJSONFormat()
	if !strings.HasPrefix(f, "{") || !strings.HasSuffix(f, "}\n") || strings.Count(f, "\n") != 1 {
		t.Errorf("format %q", f)
	}
}

// A B3 trace id header sets the record's trace id and keeps the header.
func TestTraceIDHeader(t *testing.T) {
	p, err := New(`%RESPONSE_CODE% "%REQ(X-B3-TRACEID)%"`, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	lr := plog.NewLogRecord()
	lr.Body().SetStr(`200 "80f198ee56343ba864fe8b2a57d3eff7"`)
	var fl Fields
	if err := StructureRecord(p, lr, &fl); err != nil {
		t.Fatal(err)
	}
	if got := lr.TraceID().String(); got != "80f198ee56343ba864fe8b2a57d3eff7" {
		t.Errorf("trace id %s", got)
	}
	if v, _ := lr.Attributes().Get("http.request.header.x-b3-traceid"); v.Str() != "80f198ee56343ba864fe8b2a57d3eff7" {
		t.Errorf("header %v", lr.Attributes().AsRaw())
	}
}
