// Package thanostest runs a real Thanos (built from the published
// github.com/thanos-io/thanos module by test/install-thanos.sh) as a
// horizontally scalable Prometheus-compatible store: receivers that take
// remote write on a hash ring (each forwards a series to the receiver
// that owns it) and a querier over all of them, on 127.0.0.1 and free
// ports, with local TSDBs and no object storage. Where the binary is
// absent a test skips with the command that builds it, unless CI is set:
// then it fails, because `make test` builds it.
package thanostest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/peers"
)

// Thanos is a running Thanos: receivers and a querier.
type Thanos struct {
	// WriteURLs are the receivers' remote write endpoints.
	WriteURLs []string
	// Query is the querier, whose HTTP API is Prometheus's.
	Query *collectortest.Prometheus
}

// Start runs n receivers on one hash ring and a querier over them.
func Start(t testing.TB, n int) *Thanos {
	t.Helper()
	bin := peers.Need(t, "thanos", "github.com/thanos-io/thanos", "thanos", "thanos")
	dir := t.TempDir()
	grpc := make([]string, n)
	for i := range grpc {
		grpc[i] = collectortest.FreeAddr(t)
	}
	ring, err := json.Marshal([]map[string]any{{"hashring": "default", "endpoints": grpc}})
	if err != nil {
		t.Fatal(err)
	}
	ringFile := filepath.Join(dir, "hashring.json")
	if err := os.WriteFile(ringFile, ring, 0o600); err != nil {
		t.Fatal(err)
	}
	th := &Thanos{}
	for i, g := range grpc {
		httpAddr, write := collectortest.FreeAddr(t), collectortest.FreeAddr(t)
		proc := start(t, bin, "receive",
			"--tsdb.path="+filepath.Join(dir, fmt.Sprintf("receive-%d", i)),
			"--grpc-address="+g, "--http-address="+httpAddr, "--remote-write.address="+write,
			"--receive.capnproto-address="+collectortest.FreeAddr(t),
			"--receive.local-endpoint="+g, "--receive.hashrings-file="+ringFile,
			"--receive.replication-factor=1", fmt.Sprintf(`--label=receive_replica="r%d"`, i))
		ready(t, proc, httpAddr)
		th.WriteURLs = append(th.WriteURLs, "http://"+write+"/api/v1/receive")
	}
	queryAddr := collectortest.FreeAddr(t)
	args := []string{"query", "--http-address=" + queryAddr, "--grpc-address=" + collectortest.FreeAddr(t)}
	for _, g := range grpc {
		args = append(args, "--endpoint="+g)
	}
	proc := start(t, bin, args...)
	ready(t, proc, queryAddr)
	th.Query = &collectortest.Prometheus{Addr: queryAddr}
	return th
}

func start(t testing.TB, bin string, args ...string) *collectortest.Process {
	t.Helper()
	return collectortest.StartCmd(t, exec.Command(bin, args...))
}

// ready waits for a component's /-/ready.
func ready(t testing.TB, proc *collectortest.Process, addr string) {
	t.Helper()
	proc.WaitOK(t, "http://"+addr+"/-/ready")
}
