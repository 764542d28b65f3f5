// Package peers locates the real peers the tests build from Go modules —
// kube-apiserver (peers/kube), Jaeger (peers/jaeger), Kiali
// (peers/kiali) and Thanos (peers/thanos) — in the cache directory their
// install scripts (test/install-kube.sh, test/install-jaeger.sh,
// test/install-kiali.sh, test/install-thanos.sh) fill, keyed by the version each subdirectory's
// go.mod pins. The subdirectories are modules of their own, so the peers'
// dependencies never reach the collector's module graph. (peers/contrib,
// the stock contrib collector `make bench-e2e` compares against, is built
// by the Makefile into bin/: no test needs it.)
package peers

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Binary is the path the install script gives a peer's binary: the cache
// ($GENOPS_PEERS_CACHE, else the user cache dir's otelcol-genops/peers),
// then "<name>-<version>/<binary>", with the version of module in
// peers/<dir>/go.mod. The file may not exist yet.
func Binary(dir, module, name, binary string) (string, error) {
	_, self, _, _ := runtime.Caller(0)
	gomod := filepath.Join(filepath.Dir(self), dir, "go.mod")
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var version string
	for s := bufio.NewScanner(f); s.Scan(); {
		if fields := strings.Fields(s.Text()); len(fields) >= 2 && fields[0] == module {
			version = fields[1]
			break
		}
	}
	if version == "" {
		return "", fmt.Errorf("%s pins no %s version", gomod, module)
	}
	base := os.Getenv("GENOPS_PEERS_CACHE")
	if base == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(c, "otelcol-genops", "peers")
	}
	return filepath.Join(base, name+"-"+version, binary), nil
}

// Installed is Binary's path when the file is there, else an error that
// names the install script (test/install-<name>.sh) to run.
func Installed(dir, module, name, binary string) (string, error) {
	bin, err := Binary(dir, module, name, binary)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s not found at %s: run test/install-%s.sh (make test does)", name, bin, name)
	}
	return bin, nil
}

// Need is the installed peer's path for a test. Where it is missing the
// test skips, naming the script that installs it, unless CI is set: then
// it fails, because `make test` installs every peer.
func Need(t testing.TB, dir, module, name, binary string) string {
	t.Helper()
	bin, err := Installed(dir, module, name, binary)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return bin
}
