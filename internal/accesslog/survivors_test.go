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
