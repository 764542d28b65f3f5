package zipkinreceiver

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/ptracetest"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/zipkin/zipkinv2"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/genops-mesh/otelcol-genops/internal/fixtures"
	"github.com/genops-mesh/otelcol-genops/receiver/zipkinreceiver/internal/metadata"
	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// sameAsContrib decodes body with the fast decoder and with contrib's v2
// JSON translator and fails unless, wherever the fast decoder accepts the
// body, contrib accepts it too and builds the same pdata (in the same
// order: resources, scopes and spans). It returns whether the fast
// decoder accepted it.
func sameAsContrib(t testing.TB, body []byte) bool {
	t.Helper()
	want, wantErr := zipkinv2.NewJSONTracesUnmarshaler(false).UnmarshalTraces(body)
	got, ok := currentGates().fastV2JSON(body)
	if !ok {
		return false
	}
	if wantErr != nil {
		t.Fatalf("the fast decoder accepted what contrib refuses (%v):\n%q", wantErr, body)
	}
	if err := ptracetest.CompareTraces(want, got); err != nil {
		t.Fatalf("the fast decoder differs from contrib: %v\nbody: %q", err, body)
	}
	return true
}

// zipkinFixtures are the third-party Zipkin samples (../shared/fixtures/zipkin).
func zipkinFixtures(t testing.TB) map[string][]byte {
	dir := filepath.Join(fixtures.Dir(t), "zipkin")
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no Zipkin fixtures in %s: %v", dir, err)
	}
	out := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(n)] = b
	}
	return out
}

// TestDifferentialFixtures: on every Zipkin fixture, the fast decoder gives
// contrib's pdata, and it does decode every fixture that contrib reads as
// v2 JSON (a test that passed by declining everything would prove
// nothing). The fixtures that are one span rather than a list are also
// sent as a list.
func TestDifferentialFixtures(t *testing.T) {
	for name, body := range zipkinFixtures(t) {
		bodies := [][]byte{body}
		if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' {
			bodies = append(bodies, append(append([]byte("["), trimmed...), ']'))
		}
		for i, b := range bodies {
			t.Run(fmt.Sprintf("%s/%d", name, i), func(t *testing.T) {
				_, contribErr := zipkinv2.NewJSONTracesUnmarshaler(false).UnmarshalTraces(b)
				fast := sameAsContrib(t, b)
				if contribErr == nil && !fast && !strings.Contains(string(b), "otlp.link.0") {
					t.Errorf("contrib decodes %s as v2 JSON but the fast decoder declined it", name)
				}
				t.Logf("contrib: %v, fast decoder: %v", contribErr, fast)
			})
		}
	}
}

// TestDifferentialCases: the rules of contrib's translator and of
// encoding/json that the fast decoder must follow, or decline.
func TestDifferentialCases(t *testing.T) {
	span := func(extra string) string {
		return `{"traceId":"4d1e00c0db9010db86154a4ba6e91385","id":"4d1e00c0db9010db","name":"get","timestamp":1472470996199000,"duration":207000` + extra + `}`
	}
	many := make([]string, 40)
	for i := range many {
		// Services and scopes that tie, enough of them that sort.Sort
		// leaves insertion sort: the grouping order must still be contrib's.
		many[i] = span(fmt.Sprintf(`,"localEndpoint":{"serviceName":"svc-%d"},"tags":{"n":"%d","otel.library.name":"lib-%d","k8s.pod.name":"pod-%d"}`, i%3, i, i%2, i))
	}
	cases := []struct {
		name string
		body string
		fast bool // whether the fast decoder must accept it
	}{
		{"empty list", `[]`, true},
		{"whitespace", " \n\t[ " + span("") + " ]\r\n", true},
		{"istio server span", `[` + span(`,"kind":"SERVER","parentId":"86154a4ba6e91385","shared":true,"localEndpoint":{"serviceName":"reviews.default","ipv4":"10.44.1.27","port":9080},"remoteEndpoint":{"ipv4":"10.44.1.23","port":46520},"tags":{"http.method":"GET","http.status_code":"200","response_flags":"-","istio.canonical_service":"reviews","istio.namespace":"default","node_id":"sidecar~10.44.1.27~reviews-v1.default~default.svc.cluster.local","upstream_cluster":"inbound|9080||","x-genops-team":"search"}`) + `]`, true},
		{"many spans, tied groups", `[` + strings.Join(many, ",") + `]`, true},
		{"no timestamp", `[{"traceId":"1","id":"2","duration":5}]`, true},
		{"repeated tag", `[` + span(`,"tags":{"a":"1","b":"2","a":"3"}`) + `]`, true},
		{"resource tags", `[` + span(`,"localEndpoint":{"serviceName":"api"},"tags":{"k8s.pod.name":"p","host.name":"h","faas.id":"f","service.name":"override","otlp.service.name.source":"peer.x","otel.library.name":"lib","otel.library.version":"1","otel.scope.name":"scope","otel.scope.version":"2"}`) + `]`, true},
		{"no service", `[` + span(`,"tags":{"k8s.pod.name":"p"}`) + `]`, true},
		{"status tags", `[` + span(`,"tags":{"otel.status_code":"STATUS_CODE_ERROR","otel.status_description":"boom","error":"false"}`) + `]`, true},
		{"error true", `[` + span(`,"tags":{"error":"true"}`) + `]`, true},
		{"unknown status", `[` + span(`,"tags":{"otel.status_code":"nope","otel.status_description":"d"}`) + `]`, true},
		{"span.kind tag", `[` + span(`,"tags":{"span.kind":"internal"}`) + `,` + span(`,"kind":"CLIENT","tags":{"span.kind":"internal"}`) + `,` + span(`,"kind":"weird","tags":{"span.kind":"server"}`) + `]`, true},
		{"tracestate", `[` + span(`,"tags":{"w3c.tracestate":"a=b"}`) + `]`, true},
		{"parent equals id", `[` + span(`,"parentId":"4d1e00c0db9010db"`) + `]`, true},
		{"empty parent", `[` + span(`,"parentId":""`) + `]`, true},
		{"ipv6 and mapped", `[` + span(`,"localEndpoint":{"ipv6":"7::0.128.128.127","ipv4":"::ffff:1.2.3.4"},"remoteEndpoint":{"serviceName":"db","ipv6":"2001:db8::1","port":5432}`) + `]`, true},
		{"empty endpoint", `[` + span(`,"localEndpoint":{},"remoteEndpoint":{"serviceName":""}`) + `]`, true},
		{"annotations", `[` + span(`,"annotations":[{"timestamp":1472470996238000,"value":"foo"},{"value":"a|b","timestamp":2}]`) + `]`, true},
		{"unknown keys", `[` + span(`,"x":{"y":[1,2.5e3,-0.1,true,false,null,"s"]},"tags":{}`) + `]`, true},
		{"escapes", `[` + span(`,"tags":{"q":"a\"b\\c\u00e9\n","u":"\ud83d\ude00"}`) + `]`, true},
		{"utf8", `[` + span(`,"localEndpoint":{"serviceName":"名前"},"tags":{"k":"värde","ключ":"v"}`) + `]`, true},
		{"short ids", `[{"traceId":"a","id":"B","parentId":"c"}]`, true},

		{"key in another case", `[` + span(`,"Name":"x"`) + `]`, false},
		{"repeated field", `[` + span(`,"name":"again"`) + `]`, false},
		{"null span", `[null]`, false},
		{"null", `null`, false},
		{"null tag", `[` + span(`,"tags":{"a":null}`) + `]`, false},
		{"number tag", `[` + span(`,"tags":{"a":1}`) + `]`, false},
		{"negative duration", `[{"traceId":"1","id":"2","duration":-5}]`, false},
		{"fraction", `[{"traceId":"1","id":"2","timestamp":1.5}]`, false},
		{"zero id", `[{"traceId":"1","id":"0"}]`, false},
		{"no id", `[{"traceId":"1"}]`, false},
		{"long trace id", `[{"traceId":"0123456789abcdef0123456789abcdef0","id":"1"}]`, false},
		{"bad ip", `[` + span(`,"localEndpoint":{"ipv4":"1.2.3"}`) + `]`, false},
		{"link", `[` + span(`,"tags":{"otlp.link.0":"x|y|z|{}|0"}`) + `]`, false},
		{"event attributes", `[` + span(`,"annotations":[{"timestamp":1,"value":"e|{\"a\":1}|0"}]`) + `]`, false},
		{"annotation without timestamp", `[` + span(`,"annotations":[{"value":"x"}]`) + `]`, false},
		{"invalid utf8", "[" + span(`,"kind":"`+"\xff"+`"`) + "]", false},
		{"trailing", `[]x`, false},
		{"object", span(""), false},
		{"truncated", `[` + span("")[:40], false},
		// An outsider's finds (session 14): bad escapes where nothing
		// reads the string still make the body invalid JSON.
		{"bad escape in an unknown field", `[` + span(`,"x":"\q"`) + `]`, false},
		{"short unicode escape", `[` + span(`,"z":"\u12"`) + `]`, false},
		{"non-hex unicode escape", `[` + span(`,"z":"\uZZZZ"`) + `]`, false},
		{"unterminated unicode escape", `[` + span(`,"z":"\u","w":"inj"`) + `]`, false},
		{"bad escape in an array", `[` + span(`,"z":[1,"\q",{"a":"b"}]`) + `]`, false},
		{"bad escape in a skipped key", `[` + span(`,"z":{"\q":1}`) + `]`, false},
		{"bad escape in an endpoint", `[` + span(`,"localEndpoint":{"serviceName":"s","zz":"\q"}`) + `]`, false},
		{"bad escape in an annotation", `[` + span(`,"annotations":[{"timestamp":1,"value":"a","zz":"\q"}]`) + `]`, false},
		{"good escapes in skipped places", `[` + span(`,"z":{"\u00e9\n":["\"\\\/\b\f\r\t\ud83d\ude00"]}`) + `]`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if fast := sameAsContrib(t, []byte(c.body)); fast != c.fast {
				t.Errorf("fast decoder accepted: %v, want %v", fast, c.fast)
			}
		})
	}
}

// FuzzV2JSON: on any body, where the fast decoder accepts, contrib accepts
// and builds the same pdata. Seeds: the cases above' shapes, and the Zipkin
// fixtures where present.
func FuzzV2JSON(f *testing.F) {
	f.Add([]byte(`[{"traceId":"4d1e00c0db9010db86154a4ba6e91385","id":"4d1e00c0db9010db","kind":"SERVER","name":"get","timestamp":1472470996199000,"duration":207000,"localEndpoint":{"serviceName":"reviews","ipv4":"10.0.0.1","port":80},"remoteEndpoint":{"serviceName":"db","ipv6":"::1"},"annotations":[{"timestamp":1,"value":"a|b"}],"tags":{"http.status_code":"200","error":"true","k8s.pod.name":"p","otel.scope.name":"s","a":"1","a":"2"}}]`))
	f.Add([]byte(`[{"traceId":"1","id":"2"},{"traceId":"1","id":"3","localEndpoint":{"serviceName":"a"},"tags":{"otel.library.name":"x"}}]`))
	f.Add([]byte(`[{"traceId":"1","id":"2","tags":{"span.kind":"internal","otel.status_code":"Ok","w3c.tracestate":"k=v","q":"\u00e9\"x"}}]`))
	// Unknown fields, skipped but still JSON to check (escapes, nesting).
	f.Add([]byte(`[{"traceId":"1","id":"2","x":{"k\u00e9":["a\nb",1.5e-3,{"y":[null,true]}]},"localEndpoint":{"z":"\/"}}]`))
	if dir, ok := fixtures.Find(); ok {
		names, _ := filepath.Glob(filepath.Join(dir, "zipkin", "*.json"))
		for _, n := range names {
			if b, err := os.ReadFile(n); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sameAsContrib(t, body)
	})
}

// TestNullAnnotation: a body on which zipkin-go's model panics (a null
// annotation) is a 400 with an error, not a panic that net/http turns
// into a closed connection and a stack trace in the log (contrib's
// receiver, an outsider's find in session 14).
func TestNullAnnotation(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.ServerConfig.NetAddr.Endpoint = collectortest.FreeAddr(t)
	sink := new(consumertest.TracesSink)
	r, err := NewFactory().CreateTraces(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer r.Shutdown(context.Background())
	body := `[{"traceId":"4d1e00c0db9010db","id":"4d1e00c0db9010db","name":"x","annotations":[null]}]`
	resp, err := http.Post("http://"+cfg.ServerConfig.NetAddr.Endpoint+"/api/v2/spans", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(msg), "do not decode") {
		t.Fatalf("%s %q, want 400 and the error", resp.Status, msg)
	}
	if sink.SpanCount() != 0 {
		t.Fatalf("%d spans reached the pipeline", sink.SpanCount())
	}
}

// TestReceiversAgree sends every Zipkin fixture to this receiver and to
// contrib's over HTTP, as v1 and as v2, plain and gzip-compressed, and
// compares the answers (status code, body) and what reached the pipeline.
func TestReceiversAgree(t *testing.T) {
	type side struct {
		url  string
		sink *consumertest.TracesSink
	}
	start := func(f receiver.Factory) side {
		cfg := f.CreateDefaultConfig().(*Config)
		sink := new(consumertest.TracesSink)
		set := receivertest.NewNopSettings(f.Type())
		if f.Type() == metadata.Type {
			set = receivertest.NewNopSettings(metadata.Type)
		}
		l := collectortest.FreeAddr(t)
		cfg.ServerConfig.NetAddr.Endpoint = l
		r, err := f.CreateTraces(context.Background(), set, cfg, sink)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(context.Background(), componenttest.NewNopHost()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
		return side{"http://" + l, sink}
	}
	ours, theirs := start(NewFactory()), start(NewContribFactory())
	post := func(s side, path string, body []byte, gz bool) (int, string, []ptrace.Traces) {
		s.sink.Reset()
		var rd io.Reader = bytes.NewReader(body)
		if gz {
			var buf bytes.Buffer
			w := gzip.NewWriter(&buf)
			_, _ = w.Write(body)
			_ = w.Close()
			rd = &buf
		}
		req, err := http.NewRequest(http.MethodPost, s.url+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if gz {
			req.Header.Set("Content-Encoding", "gzip")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), s.sink.AllTraces()
	}
	for name, body := range zipkinFixtures(t) {
		for _, path := range []string{"/api/v1/spans", "/api/v2/spans"} {
			for _, gz := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s%s/gzip=%v", name, path, gz), func(t *testing.T) {
					code1, body1, got := post(ours, path, body, gz)
					code2, body2, want := post(theirs, path, body, gz)
					if code1 != code2 || body1 != body2 {
						t.Fatalf("answers differ: ours %d %q, contrib's %d %q", code1, body1, code2, body2)
					}
					if len(got) != len(want) {
						t.Fatalf("%d batches reached the pipeline, contrib %d", len(got), len(want))
					}
					for i := range want {
						if err := ptracetest.CompareTraces(want[i], got[i]); err != nil {
							t.Fatal(err)
						}
					}
				})
			}
		}
	}
}
