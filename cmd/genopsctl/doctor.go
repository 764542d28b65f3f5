package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/fileconsumer/matcher"
	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"

	"github.com/genops-mesh/otelcol-genops/dashboards/promrules"
	"github.com/genops-mesh/otelcol-genops/internal/globhint"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
	"github.com/genops-mesh/otelcol-genops/processor/governanceprocessor"
	"github.com/genops-mesh/otelcol-genops/receiver/meshaccesslogreceiver"
)

// The shares above which doctor names a problem: the collector alerts'
// defaults (promrules.Collector).
const (
	doctorUnknownShare    = 0.2
	doctorParseErrorShare = 0.01
)

// watchedDimensions are the dimensions whose unknown share doctor
// reports: those pod and namespace labels carry (customer_id is unknown
// for every request without a customer, and that is no mistake).
var watchedDimensions = []string{governanceprocessor.DimTeam, governanceprocessor.DimProject, governanceprocessor.DimCostCenter}

func newDoctor() *cobra.Command {
	var d doctor
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Read a running collector (and Prometheus) and name the likely mistakes, with the fix",
		Long: `doctor reads a running collector's own metrics (--collector, its telemetry
port, 8888 by default), its config file (--config) and, optionally, the
Prometheus that scrapes it (--prometheus), and prints in plain words what is
likely wrong: no access log file matched (with the glob and what exists),
lines that do not parse, requests attributed to unknown (with the label to
set and, from Prometheus, the workloads), Kubernetes caches not synced (with
the API error's kind), unpriced AI calls, Prometheus scraping the collector's
own port instead of the exporter's, exemplar storage off, SLO rules or
series absent. It exits 1 when it found something, 0 when not.
docs/operations.md, "Troubleshooting", explains each finding.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if d.collector == "" && len(d.config) == 0 && d.prometheus == "" {
				return errors.New("nothing to check: give --collector, --config or --prometheus")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), d.timeout)
			defer cancel()
			d.run(ctx)
			d.print(cmd.OutOrStdout())
			if len(d.findings) > 0 {
				cmd.SilenceErrors = true // the findings are the message
				return errSilentExit
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&d.collector, "collector", "", "the collector's own telemetry, e.g. http://127.0.0.1:8888 (/metrics is added)")
	cmd.Flags().StringArrayVar(&d.config, "config", nil, "the collector's config file; repeat it for files the collector merges (${env:…} references are expanded from this environment)")
	cmd.Flags().StringVar(&d.prometheus, "prometheus", "", "the Prometheus that scrapes the collector, e.g. http://prometheus:9090")
	cmd.Flags().DurationVar(&d.timeout, "timeout", 60*time.Second, "how long all the checks may take")
	cmd.Flags().DurationVar(&d.window, "window", 15*time.Second, "how long to watch the collector's counters: what they do meanwhile decides, when anything happens (0: their totals since it started)")
	return cmd
}

// errSilentExit makes genopsctl exit 1 after the findings.
var errSilentExit = errors.New("doctor found problems")

// finding is one likely mistake: what is seen, why it matters and how
// to fix it.
type finding struct {
	check  string // a stable name: no_files, parse_errors, unknown, kubernetes, unpriced, wrong_port, exemplars, slo, alerts, unreachable
	title  string
	detail []string
	fix    string
}

type doctor struct {
	collector, prometheus string
	config                []string
	timeout, window       time.Duration

	cfg      *collectorConfig
	metrics  map[string]*dto.MetricFamily
	before   map[string]*dto.MetricFamily // the first scrape, a window before metrics
	prom     promv1.API
	findings []finding
	checked  []string
}

func (d *doctor) add(f finding) { d.findings = append(d.findings, f) }

func (d *doctor) run(ctx context.Context) {
	if len(d.config) > 0 {
		cfg, err := loadCollectorConfig(ctx, d.config)
		if err != nil {
			d.add(finding{check: "config", title: "the config file cannot be read", detail: []string{err.Error()},
				fix: "check the path, then `otelcol-genops validate --config FILE`"})
		} else {
			d.cfg = cfg
			d.checked = append(d.checked, "config "+strings.Join(d.config, " + "))
			d.checkConfig()
		}
	}
	if d.prometheus != "" {
		client, err := promapi.NewClient(promapi.Config{Address: d.prometheus})
		if err == nil {
			d.prom = promv1.NewAPI(client)
			_, err = d.prom.Buildinfo(ctx)
		}
		if err != nil {
			d.add(finding{check: "unreachable", title: "Prometheus cannot be reached", detail: []string{err.Error()},
				fix: "give Prometheus's base URL (e.g. http://127.0.0.1:9090)"})
			d.prom = nil
		}
	}
	if d.collector != "" {
		if err := d.scrapeTwice(ctx); err != nil {
			d.add(finding{check: "unreachable", title: "the collector's own metrics cannot be read", detail: []string{err.Error()},
				fix: "give its telemetry port (service.telemetry.metrics, 8888 by default; GENOPS_TELEMETRY_PORT), e.g. through `kubectl port-forward` or the API server's pod proxy"})
		} else {
			d.checked = append(d.checked, "collector "+d.collector)
			d.checkFiles()
			d.checkParseErrors()
			d.checkKubernetes()
			d.checkPricing()
		}
	}
	if d.metrics != nil || d.prom != nil {
		d.checkAttribution(ctx) // the collector's counts, and Prometheus's workloads
	}
	if d.prom != nil {
		d.checked = append(d.checked, "prometheus "+d.prometheus)
		d.checkScrape(ctx)
		d.checkExemplars(ctx)
		d.checkRules(ctx)
	}
}

// scrapeTwice reads the collector's metrics, waits the window and reads
// them again: counters are judged by what they did in the window when
// anything happened in it, so that a problem fixed since the collector
// started is not reported.
func (d *doctor) scrapeTwice(ctx context.Context) error {
	if err := d.scrape(ctx); err != nil {
		return err
	}
	if d.window <= 0 {
		return nil
	}
	d.before = d.metrics
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d.window):
	}
	return d.scrape(ctx)
}

// counted sums a counter's samples by key: now is the total since the
// collector started, inWindow what it added in the window (equal to now
// without a window).
func (d *doctor) counted(name string, key func(map[string]string) string) (now, inWindow map[string]float64) {
	now, inWindow = map[string]float64{}, map[string]float64{}
	for _, s := range sampleValues(d.metrics[name]) {
		now[key(s.labels)] += s.value
		inWindow[key(s.labels)] += s.value
	}
	for _, s := range sampleValues(d.before[name]) {
		inWindow[key(s.labels)] -= s.value
	}
	return now, inWindow
}

// since says over which time a count was judged.
func (d *doctor) since(recent bool) string {
	if recent && d.before != nil {
		return fmt.Sprintf("in the last %s", d.window)
	}
	return "since the collector started"
}

func (d *doctor) print(w io.Writer) {
	if len(d.checked) == 0 {
		d.checked = []string{"nothing that could be read"}
	}
	if len(d.findings) == 0 {
		fmt.Fprintf(w, "No problem found. Checked: %s.\n", strings.Join(d.checked, ", "))
		return
	}
	for i, f := range d.findings {
		fmt.Fprintf(w, "%d. %s [%s]\n", i+1, f.title, f.check)
		for _, l := range f.detail {
			fmt.Fprintf(w, "   %s\n", l)
		}
		fmt.Fprintf(w, "   Fix: %s\n\n", f.fix)
	}
	fmt.Fprintf(w, "%d finding(s). Checked: %s. Each is explained in docs/operations.md, \"Troubleshooting\".\n", len(d.findings), strings.Join(d.checked, ", "))
}

// --- the collector's config ---

// collectorConfig is what doctor reads of a collector config: the access
// log receivers' patterns, the governance processors' labels, the
// Prometheus exporters.
type collectorConfig struct {
	fileReceivers map[string][]string // receiver id: include patterns
	governance    map[string]*governanceprocessor.Config
	exporters     map[string]map[string]any // prometheus exporters by id
	piped         map[string]bool           // exporters some pipeline uses
	telemetryPort string
}

// loadCollectorConfig reads the config files as the collector does: with
// its own confmap resolver (file and env providers, files merged in order,
// ${env:NAME} and ${env:NAME:-default} expanded from this environment).
func loadCollectorConfig(ctx context.Context, paths []string) (*collectorConfig, error) {
	uris := make([]string, len(paths))
	for i, p := range paths {
		uris[i] = "file:" + p
	}
	resolver, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              uris,
		ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
		DefaultScheme:     "env",
	})
	if err != nil {
		return nil, err
	}
	conf, err := resolver.Resolve(ctx)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Receivers  map[string]map[string]any `mapstructure:"receivers"`
		Processors map[string]map[string]any `mapstructure:"processors"`
		Exporters  map[string]map[string]any `mapstructure:"exporters"`
		Service    struct {
			Pipelines map[string]struct {
				Exporters []string `mapstructure:"exporters"`
			} `mapstructure:"pipelines"`
			Telemetry struct {
				Metrics struct {
					Readers []struct {
						Pull struct {
							Exporter struct {
								Prometheus struct {
									Port any `mapstructure:"port"`
								} `mapstructure:"prometheus"`
							} `mapstructure:"exporter"`
						} `mapstructure:"pull"`
					} `mapstructure:"readers"`
				} `mapstructure:"metrics"`
			} `mapstructure:"telemetry"`
		} `mapstructure:"service"`
	}
	if err := conf.Unmarshal(&doc, confmap.WithIgnoreUnused()); err != nil {
		return nil, err
	}
	cfg := &collectorConfig{fileReceivers: map[string][]string{}, governance: map[string]*governanceprocessor.Config{}, exporters: map[string]map[string]any{}}
	for id, body := range doc.Receivers {
		if componentType(id) != "mesh_access_log" {
			continue
		}
		rc := meshaccesslogreceiver.NewFactory().CreateDefaultConfig().(*meshaccesslogreceiver.Config)
		if err := confmap.NewFromStringMap(body).Unmarshal(rc); err != nil {
			return nil, fmt.Errorf("receivers: %s: %w", id, err)
		}
		if len(rc.Include) > 0 {
			cfg.fileReceivers[id] = rc.Include
		}
	}
	for id, body := range doc.Processors {
		if componentType(id) != "governance" {
			continue
		}
		pc := governanceprocessor.NewFactory().CreateDefaultConfig().(*governanceprocessor.Config)
		if err := confmap.NewFromStringMap(body).Unmarshal(pc); err != nil {
			return nil, fmt.Errorf("processors: %s: %w", id, err)
		}
		cfg.governance[id] = pc
	}
	for id, body := range doc.Exporters {
		if componentType(id) == "prometheus" {
			if body == nil {
				body = map[string]any{}
			}
			cfg.exporters[id] = body
		}
	}
	cfg.piped = map[string]bool{}
	for _, pl := range doc.Service.Pipelines {
		for _, e := range pl.Exporters {
			cfg.piped[e] = true
		}
	}
	for _, r := range doc.Service.Telemetry.Metrics.Readers {
		if p := r.Pull.Exporter.Prometheus.Port; p != nil {
			cfg.telemetryPort = fmt.Sprint(p)
		}
	}
	return cfg, nil
}

func componentType(id string) string {
	t, _, _ := strings.Cut(id, "/")
	return t
}

// checkConfig reports what the config alone shows: exemplars that the
// exporter cannot expose; and, without a collector to ask, patterns that
// match no file on this machine.
func (d *doctor) checkConfig() {
	for _, id := range slices.Sorted(maps.Keys(d.cfg.exporters)) {
		if !d.cfg.piped[id] {
			d.add(finding{check: "config", title: fmt.Sprintf("exporter %s is in no pipeline", id),
				detail: []string{"The collector does not start an exporter no pipeline names: nothing listens on its endpoint, and Prometheus finds no genops_* series."},
				fix:    fmt.Sprintf("add %s to the exporters of the metrics pipeline the sli connector feeds", id)})
		}
		if open, _ := d.cfg.exporters[id]["enable_open_metrics"].(bool); !open {
			d.add(finding{check: "exemplars", title: fmt.Sprintf("exporter %s does not expose exemplars", id),
				detail: []string{"Without OpenMetrics the Prometheus exporter drops exemplars, so latency panels link to no trace."},
				fix:    fmt.Sprintf("set exporters.%s.enable_open_metrics: true", id)})
		}
	}
	if d.collector != "" {
		return // the collector says what it matches (checkFiles)
	}
	for _, id := range slices.Sorted(maps.Keys(d.cfg.fileReceivers)) {
		include := d.cfg.fileReceivers[id]
		m, err := matcher.New(matcher.Criteria{Include: include})
		if err != nil {
			continue
		}
		if files, _ := m.MatchFiles(); len(files) == 0 {
			d.add(noFiles(id, include, "on this machine"))
		}
	}
}

func noFiles(receiver string, include []string, where string) finding {
	f := finding{check: "no_files", title: fmt.Sprintf("receiver %s matches no access log file", receiver),
		fix: "mount the node's /var/log/pods into the collector (the chart's DaemonSet does) and make include match the proxies' container logs (/var/log/pods/*/<proxy container>/*.log: istio-proxy, linkerd-proxy, envoy-sidecar …)"}
	if len(include) == 0 {
		f.detail = append(f.detail, "Give --config to see its include patterns.")
	}
	for _, p := range include {
		f.detail = append(f.detail, fmt.Sprintf("include %s: %s %s", p, where, globhint.Explain(p)))
	}
	if m, err := matcher.New(matcher.Criteria{Include: include}); err == nil && len(include) > 0 && where != "on this machine" {
		if files, _ := m.MatchFiles(); len(files) > 0 {
			// The collector sees another filesystem, or expands ${env:…}
			// otherwise than doctor did.
			f.detail = []string{fmt.Sprintf("include %s matches %d file(s) where doctor runs (%s …), none where the collector runs.", strings.Join(include, ", "), len(files), files[0])}
			f.fix = "the collector sees another filesystem or other values: check its hostPath mount of /var/log/pods and the environment its ${env:…} references take (doctor expanded them from its own)"
		}
	}
	return f
}

// --- the collector's own metrics ---

func (d *doctor) scrape(ctx context.Context) error {
	raw := d.collector
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw // host:port
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/metrics"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	d.metrics, err = parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s: not Prometheus text: %w", u, err)
	}
	if d.metrics["otelcol_process_uptime_seconds_total"] == nil && d.metrics["otelcol_process_uptime"] == nil {
		if _, ok := d.metrics[semconv.PromRequestsTotal]; ok {
			return fmt.Errorf("%s is the Prometheus exporter's port (it has %s), not the collector's own telemetry (8888 by default)", u, semconv.PromRequestsTotal)
		}
	}
	return nil
}

// sample is one series of a scraped family: labels and value.
type sample struct {
	labels map[string]string
	value  float64
}

func (d *doctor) samples(name string) []sample { return sampleValues(d.metrics[name]) }

func sampleValues(mf *dto.MetricFamily) []sample {
	if mf == nil {
		return nil
	}
	var out []sample
	for _, m := range mf.GetMetric() {
		s := sample{labels: map[string]string{}}
		for _, l := range m.GetLabel() {
			s.labels[l.GetName()] = l.GetValue()
		}
		switch {
		case m.Counter != nil:
			s.value = m.GetCounter().GetValue()
		case m.Gauge != nil:
			s.value = m.GetGauge().GetValue()
		case m.Untyped != nil:
			s.value = m.GetUntyped().GetValue()
		default:
			continue
		}
		out = append(out, s)
	}
	return out
}

func (d *doctor) checkFiles() {
	readers := map[string][]string{}
	for _, s := range d.samples("otelcol_receiver_mesh_access_log_file_lines_total") {
		p := s.labels["log_file_path"]
		readers[p] = append(readers[p], s.labels["receiver"])
	}
	var twice []string
	for _, p := range slices.Sorted(maps.Keys(readers)) {
		if r := readers[p]; len(r) > 1 {
			sort.Strings(r)
			twice = append(twice, fmt.Sprintf("%s: read by %s", p, strings.Join(r, ", ")))
		}
	}
	if len(twice) > 0 {
		if len(twice) > 5 {
			twice = append(twice[:5], fmt.Sprintf("… and %d more", len(twice)-5))
		}
		d.add(finding{check: "double_read", title: "access log files are read by more than one receiver: their requests count twice", detail: twice,
			fix: "make the receivers' include patterns disjoint (one receiver per proxy container), or use exclude"})
	}
	for _, s := range d.samples("otelcol_receiver_mesh_access_log_files_matched") {
		if s.value != 0 {
			continue
		}
		id := s.labels["receiver"]
		var include []string
		if d.cfg != nil {
			include = d.cfg.fileReceivers[id]
		}
		d.add(noFiles(id, include, "where doctor runs,"))
	}
}

func (d *doctor) checkParseErrors() {
	byFile := func(l map[string]string) string { return l["log_file_path"] }
	linesNow, linesWindow := d.counted("otelcol_receiver_mesh_access_log_file_lines_total", byFile)
	errsNow, errsWindow := d.counted("otelcol_receiver_mesh_access_log_file_parse_errors_total", byFile)
	type bad struct {
		path          string
		errors, lines float64
		since         string
	}
	var files []bad
	for p, n := range linesNow {
		e, recent := errsNow[p], false
		if linesWindow[p] > 0 { // lines came in the window: judge them
			n, e, recent = linesWindow[p], errsWindow[p], true
		}
		if n > 0 && e/n > doctorParseErrorShare {
			files = append(files, bad{p, e, n, d.since(recent)})
		}
	}
	if len(files) == 0 {
		return
	}
	sort.Slice(files, func(i, j int) bool {
		if files[i].errors != files[j].errors {
			return files[i].errors > files[j].errors
		}
		return files[i].path < files[j].path
	})
	f := finding{check: "parse_errors", title: fmt.Sprintf("%d access log file(s) have lines that do not parse", len(files)),
		fix: "make the receiver's format (preset, format or json_keys) the one the mesh writes: the proxies' access log format is set by the mesh (deploy/mesh has the snippets); a file of another container (not a proxy) does not belong in include"}
	for i, b := range files {
		if i == 5 {
			f.detail = append(f.detail, fmt.Sprintf("… and %d more", len(files)-5))
			break
		}
		f.detail = append(f.detail, fmt.Sprintf("%s: %.0f of %.0f lines (%.1f%%) %s", b.path, b.errors, b.lines, 100*b.errors/b.lines, b.since))
	}
	reasons := map[string]map[string]float64{}
	for _, s := range d.samples("otelcol_receiver_mesh_access_log_parse_errors_total") {
		if s.labels["reason"] == "proxy_log" || s.labels["transport"] != "file" {
			continue // the proxy's own lines are no error of format
		}
		r := s.labels["receiver"]
		if reasons[r] == nil {
			reasons[r] = map[string]float64{}
		}
		reasons[r][s.labels["reason"]] += s.value
	}
	for _, r := range slices.Sorted(maps.Keys(reasons)) {
		var rs []string
		for _, reason := range slices.Sorted(maps.Keys(reasons[r])) {
			rs = append(rs, fmt.Sprintf("%s %.0f", reason, reasons[r][reason]))
		}
		f.detail = append(f.detail, fmt.Sprintf("Why (receiver %s, since it started): %s", r, strings.Join(rs, ", ")))
	}
	f.detail = append(f.detail, "(prefix, delimiter, trailing, ambiguous: another text format; json: not a JSON object; wrapper: not a kubelet CRI/docker log; value: a field of the wrong kind; too_long: a line past max_log_size)")
	d.add(f)
}

func (d *doctor) checkAttribution(ctx context.Context) {
	total, totalWindow := d.counted("genops_attribution_records_total", func(l map[string]string) string { return l["dimension"] })
	unknown, unknownWindow := d.counted("genops_attribution_records_total", func(l map[string]string) string {
		if src := l["source"]; src == "default" || src == "none" {
			return l["dimension"]
		}
		return ""
	})
	var dims []string
	since := map[string]string{}
	for _, dim := range watchedDimensions {
		recent := totalWindow[dim] > 0 // records came in the window: judge them
		if recent {
			total[dim], unknown[dim] = totalWindow[dim], unknownWindow[dim]
		}
		since[dim] = d.since(recent)
		if total[dim] > 0 && unknown[dim]/total[dim] > doctorUnknownShare {
			dims = append(dims, dim)
		}
	}
	workloads := d.unknownWorkloads(ctx)
	if len(dims) == 0 && (d.metrics != nil || len(workloads) == 0) {
		// The collector's own counts decide when it was read: the
		// workloads Prometheus names are totals since they started.
		return
	}
	f := finding{check: "unknown", title: "requests are attributed to unknown",
		fix: "label the workloads' pods (or their namespace) with the governance labels, or send the x-genops-* headers from a trusted caller; `genopsctl coverage` lists unlabelled workloads from the cluster"}
	for _, dim := range dims {
		f.detail = append(f.detail, fmt.Sprintf("%s: %.0f%% of %.0f records %s fell to the default%s", dim, 100*unknown[dim]/total[dim], total[dim], since[dim], d.labelHint(dim)))
	}
	if len(workloads) > 0 {
		f.detail = append(f.detail, "Workloads with genops_team=\"unknown\" requests (Prometheus): "+strings.Join(workloads, ", "))
	}
	d.add(f)
}

// labelHint names the label that carries a dimension, from the config (or
// the default config).
func (d *doctor) labelHint(dim string) string {
	cfg := governanceprocessor.NewFactory().CreateDefaultConfig().(*governanceprocessor.Config)
	if d.cfg != nil {
		if g, ok := firstOf(d.cfg.governance); ok {
			cfg = g
		} else {
			cfg.Kubernetes.Mode = governanceprocessor.KubernetesNode // unknown: say what labels would do
		}
	} else {
		cfg.Kubernetes.Mode = governanceprocessor.KubernetesNode
	}
	header := "x-genops-" + strings.ReplaceAll(dim, "_", "-")
	if cfg.Kubernetes.Mode == governanceprocessor.KubernetesOff {
		return fmt.Sprintf(": kubernetes.mode is off, so no pod or namespace label is read; send the %s header from a trusted caller or the genops.%s span tag (or the pod labels Istio's ALS sends)", header, dim)
	}
	if l := cfg.Labels[dim]; l != "" {
		return fmt.Sprintf(": their pods and namespaces lack the label %s", l)
	}
	return ": no pod label carries it (processors.governance.labels)"
}

func (d *doctor) unknownWorkloads(ctx context.Context) []string {
	if d.prom == nil {
		return nil
	}
	q := fmt.Sprintf(`topk(10, sum by (%s, %s) (%s{%s="unknown"}))`, semconv.LabelNamespace, semconv.LabelService, semconv.PromRequestsTotal, semconv.LabelGenOpsTeam)
	v, _, err := d.prom.Query(ctx, q, time.Now())
	if err != nil {
		return nil
	}
	vec, _ := v.(model.Vector)
	var out []string
	for _, s := range vec {
		out = append(out, fmt.Sprintf("%s/%s (%.0f)", s.Metric[semconv.LabelNamespace], s.Metric[semconv.LabelService], float64(s.Value)))
	}
	return out
}

// kubernetesFixes say what each kind of API error asks of the operator.
var kubernetesFixes = map[string]string{
	"unauthorized": "the service account token is refused: check the pod's automountServiceAccountToken and that the token is not expired (or the kubeconfig's credentials)",
	"forbidden":    "RBAC: the collector's ClusterRole needs get, list and watch on pods, namespaces and replicasets (apps); the chart's rbac.yaml has them",
	"unreachable":  "the API server cannot be reached: check kubernetes.kubeconfig's server, the in-cluster KUBERNETES_SERVICE_HOST, and NetworkPolicies on egress to the API server",
	"timeout":      "the API server answers too slowly: check its load and raise kubernetes.sync_timeout",
	"other":        "read the collector's log line \"Kubernetes API error\"",
}

func (d *doctor) checkKubernetes() {
	var notSynced []string
	for _, s := range d.samples("genops_kubernetes_synced") {
		if s.value == 0 {
			notSynced = append(notSynced, s.labels["processor"])
		}
	}
	// Errors count while the caches wait, or when they came in the
	// window: one refused call during a token rotation, long past, is no
	// problem now.
	errsNow, errsWindow := d.counted("genops_kubernetes_api_errors_total", func(l map[string]string) string { return l["error"] + "/" + l["resource"] })
	recent := len(notSynced) == 0 && d.before != nil
	counts := errsNow
	if recent {
		counts = errsWindow
	}
	kinds := map[string]float64{}
	resources := map[string]map[string]bool{}
	for key, n := range counts {
		k, resource, _ := strings.Cut(key, "/")
		if k == "expired" || n <= 0 {
			continue // a watch that fell behind: client-go lists again by itself
		}
		kinds[k] += n
		if resources[k] == nil {
			resources[k] = map[string]bool{}
		}
		resources[k][resource] = true
	}
	if len(kinds) == 0 && len(notSynced) == 0 {
		return
	}
	f := finding{check: "kubernetes", title: "the Kubernetes API refuses the collector (its caches keep the last state they saw)"}
	if len(notSynced) > 0 {
		f.title = "the Kubernetes caches are not synced"
	}
	if len(notSynced) > 0 {
		f.detail = append(f.detail, fmt.Sprintf("%s waits for its caches: the collector does not start until they sync (kubernetes.sync_timeout), then exits with the API error", strings.Join(notSynced, ", ")))
	}
	var fixes []string
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		f.detail = append(f.detail, fmt.Sprintf("%.0f %s error(s) listing or watching %s %s", kinds[k], k, strings.Join(slices.Sorted(maps.Keys(resources[k])), ", "), d.since(recent)))
		fix, ok := kubernetesFixes[k]
		if !ok {
			fix = kubernetesFixes["other"]
		}
		fixes = append(fixes, k+": "+fix)
	}
	if len(fixes) == 0 {
		fixes = append(fixes, "no API error yet: the API server is slow or the node has very many pods; raise kubernetes.sync_timeout")
	}
	f.fix = strings.Join(fixes, "; ")
	d.add(f)
}

func (d *doctor) checkPricing() {
	now, inWindow := d.counted("genops_pricing_unpriced_calls_total", func(l map[string]string) string { return l["processor"] + "/" + l["reason"] })
	_, records := d.counted("genops_attribution_records_total", func(map[string]string) string { return "" })
	recent := records[""] > 0 // records came in the window: judge them
	counts := now
	if recent && d.before != nil {
		counts = inWindow
	}
	f := finding{check: "unpriced", title: "AI calls get no cost"}
	var fixes []string
	for _, key := range slices.Sorted(maps.Keys(counts)) {
		n := counts[key]
		if n <= 0 {
			continue
		}
		processor, reason, _ := strings.Cut(key, "/")
		switch reason {
		case "no_table":
			f.detail = append(f.detail, fmt.Sprintf("%s: %.0f call(s) with token counts %s, and no price table (pricing_file is not set)", processor, n, d.since(recent)))
			fixes = append(fixes, fmt.Sprintf("set processors.%s.pricing_file (config/pricing.yaml is the shipped table; docs/pricing.md)", processor))
		case "no_row":
			f.detail = append(f.detail, fmt.Sprintf("%s: %.0f call(s) %s name a model no row of the price table matches", processor, n, d.since(recent)))
			fixes = append(fixes, "add a row for the model, or a default row, to the price table (docs/pricing.md); `genopsctl pricing check` tests it")
		}
	}
	if len(f.detail) == 0 {
		return
	}
	f.fix = strings.Join(slices.Compact(fixes), "; ")
	d.add(f)
}

// --- Prometheus ---

func (d *doctor) query(ctx context.Context, q string) model.Vector {
	v, _, err := d.prom.Query(ctx, q, time.Now())
	if err != nil {
		return nil
	}
	vec, _ := v.(model.Vector)
	return vec
}

// checkScrape tells a Prometheus that scrapes the collector's own
// telemetry and not its exporter: the target is up, and every dashboard is
// empty.
func (d *doctor) checkScrape(ctx context.Context) {
	contract := d.query(ctx, fmt.Sprintf("count(%s)", semconv.PromRequestsTotal))
	own := d.query(ctx, `count by (job, instance) ({__name__=~"otelcol_process_uptime_seconds_total|otelcol_process_uptime"})`)
	if len(contract) > 0 {
		if len(own) == 0 {
			d.add(finding{check: "wrong_port", title: "Prometheus does not scrape the collector's own telemetry",
				detail: []string{"Prometheus has genops_* series but no otelcol_process_uptime: the GenOpsCollector* alerts (no log file, parse errors, unknown attribution, Kubernetes errors) see nothing."},
				fix:    "scrape the telemetry port too (8888, GENOPS_TELEMETRY_PORT; the chart's PodMonitor scrapes both ports, metrics and telemetry)"})
		}
		return
	}
	// A target Prometheus cannot scrape: the exporter is not listening
	// (not in a metrics pipeline, another address).
	if targets, err := d.prom.Targets(ctx); err == nil {
		var down []string
		for _, t := range targets.Active {
			if t.Health == promv1.HealthBad {
				down = append(down, fmt.Sprintf("%s (job %s): %s", t.ScrapeURL, t.Labels["job"], t.LastError))
			}
		}
		if len(down) > 0 {
			sort.Strings(down)
			d.add(finding{check: "scrape", title: "Prometheus cannot scrape some targets", detail: down,
				fix: "is the Prometheus exporter in a metrics pipeline (service.pipelines.<metrics>.exporters) and listening on that address (exporters.prometheus.endpoint, GENOPS_PROMETHEUS_ENDPOINT)?"})
			return
		}
	}
	// No record taken in, nothing to count yet: no port is wrong.
	if in := d.query(ctx, `sum({__name__=~"otelcol_receiver_accepted_log_records_total|otelcol_receiver_accepted_spans_total"}) > 0`); len(own) > 0 && len(in) == 0 {
		return
	}
	f := finding{check: "wrong_port", title: "Prometheus has no " + semconv.PromRequestsTotal}
	port := "8889"
	if d.cfg != nil {
		if exp, ok := firstOf(d.cfg.exporters); ok {
			if ep, ok := exp["endpoint"].(string); ok {
				port = ep
			}
		}
	}
	if len(own) > 0 {
		var targets []string
		for _, s := range own {
			targets = append(targets, fmt.Sprintf("%s (job %s)", s.Metric["instance"], s.Metric["job"]))
		}
		f.detail = append(f.detail, "Prometheus scrapes the collector's own telemetry at "+strings.Join(targets, ", ")+", which is up, but not the Prometheus exporter that serves the genops_* series.")
		f.fix = fmt.Sprintf("scrape the exporter's port too (%s; the chart's PodMonitor scrapes both ports, metrics and telemetry)", port)
	} else {
		f.detail = append(f.detail, "Prometheus scrapes no collector at all (no otelcol_process_uptime series either).")
		f.fix = fmt.Sprintf("add a scrape job for the collector's exporter (%s) and telemetry (8888) ports, or enable the chart's podMonitor", port)
	}
	d.add(f)
}

func (d *doctor) checkExemplars(ctx context.Context) {
	flags, err := d.prom.Flags(ctx)
	if err != nil {
		return
	}
	if !strings.Contains(flags["enable-feature"], "exemplar-storage") {
		d.add(finding{check: "exemplars", title: "Prometheus stores no exemplars",
			detail: []string{"The latency panels' trace links (exemplars with trace_id) need exemplar storage; enable-feature is \"" + flags["enable-feature"] + "\"."},
			fix:    "start Prometheus with --enable-feature=exemplar-storage (prometheus-operator: spec.enableFeatures: [exemplar-storage])"})
	}
}

func (d *doctor) checkRules(ctx context.Context) {
	rules, err := d.prom.Rules(ctx, nil)
	if err != nil {
		return
	}
	slo := 0
	var absent, firing, unbucketed []string
	for _, g := range rules.Groups {
		if strings.HasPrefix(g.Name, "genops-slo:") {
			slo++
		}
		for _, r := range g.Rules {
			if rr, ok := r.(promv1.RecordingRule); ok && rr.Name == promrules.ErrorRatioRecord("5m") {
				if line := d.missingBucket(ctx, rr); line != "" {
					unbucketed = append(unbucketed, line)
				}
				continue
			}
			ar, ok := r.(promv1.AlertingRule)
			if !ok {
				continue
			}
			for _, a := range ar.Alerts {
				if a.State != promv1.AlertStateFiring {
					continue
				}
				if strings.HasPrefix(ar.Name, "GenOpsCollector") {
					firing = append(firing, fmt.Sprintf("%s %s", ar.Name, labelsOf(a.Labels)))
				}
			}
			// The absent alert waits 10 minutes; its expression says now.
			if ar.Name == promrules.AbsentAlert && len(d.query(ctx, ar.Query)) > 0 {
				series := strings.TrimSuffix(strings.TrimPrefix(ar.Query, "absent("), ")")
				line := fmt.Sprintf("%s/%s %s: Prometheus has no %s", ar.Labels["namespace"], ar.Labels["service"], ar.Labels["slo"], series)
				other := d.query(ctx, fmt.Sprintf(`count by (reporter) (%s{namespace=%q,service=%q})`, semconv.PromRequestsTotal, ar.Labels["namespace"], ar.Labels["service"]))
				for _, s := range other {
					line += fmt.Sprintf("; the service has series with reporter=%q (the rules read reporter=\"destination\": set the sli connector's reporter to destination or both)", s.Metric["reporter"])
				}
				absent = append(absent, line)
			}
		}
	}
	if slo == 0 {
		d.add(finding{check: "slo", title: "Prometheus has no SLO rules loaded",
			detail: []string{"No rule group genops-slo:… is loaded: the SLO dashboards and burn-rate alerts have nothing to show."},
			fix:    "`genopsctl generate --slo FILE` and load prometheus/slo-rules.yaml (or apply kubernetes/slo-prometheusrule.yaml; the chart's prometheusRule.enabled ships the example SLOs')"})
	}
	if len(absent) > 0 {
		sort.Strings(absent)
		d.add(finding{check: "slo", title: "SLOs whose series are absent (" + promrules.AbsentAlert + " fires after 10 minutes)",
			detail: absent,
			fix:    "the SLO's namespace and service must match the series' labels (docs/slo.md); check that traffic of that service reaches the collector and that Prometheus scrapes the exporter"})
	}
	if len(unbucketed) > 0 {
		sort.Strings(unbucketed)
		d.add(finding{check: "slo", title: "latency SLOs whose threshold is no bucket bound of the collector's histogram: their error ratio is never recorded",
			detail: unbucketed,
			fix:    "give the sli connector (connectors.sli.slo_file) the SLO file the rules were generated from: each latency threshold in it becomes a bucket bound"})
	}
	if len(firing) > 0 {
		sort.Strings(firing)
		d.add(finding{check: "alerts", title: "collector alerts are firing", detail: firing,
			fix: "each alert's runbook is in docs/operations.md under its name"})
	}
}

func labelsOf(ls model.LabelSet) string {
	var parts []string
	for k, v := range ls {
		if k == model.AlertNameLabel || k == "severity" {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%q", k, v))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}

// firstOf is the value under m's smallest key: with several components
// of a type, the first by id.
func firstOf[V any](m map[string]V) (V, bool) {
	keys := slices.Sorted(maps.Keys(m))
	if len(keys) == 0 {
		var zero V
		return zero, false
	}
	return m[keys[0]], true
}

// bucketSelector is a latency SLO's bucket selector in its error ratio
// rule: genops_request_duration_seconds_bucket{…,le=~"2|2\.0"}.
// (Prometheus returns the query normalised: le may be first.)
var (
	bucketSelector = regexp.MustCompile(semconv.PromRequestDurationSeconds + `_bucket\{([^}]*le=~?"[^"]*"[^}]*)\}`)
	leMatcher      = regexp.MustCompile(`le=~?"[^"]*",?`)
)

// missingBucket tells, for a latency SLO's 5-minute error ratio rule,
// when the histogram has events but no bucket at the SLO's threshold: the
// connector was given another SLO file than the rules were made from, and
// the ratio is never recorded (nor is the SLO absent: _count exists).
func (d *doctor) missingBucket(ctx context.Context, rr promv1.RecordingRule) string {
	m := bucketSelector.FindStringSubmatch(rr.Query)
	if m == nil {
		return ""
	}
	bucket := m[0]
	count := semconv.PromRequestDurationSeconds + "_count{" + strings.Trim(leMatcher.ReplaceAllString(m[1], ""), ",") + "}"
	if len(d.query(ctx, "count("+count+")")) == 0 || len(d.query(ctx, "count("+bucket+")")) > 0 {
		return ""
	}
	return fmt.Sprintf("%s/%s %s: %s has events, no bucket at the threshold (%s)", rr.Labels["namespace"], rr.Labels["service"], rr.Labels["slo"], count, bucket)
}
