// Package kialitest runs a real Kiali server (built from the published
// github.com/kiali/kiali module by test/install-kiali.sh) against a
// Kubernetes API server (envtest) and a Prometheus, on 127.0.0.1 and a free
// port, with given custom dashboards. Istio is not installed: Kiali's
// Istio API, Grafana, tracing and its own metrics server are off, and it
// reads the cluster through a kubeconfig (deployment.remote_secret_path)
// instead of in-cluster. Where the binary is absent a test skips with the
// command that builds it, unless CI is set: then it fails, because
// `make test` builds it.
package kialitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kiali/kiali/config/dashboards"
	"gopkg.in/yaml.v3"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
	"github.com/genops-mesh/otelcol-genops/test/peers"
)

// WebRoot is the path Kiali serves under.
const WebRoot = "/kiali"

// Kiali is a running Kiali.
type Kiali struct {
	// URL is Kiali's base URL, web root included.
	URL  string
	proc *collectortest.Process
}

// Config is the Kiali configuration the tests run: what Kiali needs
// outside a cluster and without Istio, the dashboards as
// custom_dashboards, and settings merged over it (the dashboards' own:
// dashboards/kiali's Settings).
func Config(kubeconfig, prometheusURL, addr string, custom []dashboards.MonitoringDashboard, settings map[string]any, staticDir string) map[string]any {
	host, port := addr, 0
	if h, p, err := splitHostPort(addr); err == nil {
		host, port = h, p
	}
	return merge(map[string]any{
		"in_cluster":      false,
		"istio_namespace": "istio-system",
		"auth":            map[string]any{"strategy": "anonymous"},
		"deployment": map[string]any{
			"namespace":           "istio-system",
			"remote_secret_path":  kubeconfig,
			"cluster_wide_access": true,
		},
		"server": map[string]any{
			"address":                       host,
			"port":                          port,
			"web_root":                      WebRoot,
			"static_content_root_directory": staticDir,
			"observability":                 map[string]any{"metrics": map[string]any{"enabled": false}},
		},
		"external_services": map[string]any{
			"prometheus":        map[string]any{"url": prometheusURL},
			"grafana":           map[string]any{"enabled": false},
			"tracing":           map[string]any{"enabled": false},
			"istio":             map[string]any{"istio_api_enabled": false},
			"custom_dashboards": map[string]any{"enabled": true},
		},
		"custom_dashboards": custom,
	}, settings)
}

// merge sets over's values into base, maps merged key by key.
func merge(base, over map[string]any) map[string]any {
	for k, v := range over {
		if m, ok := v.(map[string]any); ok {
			if b, ok := base[k].(map[string]any); ok {
				base[k] = merge(b, m)
				continue
			}
		}
		base[k] = v
	}
	return base
}

func splitHostPort(addr string) (string, int, error) {
	u, err := url.Parse("http://" + addr)
	if err != nil {
		return "", 0, err
	}
	var port int
	_, err = fmt.Sscan(u.Port(), &port)
	return u.Hostname(), port, err
}

// Start runs Kiali with the dashboards and settings until the test ends.
func Start(t testing.TB, kubeconfig, prometheusURL string, custom []dashboards.MonitoringDashboard, settings map[string]any) *Kiali {
	t.Helper()
	bin := peers.Need(t, "kiali", "github.com/kiali/kiali", "kiali", "kiali")
	dir := t.TempDir()
	static := filepath.Join(dir, "console")
	if err := os.MkdirAll(static, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := collectortest.FreeAddr(t)
	cfg, err := yaml.Marshal(Config(kubeconfig, prometheusURL, addr, custom, settings, static))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "kiali.yaml")
	if err := os.WriteFile(file, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	k := &Kiali{URL: "http://" + addr + WebRoot}
	k.proc = collectortest.StartCmd(t, exec.Command(bin, "-config", file))
	k.proc.Eventually(t, 60*time.Second, func() error {
		resp, err := http.Get(k.URL + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("healthz: %s", resp.Status)
		}
		return nil
	})
	return k
}

// Output is what Kiali logged.
func (k *Kiali) Output() string { return k.proc.Output() }

// Get decodes the JSON of GET path (under the web root) into v.
func (k *Kiali) Get(path string, query url.Values, v any) error {
	u := k.URL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, body)
	}
	return json.Unmarshal(body, v)
}

// Dashboard is a custom dashboard of namespace as Kiali renders it (its
// charts' series from Prometheus), over the last duration. query adds
// Kiali's own parameters (labelsFilters, additionalLabels, byLabels[] …).
func (k *Kiali) Dashboard(namespace, name string, duration time.Duration, query url.Values) (*Dashboard, error) {
	q := url.Values{}
	for key, vs := range query {
		q[key] = vs
	}
	q.Set("duration", fmt.Sprint(int(duration.Seconds())))
	q.Set("step", "15")
	q.Set("rateInterval", "1m")
	q.Add("quantiles[]", "0.5")
	q.Add("quantiles[]", "0.99")
	var d Dashboard
	if err := k.Get("/api/namespaces/"+url.PathEscape(namespace)+"/customdashboard/"+url.PathEscape(name), q, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Dashboard is a dashboard as Kiali's API answers it (its models'
// JSON; the Kiali module's models package is not imported, so that its
// dependency graph stays out of this module's).
type Dashboard struct {
	Name         string        `json:"name"`
	Title        string        `json:"title"`
	Charts       []Chart       `json:"charts"`
	Aggregations []Aggregation `json:"aggregations"`
}

// Chart is one chart of a Dashboard: its series, or the error Kiali met.
type Chart struct {
	Name    string   `json:"name"`
	Unit    string   `json:"unit"`
	Metrics []Metric `json:"metrics"`
	Error   string   `json:"error"`
}

// Metric is one series of a chart.
type Metric struct {
	Name       string            `json:"name"`
	Stat       string            `json:"stat"`
	Labels     map[string]string `json:"labels"`
	Datapoints []Datapoint       `json:"datapoints"`
}

// Datapoint is one point of a series: Kiali sends [timestamp, value],
// the value a number or, for NaN and the infinities, a string.
type Datapoint struct {
	Timestamp int64
	Value     float64
}

// UnmarshalJSON reads [timestamp, value].
func (d *Datapoint) UnmarshalJSON(b []byte) error {
	var pair [2]json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	var ts float64
	if err := json.Unmarshal(pair[0], &ts); err != nil {
		return fmt.Errorf("datapoint timestamp %s: %w", pair[0], err)
	}
	d.Timestamp = int64(ts)
	if err := json.Unmarshal(pair[1], &d.Value); err == nil {
		return nil
	}
	var s string
	if err := json.Unmarshal(pair[1], &s); err != nil {
		return fmt.Errorf("datapoint value %s: %w", pair[1], err)
	}
	v, err := strconv.ParseFloat(s, 64)
	d.Value = v
	return err
}

// Aggregation is a label the dashboard offers to split by.
type Aggregation struct {
	Label       string `json:"label"`
	DisplayName string `json:"displayName"`
}
