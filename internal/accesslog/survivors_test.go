package accesslog

import (
	"errors"
	"testing"

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
