package globhint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExplain(t *testing.T) {
	root := t.TempDir()
	pods := filepath.Join(root, "pods")
	if err := os.MkdirAll(filepath.Join(pods, "ai_llm-0_uid", "istio-proxy"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pods, "ai_llm-0_uid", "istio-proxy", "0.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ pattern, want string }{
		// The directory exists, the files are named otherwise.
		{filepath.Join(pods, "*", "istio-proxy", "*.log"), pods + " exists but nothing in it matches */istio-proxy/*.log; it holds 1 entries: ai_llm-0_uid/"},
		// A wrong directory: the nearest one that exists, and what it holds.
		{filepath.Join(root, "containers", "*.log"), filepath.Join(root, "containers") + " does not exist; the nearest directory that does is " + root + ", and it holds 1 entries: pods/"},
		{filepath.Join(root, "empty", "x", "*.log"), "the nearest directory that does is " + root},
	} {
		if got := Explain(tc.pattern); !strings.Contains(got, tc.want) {
			t.Errorf("Explain(%s)\n got %s\nwant %s", tc.pattern, got, tc.want)
		}
	}
	if err := os.Mkdir(filepath.Join(root, "e"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := Explain(filepath.Join(root, "e", "*.log")); !strings.HasSuffix(got, "it is empty") {
		t.Errorf("empty directory: %s", got)
	}
}
