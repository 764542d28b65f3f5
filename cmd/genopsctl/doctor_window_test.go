package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The window logic alone, on two scrapes a test server gives: API errors
// that stopped before the window are no finding once the caches are
// synced; errors during the window are, and say so; errors while the
// caches wait always are.
func TestDoctorWindow(t *testing.T) {
	for _, tc := range []struct {
		name          string
		first, second string
		want, wantNot string
	}{
		{"errors long past", "30", "30", "", "[kubernetes]"},
		{"errors now", "30", "31", "1 unauthorized error(s) listing or watching pods in the last 50ms", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				v := tc.first
				if n.Add(1) > 1 {
					v = tc.second
				}
				fmt.Fprintf(w, "otelcol_process_uptime_seconds_total 100\n"+
					"genops_kubernetes_synced{processor=\"governance\"} 1\n"+
					"genops_kubernetes_api_errors_total{processor=\"governance\",resource=\"pods\",error=\"unauthorized\"} %s\n", v)
			}))
			defer srv.Close()
			out, _ := runDoctor(t, "--collector", srv.URL, "--window", (50 * time.Millisecond).String())
			if tc.want != "" && !strings.Contains(out, tc.want) {
				t.Errorf("doctor does not say %q:\n%s", tc.want, out)
			}
			if tc.wantNot != "" && strings.Contains(out, tc.wantNot) {
				t.Errorf("doctor says %q:\n%s", tc.wantNot, out)
			}
		})
	}
}

// The collector matches no file, but the pattern matches where doctor
// runs: doctor says the two see different files or values, not what it
// would say of a wrong path.
func TestDoctorNoFilesWhereTheCollectorRuns(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pods", "a", "istio-proxy"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pods", "a", "istio-proxy", "0.log"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f := noFiles("mesh_access_log", []string{filepath.Join(dir, "pods", "*", "istio-proxy", "*.log")}, "where doctor runs,")
	if !strings.Contains(strings.Join(f.detail, " "), "matches 1 file(s) where doctor runs") || !strings.Contains(f.fix, "other values") {
		t.Errorf("%+v", f)
	}
	f = noFiles("mesh_access_log", []string{filepath.Join(dir, "containers", "*.log")}, "where doctor runs,")
	if !strings.Contains(strings.Join(f.detail, " "), "does not exist") {
		t.Errorf("%+v", f)
	}
}

// What doctor cannot read is a finding of its own, with the fix.
func TestDoctorCannotRead(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	addr := closed.Listener.Addr().String()
	closed.Close() // nothing listens there now
	out, err := runDoctor(t, "--collector", addr, "--config", filepath.Join(t.TempDir(), "missing.yaml"), "--prometheus", "http://"+addr, "--window", "0")
	if err == nil {
		t.Errorf("doctor exited 0:\n%s", out)
	}
	for _, want := range []string{
		"the config file cannot be read [config]",
		"Prometheus cannot be reached [unreachable]",
		"the collector's own metrics cannot be read [unreachable]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor does not say %q:\n%s", want, out)
		}
	}
	// The exporter's port given for the collector's telemetry.
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, `genops_requests_total{namespace="ai"} 3`)
	}))
	defer exporter.Close()
	out, _ = runDoctor(t, "--collector", exporter.URL, "--window", "0")
	if !strings.Contains(out, "is the Prometheus exporter's port") {
		t.Errorf("doctor does not say the port is the exporter's:\n%s", out)
	}
	if _, err := runDoctor(t); err == nil || !strings.Contains(err.Error(), "nothing to check") {
		t.Errorf("no flags: %v", err)
	}
}

// Two receivers reading one file count its requests twice.
func TestDoctorDoubleRead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "otelcol_process_uptime_seconds_total 100\n"+
			"otelcol_receiver_mesh_access_log_file_lines_total{receiver=\"mesh_access_log\",log_file_path=\"/var/log/pods/a/istio-proxy/0.log\"} 5\n"+
			"otelcol_receiver_mesh_access_log_file_lines_total{receiver=\"mesh_access_log/all\",log_file_path=\"/var/log/pods/a/istio-proxy/0.log\"} 5\n"+
			"otelcol_receiver_mesh_access_log_file_lines_total{receiver=\"mesh_access_log\",log_file_path=\"/var/log/pods/b/istio-proxy/0.log\"} 5\n")
	}))
	defer srv.Close()
	out, _ := runDoctor(t, "--collector", srv.URL, "--window", "0")
	if !strings.Contains(out, "/var/log/pods/a/istio-proxy/0.log: read by mesh_access_log, mesh_access_log/all") || strings.Contains(out, "pods/b") {
		t.Errorf("doctor does not name the file read twice:\n%s", out)
	}
}

// An exporter no pipeline names is never started.
func TestDoctorExporterInNoPipeline(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("exporters:\n  prometheus: {endpoint: 127.0.0.1:0, enable_open_metrics: true}\n  debug: {}\nservice:\n  pipelines:\n    metrics: {receivers: [sli], exporters: [debug]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := runDoctor(t, "--config", cfg)
	if !strings.Contains(out, "exporter prometheus is in no pipeline [config]") {
		t.Errorf("doctor:\n%s", out)
	}
}
