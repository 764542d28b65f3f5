package attrindex

import (
	"fmt"
	"testing"
)

// Every key added is found with its fields, keys that share a bucket are
// told apart, and other keys find nothing.
func TestTable(t *testing.T) {
	var tb Table
	keys := []string{"genops.team", "http.request.header.x-genops-team", "k8s.namespace.name", "source.k8s.namespace.name", "app", "a", "version"}
	for i, k := range keys {
		tb.Add(k, i)
	}
	tb.Add("app", 40) // one key, two fields
	// Keys that collide with "app" on length and both hashed bytes.
	for i := range 20 {
		tb.Add(fmt.Sprintf("%cpp", 'b'+i), 41)
	}
	for i, k := range keys {
		want := uint64(1) << i
		if k == "app" {
			want |= 1 << 40
		}
		if got := tb.Fields(k); got != want {
			t.Errorf("%q: fields %b, want %b", k, got, want)
		}
	}
	for _, k := range []string{"", "genops.tea", "genops.teams", "url.path", "apq", "zpp", "App"} {
		if got := tb.Fields(k); got != 0 {
			t.Errorf("%q: fields %b, want none", k, got)
		}
	}
}

func TestTableLimits(t *testing.T) {
	var tb Table
	tb.Add("", 3) // ignored
	if tb.Fields("") != 0 {
		t.Error("empty key found")
	}
	for _, f := range []int{-1, 128} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("field %d accepted", f)
				}
			}()
			tb.Add("x", f)
		}()
	}
	// Fields past 63 are in the second word.
	tb.Add("wide", 64)
	tb.Add("wide", 127)
	tb.Add("wide", 1)
	if lo, hi := tb.Fields2("wide"); lo != 1<<1 || hi != 1|1<<63 || tb.Fields("wide") != lo {
		t.Errorf("wide: %x %x", lo, hi)
	}
	defer func() {
		if recover() == nil {
			t.Error("129 keys accepted")
		}
	}()
	for i := range 129 {
		tb.Add(fmt.Sprintf("key-%d", i), 0)
	}
}

func BenchmarkFields(b *testing.B) {
	var tb Table
	for i, k := range []string{"genops.team", "genops.project", "k8s.namespace.name", "envoy.direction", "http.response.status_code"} {
		tb.Add(k, i)
	}
	keys := []string{"url.path", "http.request.method", "genops.team", "user_agent.original", "envoy.direction", "network.peer.address"}
	for b.Loop() {
		for _, k := range keys {
			_ = tb.Fields(k)
		}
	}
}
