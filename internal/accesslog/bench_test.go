package accesslog

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// istioBenchLines are Istio-format lines from the fixtures (the waypoint
// sample without its kubectl prefix), or a generated line when the
// fixtures are absent.
func istioBenchLines(b *testing.B) []string {
	lines := fixtureLines(b, "istio-io-access-log-task.log", "istio-io-egress-gateway-default.log")
	for _, l := range fixtureLines(b, "kiali-waypoint-kubectl-timestamps.log") {
		if i := len("2025-01-30T12:10:13.682034460Z "); len(l) > i {
			lines = append(lines, l[i:])
		}
	}
	if len(lines) == 0 {
		b.Log("fixtures absent: benchmarking one generated line")
		lines = []string{`[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 3 1 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "127.0.0.1:80" inbound|8000|| 127.0.0.1:41854 10.44.1.27:80 10.44.1.23:37652 outbound_.8000_._.httpbin.foo.svc.cluster.local default`}
	}
	return lines
}

// BenchmarkParse is the parse alone: one line split into its fields.
func BenchmarkParse(b *testing.B) {
	p, err := New("istio", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	lines := istioBenchLines(b)
	var fields Fields
	var n int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		line := lines[i%len(lines)]
		if err := p.Parse(line, &fields); err != nil {
			b.Fatal(err)
		}
		n += int64(len(line))
	}
	b.SetBytes(n / int64(b.N))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkParseBytes is the parse of a line as a reader hands it over
// ([]byte): the one allocation is the line's conversion to a string, which
// every attribute value then shares.
func BenchmarkParseBytes(b *testing.B) {
	p, err := New("istio", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	var raw [][]byte
	for _, l := range istioBenchLines(b) {
		raw = append(raw, []byte(l))
	}
	var fields Fields
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := p.Parse(string(raw[i%len(raw)]), &fields); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkParseAndWrite adds building the log record: its attributes,
// timestamp and trace id (one new record per line, as a receiver makes).
func BenchmarkParseAndWrite(b *testing.B) {
	p, err := New("istio", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	lines := istioBenchLines(b)
	var fields Fields
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := p.Parse(lines[i%len(lines)], &fields); err != nil {
			b.Fatal(err)
		}
		if err := p.WriteRecord(&fields, plog.NewLogRecord()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkPdataFloor is the cost of only building the record that
// BenchmarkParseAndWrite builds — the same attributes, keys and values
// already at hand, put into a new record with EnsureCapacity and
// PutStr/PutInt — with no parsing at all: the floor of any receiver that
// emits these attributes with pdata (one allocation per value, a key scan
// per put).
func BenchmarkPdataFloor(b *testing.B) {
	p, err := New("istio", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	var fields Fields
	if err := p.Parse(istioBenchLines(b)[0], &fields); err != nil {
		b.Fatal(err)
	}
	template := plog.NewLogRecord()
	if err := p.WriteRecord(&fields, template); err != nil {
		b.Fatal(err)
	}
	type kv struct {
		k string
		v pcommon.Value
	}
	var attrs []kv
	for k, v := range template.Attributes().All() {
		attrs = append(attrs, kv{k, v})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		lr := plog.NewLogRecord()
		m := lr.Attributes()
		m.EnsureCapacity(len(attrs))
		for _, a := range attrs {
			if a.v.Type() == pcommon.ValueTypeInt {
				m.PutInt(a.k, a.v.Int())
			} else {
				m.PutStr(a.k, a.v.Str())
			}
		}
		lr.SetTimestamp(template.Timestamp())
	}
	b.ReportMetric(float64(len(attrs)), "attrs/record")
}
