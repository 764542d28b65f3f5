package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// Scenario "restart without loss": the collector tails a growing sidecar
// log with its offsets in file_storage and is killed with SIGKILL while the
// log grows; a new process resumes from the checkpoint, and the log is
// rotated under it. Every line reaches
// the OTLP sink (which outlives both processes). A crash between a
// delivered batch and its checkpoint replays that batch: delivery is
// at-least-once, so duplicates are counted and must stay within one
// poll's worth of lines, never a re-read of the file.
func TestKillDashNineLosesNoLine(t *testing.T) {
	sink := collectortest.StartLogSink(t, "envoy.request_id")
	dir := t.TempDir()
	podDir := filepath.Join(dir, "pods", "ai_llm-0_5b1c6d9e-1111-2222-3333-444455556666", "istio-proxy")
	if err := os.MkdirAll(podDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(podDir, "0.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { logFile.Close() }()
	// rotate does what kubelet does when a container log reaches its size
	// limit: rename the file with a timestamp suffix (out of the include
	// pattern) and start a new one.
	rotate := func() {
		logFile.Close()
		if err := os.Rename(logPath, logPath+".20261122-060000"); err != nil {
			t.Fatal(err)
		}
		if logFile, err = os.Create(logPath); err != nil {
			t.Fatal(err)
		}
	}
	health := collectortest.FreeAddr(t)
	env := map[string]string{"E2E_HEALTH": health, "E2E_STORAGE": t.TempDir(), "E2E_LOGS": filepath.Join(dir, "pods"), "E2E_SINK": sink.Addr}

	written := 0
	write := func(n int) {
		for range n {
			fmt.Fprintf(logFile, `2026-11-20T10:00:00.000000000Z stdout F [2026-11-20T10:00:00.000Z] "POST /v1/chat/completions HTTP/2" 200 - via_upstream - "-" 512 2048 120 100 "-" "python-httpx/0.27.0" "req-%d" "llm.ai:8080" "10.1.0.7:8080" inbound|8080|| 127.0.0.6:51515 10.1.0.7:8080 10.1.0.66:40000 - default "ml-platform" "-" "cust-42" "-" "-" "-" "-" "-" "-" "-" "-" "-"`+"\n", written)
			written++
		}
	}
	// grow writes n lines over about n×2 ms, as a busy sidecar would.
	grow := func(n int) {
		for range n / 10 {
			write(10)
			time.Sleep(20 * time.Millisecond)
		}
	}

	col := collectortest.StartConfigs(t, env, "testdata/restart.yaml", "testdata/no-telemetry.yaml")
	col.WaitHealthy(t, health)
	grow(500)
	col.Kill(t) // mid-stream: lines keep coming while it is down
	grow(300)
	col = collectortest.StartConfigs(t, env, "testdata/restart.yaml", "testdata/no-telemetry.yaml")
	col.WaitHealthy(t, health)
	grow(300)
	rotate() // and the log rotates under the new process
	grow(300)

	col.Eventually(t, 30*time.Second, func() error {
		seen, _ := sink.Counts()
		for i := range written {
			if seen[fmt.Sprintf("req-%d", i)] == 0 {
				return fmt.Errorf("req-%d of %d lines not delivered yet (%d distinct so far)", i, written, len(seen))
			}
		}
		return nil
	})
	seen, records := sink.Counts()
	dups := records - written
	t.Logf("%d lines written, %d records delivered, %d replayed after the crash", written, records, dups)
	if len(seen) != written {
		t.Errorf("%d distinct request ids, want %d", len(seen), written)
	}
	// One poll interval of this writer is about 25 lines; allow a few
	// polls, far below the 500 a re-read from the start would repeat.
	if dups < 0 || dups > 100 {
		t.Errorf("%d duplicate records: the checkpoint did not hold", dups)
	}
}
