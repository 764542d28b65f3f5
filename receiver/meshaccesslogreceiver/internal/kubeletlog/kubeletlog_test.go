package kubeletlog

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genops-mesh/otelcol-genops/internal/fixtures"
)

// The kubelet samples unwrap to their messages, split lines joined.
func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		dir     string
		wrapper Wrapper
		want    []string
		meta    PodMeta
	}{
		{"containerd_logs-0_000011112222333344445555666677778888", CRI, []string{
			"example: 10 Tue Feb 16 09:21:15 UTC 2021",
			"example: 11 Tue Feb 16 09:21:16 UTC 2021",
			"example: 12 Tue Feb 16 09:21:17 UTC 2021",
			"example: 13 (part of log) Tue Feb 16 09:21:18 UTC 2021",
			"example: 13 (end of log) Tue Feb 16 09:21:18 UTC 2021",
			"example: 14 Tue Feb 16 09:21:19 UTC 2021",
			"example: 15 Tue Feb 16 09:21:20 UTC 2021",
		}, PodMeta{"containerd", "logs-0", "000011112222333344445555666677778888", "logs"}},
		{"crio_logs-0_111122223333444455556666777788889999", CRI, []string{
			"example: 11 Tue Feb 16 08:59:31 UTC 2021",
			"example: 12 Tue Feb 16 08:59:32 UTC 2021",
			"example: 13 (part of log) Tue Feb 16 08:59:33 UTC 2021example: 13 (end of log) Tue Feb 16 08:59:33 UTC 2021",
			"example: 14 Tue Feb 16 08:59:34 UTC 2021",
			"example: 15 Tue Feb 16 08:59:35 UTC 2021",
		}, PodMeta{"crio", "logs-0", "111122223333444455556666777788889999", "logs"}},
		{"docker_logs-0_222233334444555566667777888899990000", Docker, []string{
			"example: 12 Tue Feb 16 09:15:12 UTC 2021",
			"example: 13 (part of log) Tue Feb 16 09:15:13 UTC 2021example: 13 (end of log) Tue Feb 16 09:15:13 UTC 2021",
			"example: 14 Tue Feb 16 09:15:14 UTC 2021",
			"example: 15 Tue Feb 16 09:15:15 UTC 2021",
			"example: 16 Tue Feb 16 09:15:16 UTC 2021",
			"example: 17 Tue Feb 16 09:15:17 UTC 2021",
		}, PodMeta{"docker", "logs-0", "222233334444555566667777888899990000", "logs"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			path := fixtures.Path(t, "cri", "varlogpods", tc.dir, "logs", "0.log")
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			j := NewJoiner(Unknown, 1<<20)
			var got []string
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				line, ok, err := j.Line(sc.Bytes())
				if err != nil {
					t.Fatalf("%q: %v", sc.Text(), err)
				}
				if ok {
					got = append(got, string(line))
				}
			}
			if j.Wrapper() != tc.wrapper {
				t.Errorf("wrapper %s, want %s", j.Wrapper(), tc.wrapper)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			meta, ok := ParsePath(path)
			if !ok || meta != tc.meta {
				t.Errorf("ParsePath(%s) = %+v %v, want %+v", path, meta, ok, tc.meta)
			}
		})
	}
}

func TestJoinerBoundsSplitLines(t *testing.T) {
	j := NewJoiner(CRI, 10)
	for _, l := range []string{
		"2026-01-01T00:00:00.000000000Z stdout P 0123456",
		"2026-01-01T00:00:00.000000000Z stdout P 789abc",
		"2026-01-01T00:00:00.000000000Z stdout P def",
	} {
		if _, ok, err := j.Line([]byte(l)); ok || err != nil {
			t.Fatalf("partial line completed: %v %v", ok, err)
		}
	}
	line, ok, err := j.Line([]byte("2026-01-01T00:00:00.000000000Z stdout F end"))
	if !ok || err != nil || string(line) != "0123456789" || j.Truncated != 1 {
		t.Fatalf("got %q %v %v truncated=%d", line, ok, err, j.Truncated)
	}
	line, ok, _ = j.Line([]byte("2026-01-01T00:00:00.000000000Z stderr F next"))
	if !ok || string(line) != "next" {
		t.Fatalf("the next line was disturbed: %q", line)
	}
	if _, _, err := j.Line([]byte("not a cri line")); err == nil {
		t.Fatal("a malformed line was accepted")
	}
}

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		path string
		want PodMeta
		ok   bool
	}{
		{"/var/log/pods/shop_checkout-7d9f8b6c5-x2x9z_5b1c6d9e-1111-2222-3333-444455556666/istio-proxy/0.log",
			PodMeta{"shop", "checkout-7d9f8b6c5-x2x9z", "5b1c6d9e-1111-2222-3333-444455556666", "istio-proxy"}, true},
		{"/var/log/containers/checkout-7d9f8b6c5-x2x9z_shop_istio-proxy-" + strings.Repeat("a", 64) + ".log",
			PodMeta{"shop", "checkout-7d9f8b6c5-x2x9z", "", "istio-proxy"}, true},
		{"/tmp/access.log", PodMeta{}, false},
		{filepath.Join("x", "y"), PodMeta{}, false},
	} {
		got, ok := ParsePath(tc.path)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParsePath(%s) = %+v %v, want %+v %v", tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzJoiner: arbitrary lines never panic and never grow a joined line
// past the bound.
func FuzzJoiner(f *testing.F) {
	f.Add("2021-02-16T08:59:33.254364766+00:00 stdout P example", "2021-02-16T08:59:33.254364766+00:00 stdout F end")
	f.Add(`{"log":"a","stream":"stdout","time":"x"}`, `{"log":"b\n","stream":"stdout","time":"x"}`)
	f.Add("plain", "2021-02-16T08:59:33Z stdout Q x")
	f.Fuzz(func(t *testing.T, a, b string) {
		j := NewJoiner(Unknown, 64)
		for _, l := range []string{a, b, a, b} {
			line, _, _ := j.Line([]byte(l))
			if len(line) > 64 && j.Wrapper() != None {
				t.Fatalf("joined line of %d bytes exceeds the bound", len(line))
			}
		}
		_, _ = ParsePath(a)
	})
}
