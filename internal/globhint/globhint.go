// Package globhint explains why a file pattern matches nothing: it names
// the deepest directory of the pattern that exists and what that
// directory holds, so that a wrong log path (/var/log/containers for
// /var/log/pods, a missing mount) reads as a cause, not as silence.
// The collector logs it when its include patterns match no file;
// `genopsctl doctor` prints it when run where the collector runs.
//
// Hand-written: neither the collector nor contrib's fileconsumer says
// more than "no files match the configured criteria".
package globhint

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxEntries bounds the entries named.
const maxEntries = 5

// Explain says, for a pattern that matches nothing, which part of it
// exists: "/var/log/pods exists (3 entries: a, b, c) but nothing in it
// matches */*/*.log", or "/var/log/pods does not exist; / holds …".
func Explain(pattern string) string {
	static := pattern
	if i := strings.IndexAny(static, "*?[{"); i >= 0 {
		static = filepath.Dir(static[:i+1])
	}
	dir := filepath.Clean(static)
	for {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(filepath.Clean(pattern), dir), string(filepath.Separator))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Sprintf("%s cannot be read: %v", dir, err)
	}
	var names []string
	for _, e := range entries {
		if len(names) == maxEntries {
			names = append(names, "…")
			break
		}
		name := e.Name()
		if e.IsDir() {
			name += "/"
		}
		names = append(names, name)
	}
	held := "it is empty"
	if len(names) > 0 {
		held = fmt.Sprintf("it holds %d entries: %s", len(entries), strings.Join(names, ", "))
	}
	if dir != filepath.Clean(static) {
		return fmt.Sprintf("%s does not exist; the nearest directory that does is %s, and %s", filepath.Clean(static), dir, held)
	}
	return fmt.Sprintf("%s exists but nothing in it matches %s; %s", dir, rest, held)
}
