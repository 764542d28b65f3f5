package promrules

import (
	"fmt"
	"strings"
)

// Names of the collector's own alerts (docs/operations.md has a runbook
// section for each, under the alert's name).
const (
	NoLogFilesAlert          = "GenOpsCollectorNoLogFiles"
	ParseErrorsAlert         = "GenOpsCollectorParseErrors"
	UnknownAttributionAlert  = "GenOpsCollectorUnknownAttribution"
	UnpricedCallsAlert       = "GenOpsCollectorUnpricedCalls"
	KubernetesNotSyncedAlert = "GenOpsCollectorKubernetesNotSynced"
	KubernetesAPIErrorsAlert = "GenOpsCollectorKubernetesAPIErrors"
	ExporterNotScrapedAlert  = "GenOpsCollectorExporterNotScraped"
	CollectorGroup           = "genops-collector"
	defaultRunbookBase       = "https://github.com/genops-mesh/otelcol-genops/blob/main/docs/operations.md"
	defaultUnknownShare      = 0.2
	defaultParseErrorShare   = 0.01
)

// CollectorOptions tune the collector's own alerts.
type CollectorOptions struct {
	// UnknownShare is the share of records (0 to 1) whose dimension falls
	// to its default above which GenOpsCollectorUnknownAttribution fires
	// (0: 0.2).
	UnknownShare float64
	// UnknownDimensions are the dimensions it watches (nil: team,
	// project and cost_center, those pod and namespace labels carry;
	// customer_id is unknown for every request without a customer).
	UnknownDimensions []string
	// ParseErrorShare is the share of a file's lines that fail to parse
	// above which GenOpsCollectorParseErrors fires (0: 0.01).
	ParseErrorShare float64
	// RunbookBase is the URL of docs/operations.md; each alert links to
	// its section.
	RunbookBase string
}

// Collector returns the rules that watch the collector itself, from its
// own telemetry (port 8888, which the chart's PodMonitor scrapes beside
// the exporter's): each alert names a silent failure that costs
// attribution or billing, with the fix in its description and runbook.
func Collector(o CollectorOptions) RuleFile {
	if o.UnknownShare == 0 {
		o.UnknownShare = defaultUnknownShare
	}
	if o.ParseErrorShare == 0 {
		o.ParseErrorShare = defaultParseErrorShare
	}
	if o.UnknownDimensions == nil {
		o.UnknownDimensions = []string{"team", "project", "cost_center"}
	}
	if o.RunbookBase == "" {
		o.RunbookBase = defaultRunbookBase
	}
	dims := strings.Join(o.UnknownDimensions, "|")
	alert := func(name, expr, forDuration, summary, description string) Rule {
		return Rule{
			Alert: name, Expr: expr, For: forDuration,
			Labels: map[string]string{"severity": "ticket"}, // none of them wakes anyone: data is late, not lost
			Annotations: map[string]string{
				"summary": summary, "description": description,
				"runbook_url": o.RunbookBase + "#" + strings.ToLower(name),
			},
		}
	}
	rules := []Rule{
		alert(NoLogFilesAlert,
			`otelcol_receiver_mesh_access_log_files_matched == 0`, "10m",
			"{{ $labels.receiver }} on {{ $labels.instance }} reads no access log file",
			"The receiver's include patterns match no file, so no access log of this node is read. The collector's warning \"no access log file matches include\" names what exists instead: check the hostPath mount of /var/log/pods and the include glob."),
		alert(ParseErrorsAlert,
			fmt.Sprintf(`rate(otelcol_receiver_mesh_access_log_file_parse_errors_total[15m])
/
rate(otelcol_receiver_mesh_access_log_file_lines_total[15m])
> %s`, fmtFloat(o.ParseErrorShare)), "15m",
			"{{ $value | humanizePercentage }} of the lines of {{ $labels.log_file_path }} do not parse",
			"The proxy writes another access log format than the receiver's format/preset expects: its requests are not counted. Compare the mesh's access log format with the receiver's (genopsctl doctor names the parse errors' reasons)."),
		alert(UnknownAttributionAlert,
			fmt.Sprintf(`sum without (source) (rate(genops_attribution_records_total{dimension=~%q,source=~"default|none"}[30m]))
/
sum without (source) (rate(genops_attribution_records_total{dimension=~%q}[30m]))
> %s`, dims, dims, fmtFloat(o.UnknownShare)), "30m",
			"{{ $value | humanizePercentage }} of requests get no {{ $labels.dimension }} (it shows as unknown)",
			"Workloads lack the governance label of this dimension on their pods and namespace, so their cost goes to unknown. `genopsctl doctor --prometheus URL` lists the workloads; `genopsctl coverage` lists them from the cluster."),
		alert(UnpricedCallsAlert,
			`sum without (reason) (rate(genops_pricing_unpriced_calls_total[1h])) > 0`, "1h",
			"AI calls with token counts get no cost on {{ $labels.instance }}",
			"Calls name a model that no row of the price table matches (or the collector has no pricing_file): their tokens are counted in genops_unpriced_tokens_total but cost nothing. Add a row or a default to the price table (docs/pricing.md)."),
		alert(KubernetesNotSyncedAlert,
			// max over 15 minutes: a collector that waits sync_timeout (2m by
			// default) and exits restarts as a new process, and the series
			// goes stale in between; the last samples still say 0.
			`max_over_time(genops_kubernetes_synced[15m]) == 0`, "5m",
			"{{ $labels.processor }} on {{ $labels.instance }} waits for the Kubernetes API",
			"The governance processor cannot list pods, namespaces or replicasets, so the collector does not start: it exits after kubernetes.sync_timeout (2m by default) naming the API error, and restarts. genops_kubernetes_api_errors_total says why (unauthorized, forbidden, unreachable, timeout)."),
		alert(KubernetesAPIErrorsAlert,
			`sum without (resource) (rate(genops_kubernetes_api_errors_total{error!="expired"}[10m])) > 0`, "10m",
			"{{ $labels.processor }} on {{ $labels.instance }} gets {{ $labels.error }} errors from the Kubernetes API",
			"The informers keep the last pods they saw and retry; pods started since are attributed to unknown. unauthorized: the service account token; forbidden: the ClusterRole (pods, namespaces, replicasets: get, list, watch); unreachable or timeout: the API server address or a NetworkPolicy."),
		alert(ExporterNotScrapedAlert,
			// Each sum on its own: "or" of the two rates would keep only the
			// log series of a receiver (otlp) that takes logs and spans.
			`(
  (sum(rate(otelcol_receiver_accepted_log_records_total[10m])) or vector(0))
+
  (sum(rate(otelcol_receiver_accepted_spans_total[10m])) or vector(0))
) > 0
unless on ()
count(genops_requests_total)`, "10m",
			"Collectors take in records but Prometheus has no genops_requests_total",
			"Prometheus scrapes the collector's own telemetry port (8888) but not the Prometheus exporter's (8889), or the exporter is not in the metrics pipeline: every dashboard and SLO is empty. Scrape both ports (the chart's PodMonitor does)."),
	}
	return RuleFile{Groups: []Group{{Name: CollectorGroup, Rules: rules}}}
}
