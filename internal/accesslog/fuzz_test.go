package accesslog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/genops-mesh/otelcol-genops/internal/fixtures"
)

// fixtureLines returns every line of the access log samples, for seeds and
// benchmarks; nil when the fixtures are absent.
func fixtureLines(tb testing.TB, files ...string) []string {
	dir, ok := fixtures.Find()
	if !ok {
		return nil
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, "envoy-access-logs", f))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(l) != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

var allFixtureFiles = []string{
	"envoy-docs-default-format.log", "istio-io-access-log-task.log", "istio-io-egress-gateway-default.log",
	"istio-io-egress-gateway-legacy-1.1-snapshot.log", "istio-io-egress-gateway-legacy-1.3-1.7-mixer.log",
	"kiali-waypoint-kubectl-timestamps.log", "linkerd-docs-apache.log", "linkerd-docs-json.log",
	"osm-docs-default-json.log", "kiali-ztunnel.log",
}

// FuzzParse feeds arbitrary lines to every preset: a parse either fails
// with a ParseError or yields values that are substrings of the line, and
// writing the record never panics nor writes more attributes than the
// room it made.
func FuzzParse(f *testing.F) {
	for _, l := range fixtureLines(f, allFixtureFiles...) {
		f.Add(l)
	}
	f.Add(`[2026-11-20T10:00:00.000Z] "POST /v1/chat HTTP/2" 200 - via_upstream - "-" 1 2 3 4 "-" "ua" "id" "a:1" "10.0.0.7:8080" inbound|8080|| 127.0.0.6:1 10.0.0.7:8080 10.0.0.9:4 - default "team" "cust" "proj"`)
	f.Add("{\"response_code\":\"\xff\",\"start_time\":1e400}")
	parsers := map[string]Parser{}
	for _, name := range Presets() {
		p, err := New(name, "", nil)
		if err != nil {
			f.Fatal(err)
		}
		parsers[name] = p
	}
	genops, err := New(IstioGenOpsFormat, "", nil)
	if err != nil {
		f.Fatal(err)
	}
	parsers["genops"] = genops
	f.Fuzz(func(t *testing.T, line string) {
		var fields Fields
		for name, p := range parsers {
			if err := p.Parse(line, &fields); err != nil {
				if _, ok := err.(*ParseError); !ok {
					t.Fatalf("%s: error of type %T: %v", name, err, err)
				}
				continue
			}
			if _, text := p.(*Format); text {
				for i := 0; i < fields.Len(); i++ {
					if v, ok := fields.Value(i); ok && !strings.Contains(line, v) {
						t.Fatalf("%s: value %q is not part of the line", name, v)
					}
				}
			}
			lr := plog.NewLogRecord()
			if err := p.WriteRecord(&fields, lr); err != nil {
				continue
			}
			// The room writeRecord makes is enough: the slice never grows.
			if b, ok := p.(interface{ attrBound(*Fields) int }); ok && lr.Attributes().Len() > b.attrBound(&fields) {
				t.Fatalf("%s: %d attributes, bound %d", name, lr.Attributes().Len(), b.attrBound(&fields))
			}
		}
	})
}

// FuzzCompile feeds arbitrary format strings to the compiler: it returns a
// Format or a CompileError, and a compiled format parses its own literal
// text without panicking.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{IstioFormat, IstioGenOpsFormat, GenOpsMeshFormat, EnvoyFormat, LinkerdApacheFormat,
		"%START_TIME(%Y-%m-%dT%H:%M:%S%z)% %REQ(X?Y):10%", "%%", "%A%%B%", "%REQ(", "%)%", "[%(%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, format string) {
		c, err := Compile(format)
		if err != nil {
			if _, ok := err.(*CompileError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		var fields Fields
		line := strings.Join(c.lits, "x")
		if err := c.Parse(line, &fields); err == nil {
			_ = c.WriteRecord(&fields, plog.NewLogRecord())
		}
	})
}
