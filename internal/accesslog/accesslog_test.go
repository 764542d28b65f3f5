package accesslog

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/genops-mesh/otelcol-genops/internal/fixtures"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Formats of the older Istio layouts, quoted in FORMATS.md §3b and §3c.
const (
	istioMixerFormat = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% "%DYNAMIC_METADATA(istio.mixer:status)%" "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%`
	istio11Format    = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME%`
)

// fixtureCases pairs each access log sample with the format that wrote it.
var fixtureCases = []struct {
	file, format, encoding string
	// strip removes a prefix that is not part of the access log (kubectl
	// logs --timestamps).
	strip func(string) string
}{
	{file: "envoy-docs-default-format.log", format: "envoy"},
	{file: "istio-io-access-log-task.log", format: "istio"},
	{file: "istio-io-egress-gateway-default.log", format: "istio"},
	{file: "istio-io-egress-gateway-legacy-1.3-1.7-mixer.log", format: istioMixerFormat},
	{file: "istio-io-egress-gateway-legacy-1.1-snapshot.log", format: istio11Format},
	{file: "kiali-waypoint-kubectl-timestamps.log", format: "istio", strip: func(l string) string {
		_, rest, _ := strings.Cut(l, " ")
		return rest
	}},
	{file: "linkerd-docs-apache.log", format: "linkerd_apache"},
	{file: "linkerd-docs-json.log", format: "linkerd_json"},
	{file: "osm-docs-default-json.log", format: "osm_json"},
	{file: "kiali-ztunnel.log", format: "ztunnel"},
}

// recordJSON renders a record as the golden files hold it.
func recordJSON(lr plog.LogRecord) map[string]any {
	out := map[string]any{"attributes": lr.Attributes().AsRaw()}
	if ts := lr.Timestamp(); ts != 0 {
		out["timestamp"] = ts.AsTime().UTC().Format("2006-01-02T15:04:05.000000000Z")
	}
	if id := lr.TraceID(); !id.IsEmpty() {
		out["trace_id"] = id.String()
	}
	return out
}

// Every line of every real sample parses with the format that wrote it,
// and the records are exactly the golden ones (go test -update rewrites
// them; read the diff before committing).
func TestFixturesGolden(t *testing.T) {
	for _, tc := range fixtureCases {
		t.Run(tc.file, func(t *testing.T) {
			lines := fixtures.Lines(t, "envoy-access-logs", tc.file)
			p, err := New(tc.format, tc.encoding, nil)
			if err != nil {
				t.Fatal(err)
			}
			var fields Fields
			var got []map[string]any
			for i, line := range lines {
				if tc.strip != nil {
					line = tc.strip(line)
				}
				if err := p.Parse(line, &fields); err != nil {
					t.Fatalf("line %d: %v\n%s", i+1, err, line)
				}
				lr := plog.NewLogRecord()
				if err := p.WriteRecord(&fields, lr); err != nil {
					t.Fatalf("line %d: %v\n%s", i+1, err, line)
				}
				got = append(got, recordJSON(lr))
			}
			compareGolden(t, filepath.Join("testdata", "golden", strings.TrimSuffix(tc.file, ".log")+".json"), got)
		})
	}
}

func compareGolden(t *testing.T, path string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(b) {
		t.Errorf("%s differs from the output; run go test -update and read the diff. Got:\n%s", path, b)
	}
}

// Hand-checked values for one inbound and one outbound Istio line, so the
// golden files are anchored to what a person expects.
func TestIstioLineAttributes(t *testing.T) {
	p, err := New("istio", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	const inbound = `[2020-11-25T21:26:18.409Z] "GET /status/418?x=1 HTTP/1.1" 418 - via_upstream - "-" 0 135 3 1 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "127.0.0.1:80" inbound|8000|| 127.0.0.1:41854 10.44.1.27:80 10.44.1.23:37652 outbound_.8000_._.httpbin.foo.svc.cluster.local default`
	var fields Fields
	if err := p.Parse(inbound, &fields); err != nil {
		t.Fatal(err)
	}
	lr := plog.NewLogRecord()
	if err := p.WriteRecord(&fields, lr); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"http.request.method":         "GET",
		"url.path":                    "/status/418",
		"url.query":                   "x=1",
		"network.protocol.name":       "http",
		"network.protocol.version":    "1.1",
		"http.response.status_code":   int64(418),
		"envoy.response_code_details": "via_upstream",
		"envoy.bytes_received":        int64(0),
		"envoy.bytes_sent":            int64(135),
		"envoy.duration_ms":           int64(3),
		"http.response.header.x-envoy-upstream-service-time": "1",
		"user_agent.original":                                "curl/7.73.0-DEV",
		"envoy.request_id":                                   "84961386-6d84-929d-98bd-c5aee93b5c88",
		"server.address":                                     "httpbin",
		"server.port":                                        int64(8000),
		"envoy.upstream_host":                                "127.0.0.1:80",
		"envoy.upstream_cluster":                             "inbound|8000||",
		"envoy.upstream_local_address":                       "127.0.0.1:41854",
		"envoy.downstream_local_address":                     "10.44.1.27:80",
		"client.address":                                     "10.44.1.23",
		"client.port":                                        int64(37652),
		"envoy.requested_server_name":                        "outbound_.8000_._.httpbin.foo.svc.cluster.local",
		"envoy.route_name":                                   "default",
		"envoy.direction":                                    "inbound",
		"network.peer.address":                               "10.44.1.23",
	}
	got := lr.Attributes().AsRaw()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected attribute %s = %#v", k, got[k])
		}
	}
	if ts := lr.Timestamp().AsTime().UTC().Format("2006-01-02T15:04:05.000Z"); ts != "2020-11-25T21:26:18.409Z" {
		t.Errorf("timestamp %s", ts)
	}
}

// The format a GenOps user configures (Istio's default plus the governance
// headers) parses out of the box, hostile values included, and the headers
// land as http.request.header.* attributes.
// The preset istio_genops (GenOpsMeshFormat, what deploy/mesh configures)
// carries every request header and the AI response headers.
func TestGenOpsMeshPreset(t *testing.T) {
	p, err := New("istio_genops", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	line := `[2026-11-20T10:00:00.000Z] "POST /v1/chat/completions HTTP/2" 200 - via_upstream - "-" 512 2048 1234 1200 "-" "python-httpx/0.27.0" "3c1f0b9e-1111-2222-3333-444455556666" "llm.ai.svc.cluster.local:8080" "10.0.0.7:8080" inbound|8080|| 127.0.0.6:51515 10.0.0.7:8080 10.0.0.9:40000 outbound_.8080_._.llm.ai.svc.cluster.local default ` +
		`"ml-platform" "support-bot" "cust-42" "cc-1" "gold" "production" "chat" "gpt-4o" "openai" "1200" "300" "0.0061"`
	var fields Fields
	if err := p.Parse(line, &fields); err != nil {
		t.Fatal(err)
	}
	lr := plog.NewLogRecord()
	if err := p.WriteRecord(&fields, lr); err != nil {
		t.Fatal(err)
	}
	got := lr.Attributes().AsRaw()
	for k, v := range map[string]string{
		"http.request.header.x-genops-team": "ml-platform", "http.request.header.x-genops-project": "support-bot",
		"http.request.header.x-genops-customer-id": "cust-42", "http.request.header.x-genops-cost-center": "cc-1",
		"http.request.header.x-genops-customer-tier": "gold", "http.request.header.x-genops-environment": "production",
		"http.request.header.x-genops-feature": "chat", "http.response.header.x-genops-model": "gpt-4o",
		"http.response.header.x-genops-provider": "openai", "http.response.header.x-genops-tokens-input": "1200",
		"http.response.header.x-genops-tokens-output": "300", "http.response.header.x-genops-cost": "0.0061",
	} {
		if got[k] != v {
			t.Errorf("%s = %#v, want %q", k, got[k], v)
		}
	}
}

func TestIstioGenOpsHeaders(t *testing.T) {
	p, err := New(IstioGenOpsFormat, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	base := `[2026-11-20T10:00:00.000Z] "POST /v1/chat/completions HTTP/2" 200 - via_upstream - "-" 512 2048 1234 1200 "-" "python-httpx/0.27.0" "3c1f0b9e-1111-2222-3333-444455556666" "llm.ai.svc.cluster.local:8080" "10.0.0.7:8080" inbound|8080|| 127.0.0.6:51515 10.0.0.7:8080 10.0.0.9:40000 outbound_.8080_._.llm.ai.svc.cluster.local default `
	for _, tc := range []struct {
		name, tail string
		want       map[string]string
	}{
		{"all set", `"ml-platform" "cust-42" "support-bot"`, map[string]string{
			"http.request.header.x-genops-team": "ml-platform", "http.request.header.x-genops-customer-id": "cust-42", "http.request.header.x-genops-project": "support-bot"}},
		{"absent", `"-" "-" "-"`, map[string]string{}},
		{"spaces inside quotes", `"ml platform" "a b c" "-"`, map[string]string{
			"http.request.header.x-genops-team": "ml platform", "http.request.header.x-genops-customer-id": "a b c"}},
		{"invalid utf-8", "\"t\xff\xfe\" \"c\" \"p\"", map[string]string{
			"http.request.header.x-genops-team": "t\uFFFD", "http.request.header.x-genops-customer-id": "c", "http.request.header.x-genops-project": "p"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fields Fields
			if err := p.Parse(base+tc.tail, &fields); err != nil {
				t.Fatal(err)
			}
			lr := plog.NewLogRecord()
			if err := p.WriteRecord(&fields, lr); err != nil {
				t.Fatal(err)
			}
			got := lr.Attributes().AsRaw()
			for _, h := range []string{"x-genops-team", "x-genops-customer-id", "x-genops-project"} {
				k := "http.request.header." + h
				w, wantSet := tc.want[k]
				g, gotSet := got[k]
				if wantSet != gotSet || (wantSet && g != w) {
					t.Errorf("%s = %#v (set %v), want %#v (set %v)", k, g, gotSet, w, wantSet)
				}
			}
			if got["envoy.route_name"] != "default" || got["http.response.status_code"] != int64(200) {
				t.Errorf("fields before the headers were disturbed: %v", got)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		format, want string
		pos          int
	}{
		{``, "empty format", 0},
		{`[%START_TIME] "%REQ(:METHOD)%"`, "spaces or quotes inside", 1},
		{`%START_TIME% %DURATION`, "unterminated", 13},
		{`%START_TIME%%DURATION%`, "adjacent", 12},
		{`%REQ()%`, "needs a header name", 0},
		{`%REQ(X-A):abc%`, "truncation length", 0},
		{`%REQ(X-A:3%`, "no closing parenthesis", 0},
		{`x %lower% y`, "only A-Z", 2},
		{`just text`, "no command operators", 0},
	} {
		_, err := Compile(tc.format)
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("Compile(%q) = %v, want a CompileError", tc.format, err)
			continue
		}
		if !strings.Contains(ce.Msg, tc.want) || ce.Pos != tc.pos {
			t.Errorf("Compile(%q) = %v, want %q at position %d", tc.format, err, tc.want, tc.pos)
		}
	}
}

func TestOperators(t *testing.T) {
	for _, tc := range []struct {
		text   string
		kind   Kind
		attr   string
		maxLen int
	}{
		{"REQ(X-ENVOY-ORIGINAL-PATH?:PATH)", KindPath, "", 0},
		{"REQ(:AUTHORITY):20", KindAuthority, "", 20},
		{"REQ(X-GENOPS-TEAM):64", KindRequestHeader, "http.request.header.x-genops-team", 64},
		{"RESP(X-GENOPS-COST)", KindResponseHeader, "http.response.header.x-genops-cost", 0},
		{"UPSTREAM_CLUSTER_RAW", KindUpstreamCluster, "envoy.upstream_cluster", 0},
		{"DYNAMIC_METADATA(istio.mixer:status)", KindRaw, "envoy.dynamic_metadata(istio.mixer:status)", 0},
		{"FILTER_STATE(foo)", KindRaw, "envoy.filter_state(foo)", 0},
		{"START_TIME(%Y-%m-%dT%H:%M:%S%z)", KindStartTime, "", 0},
		{"START_TIME(%Q)", KindRaw, "envoy.start_time", 0},
		{"REQ(TRACEPARENT)", KindTraceID, "http.request.header.traceparent", 0},
	} {
		op, err := parseOperator(tc.text, 0)
		if err != nil {
			t.Errorf("%s: %v", tc.text, err)
			continue
		}
		if op.Kind != tc.kind || op.Attr != tc.attr || op.MaxLen != tc.maxLen {
			t.Errorf("%s = kind %d attr %q max %d, want kind %d attr %q max %d", tc.text, op.Kind, op.Attr, op.MaxLen, tc.kind, tc.attr, tc.maxLen)
		}
	}
}

func TestStartTimeFormats(t *testing.T) {
	for _, tc := range []struct{ format, value, want string }{
		{"%Y-%m-%dT%H:%M:%S%z", "2026-11-20T10:00:00+0100", "2026-11-20T09:00:00.000Z"},
		{"%Y-%m-%dT%H:%M:%E3SZ", "2026-11-20T10:00:00.123Z", "2026-11-20T10:00:00.123Z"},
		{"%s", "1763632800", "2025-11-20T10:00:00.000Z"},
		{"%d/%b/%Y:%H:%M:%S %z", "20/Nov/2026:10:00:00 +0000", "2026-11-20T10:00:00.000Z"},
	} {
		f, err := Compile(`[%START_TIME(` + tc.format + `)%] %RESPONSE_CODE%`)
		if err != nil {
			t.Fatal(err)
		}
		var fields Fields
		if err := f.Parse("["+tc.value+"] 200", &fields); err != nil {
			t.Fatal(err)
		}
		lr := plog.NewLogRecord()
		if err := f.WriteRecord(&fields, lr); err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		if got := lr.Timestamp().AsTime().UTC().Format("2006-01-02T15:04:05.000Z"); got != tc.want {
			t.Errorf("%s %q = %s, want %s", tc.format, tc.value, got, tc.want)
		}
	}
}

func TestTraceIDs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"4bf92f3577b34da6a3ce929d0e0e4736", "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"a3ce929d0e0e4736", "0000000000000000a3ce929d0e0e4736"},
		{"zz", ""},
		{"00000000000000000000000000000000", ""},
	} {
		id, ok := parseTraceID(tc.in)
		got := ""
		if ok {
			got = id.String()
		}
		if got != tc.want {
			t.Errorf("parseTraceID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Envoy's TEXT format escapes nothing: a client that puts the separator
// of two quoted fields (`" "`) into its User-Agent could shift every later
// field of an istio_genops line — the peer, the team header, the tokens.
// Such a line is a parse error, never a shifted record; a lone quote,
// which shifts nothing, parses.
func TestQuoteInjection(t *testing.T) {
	p, err := New("istio_genops", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	line := func(ua string) string {
		return `[2026-11-20T10:00:00.000Z] "POST /v1/chat HTTP/2" 200 - via_upstream - "-" 512 2048 12 10 "-" "` + ua +
			`" "id-1" "llm.ai:8080" "10.0.0.7:8080" inbound|8080|| 127.0.0.6:51515 10.0.0.7:8080 10.0.0.66:40000 - default` +
			` "ml-platform" "-" "-" "-" "-" "-" "-" "-" "-" "-" "-" "-"`
	}
	var fields Fields
	if err := p.Parse(line(`curl/8 "quoted" x`), &fields); err != nil {
		t.Fatalf("a lone quote: %v", err)
	}
	for _, ua := range []string{
		`x" "forged-id" "victim.ai:8080" "10.0.0.9:8080`, // shifts the authority and the upstream
		`x" "billing`, // shifts the team header into place
		`" "`,
	} {
		err := p.Parse(line(ua), &fields)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Reason != ReasonAmbiguous {
			t.Errorf("User-Agent %q: %v, want reason %s", ua, err, ReasonAmbiguous)
		}
	}
}

// The JSON format deploy/mesh configures escapes every value: the same
// hostile User-Agent is one field, and every governance header, the
// caller's mTLS identity and the AI response headers are read.
func TestGenOpsJSONPreset(t *testing.T) {
	p, err := New("istio_genops_json", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	line := `{"start_time":"2026-11-20T10:00:00.000Z","method":"POST","path":"/v1/chat","protocol":"HTTP/2","response_code":200,` +
		`"user_agent":"x\" \"billing","authority":"llm.ai:8080","downstream_remote_address":"10.0.0.66:40000",` +
		`"downstream_peer_uri_san":"spiffe://cluster.local/ns/api-gateway/sa/gateway","genops_team":"ml-platform","genops_customer_id":"acme",` +
		`"genops_tokens_input":"1200","genops_cost":null,"duration":12}`
	var fields Fields
	if err := p.Parse(line, &fields); err != nil {
		t.Fatal(err)
	}
	lr := plog.NewLogRecord()
	if err := p.WriteRecord(&fields, lr); err != nil {
		t.Fatal(err)
	}
	a := lr.Attributes().AsRaw()
	for k, want := range map[string]any{
		"user_agent.original": `x" "billing`, "http.request.header.x-genops-team": "ml-platform",
		"http.request.header.x-genops-customer-id": "acme", "http.response.header.x-genops-tokens-input": "1200",
		"envoy.downstream_peer_uri_san": "spiffe://cluster.local/ns/api-gateway/sa/gateway",
	} {
		if a[k] != want {
			t.Errorf("%s = %v, want %v (%v)", k, a[k], want, a)
		}
	}
}

// Lines that do not match are errors with a reason, never a panic, and a
// value that cannot be converted loses only that value.
func TestBadLines(t *testing.T) {
	p, err := New("istio", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ line, reason string }{
		{"", ReasonEmpty},
		{"hello world", ReasonPrefix},
		{`[2020-11-25T21:26:18.409Z] "GET /x HTTP/1.1" 200`, ReasonDelimiter},
		{`[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 3 1 "-" "curl" "id" "httpbin:8000" "127.0.0.1:80" inbound|8000|| 127.0.0.1:41854 10.44.1.27:80 10.44.1.23:37652 sni default "extra" "fields"`, ReasonTrailing},
	} {
		var fields Fields
		err := p.Parse(tc.line, &fields)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Reason != tc.reason {
			t.Errorf("Parse(%q) = %v, want reason %s", tc.line, err, tc.reason)
		}
	}
	var fields Fields
	line := `[2020-11-25T21:26:18.409Z] "GET /x HTTP/1.1" abc - via_upstream - "-" 0 135 3 1 "-" "curl" "id" "httpbin:8000" "127.0.0.1:80" inbound|8000|| 127.0.0.1:41854 10.44.1.27:80 10.44.1.23:37652 - default`
	if err := p.Parse(line, &fields); err != nil {
		t.Fatal(err)
	}
	lr := plog.NewLogRecord()
	err = p.WriteRecord(&fields, lr)
	var ve *ValueError
	if !errors.As(err, &ve) || ve.Operator != "RESPONSE_CODE" {
		t.Fatalf("WriteRecord = %v, want a ValueError for RESPONSE_CODE", err)
	}
	if _, ok := lr.Attributes().Get("http.response.status_code"); ok {
		t.Error("an unconvertible status code was written")
	}
	if v, _ := lr.Attributes().Get("envoy.route_name"); v.Str() != "default" {
		t.Error("other fields were lost")
	}
}

func TestJSONKeyMap(t *testing.T) {
	p, err := New("istio_json", "json", map[string]string{
		"genops_team": "%REQ(X-GENOPS-TEAM)%",
		"cost":        "genops.cost.total",
	})
	if err != nil {
		t.Fatal(err)
	}
	var fields Fields
	line := `{"start_time":"2026-11-20T10:00:00.000Z","response_code":503,"response_flags":"UF","genops_team":"ml-platform","cost":"0.25","upstream_cluster":"outbound|80||llm.ai.svc.cluster.local","upstream_host":"10.0.0.8:80","x_forwarded_for":null,"custom":{"a":[1,2]},"flag":true}`
	if err := p.Parse(line, &fields); err != nil {
		t.Fatal(err)
	}
	lr := plog.NewLogRecord()
	if err := p.WriteRecord(&fields, lr); err != nil {
		t.Fatal(err)
	}
	got := lr.Attributes().AsRaw()
	for k, v := range map[string]any{
		"http.response.status_code":         int64(503),
		"envoy.response_flags":              "UF",
		"http.request.header.x-genops-team": "ml-platform",
		"genops.cost.total":                 "0.25",
		"custom":                            `{"a":[1,2]}`,
		"flag":                              "true",
		"envoy.direction":                   "outbound",
		"network.peer.address":              "10.0.0.8",
	} {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if _, ok := got["http.request.header.x-forwarded-for"]; ok {
		t.Error("null became a value")
	}
	for _, bad := range []string{`{"a":`, `[1,2]`, `"x"`, `{} {}`} {
		if err := p.Parse(bad, &fields); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct{ format, encoding, want string }{
		{"istio_json", "text", "is a JSON format"},
		{"istio", "json", "is a text format"},
		{"", "text", "no format"},
		{"%X%", "json", "not a format string"},
		{"istio", "xml", "unknown encoding"},
	} {
		if _, err := New(tc.format, tc.encoding, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q, %q) = %v, want %q", tc.format, tc.encoding, err, tc.want)
		}
	}
}

// StructureRecord structures a record whose body is the line, as Envoy's
// OpenTelemetry access logger sends it, keeping its own attributes.
func TestStructureRecord(t *testing.T) {
	p, err := New("istio", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	lr := plog.NewLogRecord()
	lr.Body().SetStr(`[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default`)
	lr.Attributes().PutStr("k8s.pod.name", "sleep-1")
	var fields Fields
	if err := StructureRecord(p, lr, &fields); err != nil {
		t.Fatal(err)
	}
	got := lr.Attributes().AsRaw()
	if got["k8s.pod.name"] != "sleep-1" || got["envoy.direction"] != "outbound" || got["network.peer.address"] != "10.44.1.27" {
		t.Errorf("attributes: %v", got)
	}
}

// ztunnel lines: a failed connection carries its error and the outcome;
// quoted values keep escaped quotes; ztunnel's own log lines are refused
// with a reason; a bad duration is kept as text, not an error.
func TestZtunnel(t *testing.T) {
	p, err := New("ztunnel", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var fields Fields
	failed := "2024-04-12T10:17:44.080629Z\terror\taccess\tconnection complete\tsrc.addr=10.0.0.1:5000 src.identity=\"spiffe://cluster.local/ns/a/sa/b\" dst.addr=10.0.0.2:15008 direction=\"outbound\" bytes_sent=0 bytes_recv=0 duration=\"1.5s\" error=\"connection refused \\\"upstream\\\"\""
	if err := p.Parse(failed, &fields); err != nil {
		t.Fatal(err)
	}
	lr := plog.NewLogRecord()
	if err := p.WriteRecord(&fields, lr); err != nil {
		t.Fatal(err)
	}
	got := lr.Attributes().AsRaw()
	for k, v := range map[string]any{
		"ztunnel.outcome": "failure", "error.type": `connection refused "upstream"`, "envoy.duration_ms": int64(1500),
		"envoy.direction": "outbound", "network.transport": "tcp", "envoy.downstream_peer_uri_san": "spiffe://cluster.local/ns/a/sa/b",
	} {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	for line, reason := range map[string]string{
		"2024-04-12T10:17:44Z\tinfo\tztunnel::proxy\tlistener established\taddress=0.0.0.0:15001": ReasonPrefix,
		"2024-04-12T10:17:44Z info access":                                                 ReasonDelimiter,
		"2024-04-12T10:17:44Z\tinfo\taccess\tconnection complete\tsrc.addr=\"unterminated": ReasonDelimiter,
		"2024-04-12T10:17:44Z\tinfo\taccess\tconnection complete\tnot a pair":              ReasonDelimiter,
		"   ": ReasonEmpty,
	} {
		err := p.Parse(line, &fields)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Reason != reason {
			t.Errorf("%q: %v, want reason %s", line, err, reason)
		}
	}
}
