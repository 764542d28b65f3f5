// Package collectortest runs the built otelcol-genops binary as a real
// process for end-to-end tests: on free loopback ports, with its output
// captured, and stopped the way Kubernetes stops it (SIGTERM).
//
// The tests drive the binary, not the collector's Go API, because what a
// user runs is the binary: its embedded default config, its flags and its
// exit codes are part of what is tested.
package collectortest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BinaryEnv names the environment variable that points at a prebuilt
// binary (`make test` sets it after `make build`).
const BinaryEnv = "GENOPS_BINARY"

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary returns the path of the otelcol-genops binary: $GENOPS_BINARY when
// set, otherwise one built once per test process from this checkout.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(BinaryEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", BinaryEnv, p, err)
		}
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "otelcol-genops-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "otelcol-genops")
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		// The tags of `make build` (the Makefile's BUILD_TAGS).
		cmd := exec.Command("go", "build", "-tags", "remove_all_sd,enable_kubernetes_sd", "-o", buildPath, "./cmd/otelcol-genops")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/otelcol-genops: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

var (
	portsMu sync.Mutex
	// handedOut are the ports FreeAddr returned in this process: the OS
	// gives a port just closed to the next bind(0) now and then, and two
	// listeners of one collector config then collide.
	handedOut = map[string]bool{}
)

// FreeAddr returns a 127.0.0.1:port address that was free a moment ago
// (the OS's choice for port 0), never one it returned before in this
// process.
func FreeAddr(t testing.TB) string {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if !handedOut[addr] {
			handedOut[addr] = true
			return addr
		}
	}
	t.Fatal("no new free port in 100 tries")
	return ""
}

// Port returns the port of a host:port address.
func Port(t testing.TB, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// syncBuffer is a bytes.Buffer safe to read while the process writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WriteConfig writes a collector config into the test's temporary
// directory and returns its path.
func WriteConfig(t testing.TB, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// StartConfigs runs the binary on config files (testdata/*.yaml, merged
// in order as the collector merges several --config) with env: the
// values the files name as ${env:…} (free ports, temporary directories).
func StartConfigs(t testing.TB, env map[string]string, files ...string) *Process {
	t.Helper()
	var args, vars []string
	for _, f := range files {
		args = append(args, "--config", f)
	}
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	return Start(t, args, vars...)
}

// Process is a running collector.
type Process struct {
	Cmd    *exec.Cmd
	output *syncBuffer
	done   chan struct{}
	err    error
}

// Start runs the binary with args and extra environment variables
// ("KEY=value"). The process is killed when the test ends if it still runs.
func Start(t testing.TB, args []string, env ...string) *Process {
	t.Helper()
	cmd := exec.Command(Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	return StartCmd(t, cmd)
}

// StartCmd starts any command as a Process (output captured, killed at
// the end of the test).
func StartCmd(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	out := &syncBuffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Process{Cmd: cmd, output: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(cmd.Path), p.Output())
		}
	})
	return p
}

// Output is everything the process printed so far (stdout and stderr).
func (p *Process) Output() string { return p.output.String() }

// Wait waits for the process to exit, at most d, and returns its exit error
// (nil for exit code 0). It fails the test if the process is still running.
func (p *Process) Wait(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		t.Fatalf("collector still running after %s", d)
		return nil
	}
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Terminate sends SIGTERM, as the kubelet does, and waits at most d for a
// clean exit.
func (p *Process) Terminate(t testing.TB, d time.Duration) error {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	return p.Wait(t, d)
}

// Kill ends the process with SIGKILL, as a crash or an OOM kill would, and
// waits for it to be gone.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// Eventually polls check every 100 ms until it returns nil, the process
// exits, or the timeout passes, and then fails the test with check's last
// error. Timeouts here are only upper bounds for readiness, never
// performance assertions.
func (p *Process) Eventually(t testing.TB, timeout time.Duration, check func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var err error
	for {
		if err = check(); err == nil {
			return
		}
		if p.Exited() {
			t.Fatalf("collector exited (%v) while waiting: %v", p.err, err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("after %s: %v", timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// WaitHealthy waits until the health check extension at addr answers 200.
func (p *Process) WaitHealthy(t testing.TB, addr string) {
	t.Helper()
	p.WaitOK(t, "http://"+addr+"/")
}

// WaitOK waits until url answers 200 (a health check, a server's
// /-/ready), for at most a minute, failing early if the process exits.
func (p *Process) WaitOK(t testing.TB, url string) {
	t.Helper()
	p.Eventually(t, 60*time.Second, func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	})
}

// Listen holds a loopback port for the rest of the test and returns its
// address, so that a test can show what happens when a port is taken.
func Listen(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}
