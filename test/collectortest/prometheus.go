package collectortest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// Prometheus is a real Prometheus server (Debian's prometheus package)
// started for a test on a free loopback port.
type Prometheus struct {
	Addr string
	proc *Process
}

// StartPrometheus runs prometheus with a config that scrapes targets every
// second and loads ruleFiles (evaluated every second). It skips the test
// when the binary is absent, unless CI is set (then it fails: make test
// installs it).
func StartPrometheus(t testing.TB, targets []string, ruleFiles ...string) *Prometheus {
	t.Helper()
	return StartPrometheusWith(t, PrometheusOptions{Targets: targets, RuleFiles: ruleFiles})
}

// PrometheusOptions say what a test's Prometheus scrapes and loads.
type PrometheusOptions struct {
	Targets   []string
	RuleFiles []string
	// NoExemplars starts it without exemplar storage (Prometheus's
	// default; the project's docs ask for it).
	NoExemplars bool
	// RemoteWriteReceiver accepts remote write at /api/v1/write.
	RemoteWriteReceiver bool
}

// StartPrometheusWith is StartPrometheus with options.
func StartPrometheusWith(t testing.TB, o PrometheusOptions) *Prometheus {
	t.Helper()
	targets, ruleFiles := o.Targets, o.RuleFiles
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("prometheus not found: test/install-deps.sh installs Debian's prometheus package")
		}
		t.Skip("prometheus not found (make test installs it with test/install-deps.sh)")
	}
	dir := t.TempDir()
	var rules string
	for _, r := range ruleFiles {
		abs, err := filepath.Abs(r)
		if err != nil {
			t.Fatal(err)
		}
		rules += fmt.Sprintf("  - %q\n", abs)
	}
	var tgts string
	for _, tg := range targets {
		tgts += fmt.Sprintf("          - %q\n", tg)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
%sscrape_configs:
  - job_name: otelcol-genops
    static_configs:
      - targets:
%s`, rules, tgts)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := FreeAddr(t)
	p := &Prometheus{Addr: addr}
	args := []string{"--config.file=" + cfgPath, "--storage.tsdb.path=" + filepath.Join(dir, "data"), "--web.listen-address=" + addr}
	if !o.NoExemplars {
		args = append(args, "--enable-feature=exemplar-storage")
	}
	if o.RemoteWriteReceiver {
		args = append(args, "--web.enable-remote-write-receiver")
	}
	cmd := exec.Command(bin, args...)
	p.proc = StartCmd(t, cmd)
	p.proc.WaitOK(t, "http://"+addr+"/-/ready")
	return p
}

// Result is one sample of an instant query.
type Result struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// Float is the sample's value (the API gives it as a string).
func (r Result) Float() (float64, error) {
	s, _ := r.Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

// Query runs an instant query and returns its vector (or an error with
// Prometheus's message).
func (p *Prometheus) Query(q string) ([]Result, error) {
	resp, err := http.Get("http://" + p.Addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status    string `json:"status"`
		Error     string `json:"error"`
		ErrorType string `json:"errorType"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: %s: %s", q, body.ErrorType, body.Error)
	}
	switch body.Data.ResultType {
	case "vector":
		var out []Result
		if err := json.Unmarshal(body.Data.Result, &out); err != nil {
			return nil, err
		}
		return out, nil
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(body.Data.Result, &v); err != nil {
			return nil, err
		}
		return []Result{{Value: v}}, nil
	}
	return nil, fmt.Errorf("query %q: result type %s", q, body.Data.ResultType)
}
