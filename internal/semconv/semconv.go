// Package semconv holds the names that components, generators and docs share:
// governance attributes, request and response headers, pod labels and the
// Prometheus metric contract of ARCHITECTURE.md.
//
// It is a leaf package (it imports nothing of this repository) so that every
// component can use it without importing another component. A name changes
// here, in one step, together with the golden files and docs that spell it.
package semconv

// Governance attributes set on spans and log records (GenOps governance spec).
const (
	AttrTeam         = "genops.team"
	AttrProject      = "genops.project"
	AttrCustomerID   = "genops.customer_id"
	AttrCostCenter   = "genops.cost_center"
	AttrCustomerTier = "genops.customer_tier"
	AttrEnvironment  = "genops.environment"
	AttrFeature      = "genops.feature"

	// AttrAttributionSource says where the governance values came from, so a
	// wrong bill can be traced to its cause. Its values are the Source* constants.
	AttrAttributionSource = "genops.attribution.source"

	AttrCostTotal    = "genops.cost.total"
	AttrCostCurrency = "genops.cost.currency"
	// AttrCostNanos is the exact cost in nano-units of the currency (an
	// integer): what a ledger sums. AttrCostTotal is the same amount as a
	// float, for the metric contract.
	AttrCostNanos = "genops.cost.nanos"
	// AttrCostPriceRow names the price table row that priced the call
	// (glob@valid_from, "default"), or "stated" for a cost the workload
	// stated itself.
	AttrCostPriceRow = "genops.cost.price_row"
	// AttrCostTime is the time (Unix nanoseconds, an integer) the call
	// was priced at, which is the time it is billed at: the record's,
	// unless a sender over the network claimed one more than an hour old
	// or in the future (then its arrival).
	AttrCostTime = "genops.cost.time"
)

// PriceRowStated is AttrCostPriceRow of a cost an AI workload stated.
const PriceRowStated = "stated"

// Values of AttrAttributionSource, in the default precedence order.
const (
	SourceHeader         = "header"
	SourceSpanTag        = "span_tag"
	SourcePodLabel       = "pod_label"
	SourceNamespaceLabel = "namespace_label"
	SourceDefault        = "default"
)

// OpenTelemetry GenAI semantic convention attributes read for cost.
const (
	AttrGenAIInputTokens  = "gen_ai.usage.input_tokens"
	AttrGenAIOutputTokens = "gen_ai.usage.output_tokens"
	// Cache reads and writes: counted inside input_tokens by the
	// convention; the price table says per provider whether they are.
	AttrGenAICacheReadTokens     = "gen_ai.usage.cache_read.input_tokens"
	AttrGenAICacheCreationTokens = "gen_ai.usage.cache_creation.input_tokens"
	AttrGenAIReasoningTokens     = "gen_ai.usage.reasoning.output_tokens"
	AttrGenAIResponseModel       = "gen_ai.response.model"
	AttrGenAIRequestModel        = "gen_ai.request.model"
	AttrGenAIProviderName        = "gen_ai.provider.name"
	// The service tier a call was served in (OpenAI's default, flex,
	// priority; the batch API): its price table tier.
	AttrOpenAIResponseServiceTier = "openai.response.service_tier"
	AttrOpenAIRequestServiceTier  = "openai.request.service_tier"
)

// Request headers a client or gateway sets to attribute a request.
const (
	HeaderTeam         = "x-genops-team"
	HeaderProject      = "x-genops-project"
	HeaderCustomerID   = "x-genops-customer-id"
	HeaderCostCenter   = "x-genops-cost-center"
	HeaderCustomerTier = "x-genops-customer-tier"
	HeaderEnvironment  = "x-genops-environment"
	HeaderFeature      = "x-genops-feature"
)

// Response headers set by an AI gateway or model server.
const (
	HeaderModel        = "x-genops-model"
	HeaderProvider     = "x-genops-provider"
	HeaderTokensInput  = "x-genops-tokens-input"
	HeaderTokensOutput = "x-genops-tokens-output"
	HeaderCost         = "x-genops-cost"
	// The gen_ai.usage.cache_read, cache_creation and reasoning counts.
	HeaderTokensCacheRead  = "x-genops-tokens-cache-read"
	HeaderTokensCacheWrite = "x-genops-tokens-cache-write"
	HeaderTokensReasoning  = "x-genops-tokens-reasoning"
	// The service tier of the call (batch, flex, priority …), for any
	// provider.
	HeaderServiceTier = "x-genops-service-tier"
)

// Pod and namespace labels that carry governance values.
const (
	LabelTeam         = "genops.ai/team"
	LabelProject      = "genops.ai/project"
	LabelCostCenter   = "genops.ai/cost-center"
	LabelCustomerTier = "genops.ai/customer-tier"
)

// Prefixes under which captured HTTP headers are stored as attributes
// (OpenTelemetry semantic conventions: http.request.header.<lower-case name>).
const (
	RequestHeaderPrefix  = "http.request.header."
	ResponseHeaderPrefix = "http.response.header."
)

// PodLabelPrefix is the prefix of a pod's labels as resource attributes
// (k8s.pod.label.<label>, as k8s_attributes and Istio's ALS node metadata
// write them); the app and version labels under it are read for a
// workload's app and version.
const (
	PodLabelPrefix         = "k8s.pod.label."
	AttrPodLabelApp        = PodLabelPrefix + "app"
	AttrPodLabelAppName    = PodLabelPrefix + "app.kubernetes.io/name"
	AttrPodLabelVersion    = PodLabelPrefix + "version"
	AttrPodLabelAppVersion = PodLabelPrefix + "app.kubernetes.io/version"
)

// Metric names of the contract, as OpenTelemetry names. The Prometheus
// exporter turns dots into underscores and adds the unit and _total
// suffixes; PromName gives the series name that rules and dashboards query.
const (
	MetricRequests        = "genops.requests"
	MetricRequestDuration = "genops.request.duration"
	MetricCost            = "genops.cost"
	MetricTokens          = "genops.tokens"
	// MetricUnpricedTokens counts the tokens of calls no price table row
	// priced (and no workload stated a cost for): they are billed nowhere.
	MetricUnpricedTokens = "genops.unpriced_tokens"
	// MetricTCPBytes counts the bytes of L4 connections (Istio ambient's
	// ztunnel), which are not HTTP requests: genops_tcp_bytes_total.
	MetricTCPBytes             = "genops.tcp.bytes"
	MetricAttributionConflicts = "genops.attribution.conflicts"
	MetricSeriesOverflow       = "genops.series.overflow"
	// MetricPolicyEvents counts requests a mesh control acted on (rate
	// limited, denied, circuit open, retries exhausted, timed out, fault
	// injected), once per request: genops_policy_events_total.
	MetricPolicyEvents = "genops.policy.events"
	// MetricUpstreamAttempts counts the upstream attempts of requests
	// whose log records them (%UPSTREAM_REQUEST_ATTEMPT_COUNT%): minus the
	// requests, the retries (genops_upstream_attempts_total).
	MetricUpstreamAttempts = "genops.upstream.attempts"
	// MetricUpstreamRetries counts the attempts beyond the first
	// (genops_upstream_retries_total).
	MetricUpstreamRetries = "genops.upstream.retries"
)

// Prometheus series names of the contract.
const (
	PromRequestsTotal             = "genops_requests_total"
	PromRequestDurationSeconds    = "genops_request_duration_seconds"
	PromCostTotal                 = "genops_cost_total"
	PromTokensTotal               = "genops_tokens_total"
	PromUnpricedTokensTotal       = "genops_unpriced_tokens_total"
	PromAttributionConflictsTotal = "genops_attribution_conflicts_total"
	PromSeriesOverflowTotal       = "genops_series_overflow_total"
	PromPolicyEventsTotal         = "genops_policy_events_total"
	PromUpstreamAttemptsTotal     = "genops_upstream_attempts_total"
	PromUpstreamRetriesTotal      = "genops_upstream_retries_total"
)

// Policies of genops_policy_events_total: which mesh control acted on a
// request (Envoy response flags and response code details).
const (
	PolicyRateLimited    = "rate_limited"    // RL; local_rate_limited, request_rate_limited
	PolicyDenied         = "denied"          // UAEX; rbac_access_denied_matched_policy[…], ext_authz_denied
	PolicyCircuitOpen    = "circuit_open"    // UO
	PolicyRetryExhausted = "retry_exhausted" // URX
	PolicyTimeout        = "timeout"         // UT
	PolicyFaultInjected  = "fault_injected"  // FI, DI
)

// Metric labels of the contract.
const (
	LabelNamespace         = "namespace"
	LabelApp               = "app"
	LabelVersion           = "version"
	LabelService           = "service"
	LabelRoute             = "route"
	LabelGenOpsTeam        = "genops_team"
	LabelGenOpsProject     = "genops_project"
	LabelGenOpsCustomerID  = "genops_customer_id"
	LabelGenOpsCostCenter  = "genops_cost_center"
	LabelGenOpsTier        = "genops_customer_tier"
	LabelResponseCodeClass = "response_code_class"
	LabelAvailability      = "availability"
	LabelReporter          = "reporter"
	LabelCluster           = "cluster"
	LabelProvider          = "provider"
	LabelModel             = "model"
	LabelCurrency          = "currency"
	LabelTokenType         = "token_type"
	LabelDirection         = "direction"   // of genops_tcp_bytes_total: sent or received, as the destination sees it
	LabelPolicy            = "policy"      // of genops_policy_events_total: PolicyRateLimited …
	LabelPolicyName        = "policy_name" // the RBAC policy Envoy names, "" when it names none
	LabelDimension         = "dimension"
	LabelWinner            = "winner"
	LabelMetric            = "metric"
	LabelLabel             = "label"
)

// Label values of the contract.
const (
	AvailabilityGood    = "good"
	AvailabilityBad     = "bad"
	ReporterDestination = "destination"
	ReporterSource      = "source"
	TokenTypeInput      = "input"
	TokenTypeOutput     = "output"
	// OverflowValue replaces a label value once the label's cap is reached.
	OverflowValue = "__overflow__"
)

// Attributes of an access log record. OpenTelemetry semantic conventions
// where they exist, the envoy. namespace for the rest (also for Linkerd
// records, so that later stages read one set of names).
const (
	AttrHTTPRequestMethod      = "http.request.method"
	AttrHTTPResponseStatusCode = "http.response.status_code"
	AttrURLPath                = "url.path"
	AttrURLQuery               = "url.query"
	AttrURLFull                = "url.full"
	AttrNetworkProtocolName    = "network.protocol.name"
	AttrNetworkProtocolVersion = "network.protocol.version"
	AttrUserAgentOriginal      = "user_agent.original"
	AttrServerAddress          = "server.address"
	AttrServerPort             = "server.port"
	AttrClientAddress          = "client.address"
	AttrClientPort             = "client.port"
	AttrNetworkPeerAddress     = "network.peer.address"

	AttrEnvoyResponseFlags                  = "envoy.response_flags"
	AttrEnvoyResponseCodeDetails            = "envoy.response_code_details"
	AttrEnvoyUpstreamAttempts               = "envoy.upstream_request_attempt_count"
	AttrEnvoyConnectionTerminationDetails   = "envoy.connection_termination_details"
	AttrEnvoyUpstreamTransportFailureReason = "envoy.upstream_transport_failure_reason"
	AttrEnvoyBytesReceived                  = "envoy.bytes_received"
	AttrEnvoyBytesSent                      = "envoy.bytes_sent"
	AttrEnvoyDurationMs                     = "envoy.duration_ms"
	AttrEnvoyRequestDurationMs              = "envoy.request_duration_ms"
	AttrEnvoyResponseDurationMs             = "envoy.response_duration_ms"
	AttrEnvoyUpstreamHost                   = "envoy.upstream_host"
	AttrEnvoyUpstreamCluster                = "envoy.upstream_cluster"
	AttrEnvoyUpstreamLocalAddress           = "envoy.upstream_local_address"
	AttrEnvoyDownstreamLocalAddress         = "envoy.downstream_local_address"
	AttrEnvoyDownstreamPeerURISAN           = "envoy.downstream_peer_uri_san"
	AttrEnvoyRequestedServerName            = "envoy.requested_server_name"
	AttrEnvoyRouteName                      = "envoy.route_name"
	AttrEnvoyRequestID                      = "envoy.request_id"
	AttrEnvoyStartTime                      = "envoy.start_time"
	AttrEnvoyDirection                      = "envoy.direction"
	AttrEnvoyParseError                     = "envoy.parse_error"
	AttrEnvoyLogName                        = "envoy.log_name"
	AttrLinkerdClientID                     = "linkerd.client_id"
	AttrLinkerdProcessingNs                 = "linkerd.processing_ns"
	AttrLinkerdTotalNs                      = "linkerd.total_ns"
)

// AttrSide is which end of a request a record was written at, as the
// governance processor decides it (the one owner of request identity):
// SideDestination (the server's sidecar, a SERVER span), SideSource (the
// caller's sidecar, a CLIENT span) or SideGateway (a mesh gateway's
// proxy). The sli connector counts a record by it and by the workload
// attributes the processor wrote (AttrApp, AttrVersion, AttrServiceName,
// AttrK8sNamespace); a record without it is not a request between
// services.
const AttrSide = "genops.side"

// AttrShard is the key agents route a counted record by in tiered mode
// (the loadbalancing exporter's routing_attributes): the namespace and app
// the record's series are labelled with, "namespace/app". Every series a
// record adds to carries both labels, so routing by it sends each series'
// records to one gateway replica (docs/scaling.md). Written by the
// governance processor when shard_key is on.
const AttrShard = "genops.shard"

// AttrRequestDurationMs and AttrRequestError carry, on the request record
// a span becomes (connector/requestlogconnector), what a log record has
// no field for: the span's duration in milliseconds (a double, as precise
// as the span) and whether its status was ERROR. The sli connector reads
// them from records as it reads them from spans.
const (
	AttrRequestDurationMs = "genops.request.duration_ms"
	AttrRequestError      = "genops.request.error"
)

// Values of AttrSide. A record's side is the reporter label of the
// series that count it; a gateway's records count as gateways.count of
// the sli connector says.
const (
	SideDestination = ReporterDestination
	SideSource      = ReporterSource
	SideGateway     = "gateway"
)

// Values of AttrEnvoyDirection: which sidecar logged the request.
const (
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
)

// Workload attributes the governance processor sets (and the SLI connector
// reads) for the destination of a request; the source side carries the
// same names under SourcePrefix.
const (
	AttrK8sNamespace = "k8s.namespace.name"
	AttrK8sCluster   = "k8s.cluster.name"
	// The pod and its owners, as OpenTelemetry's k8s semantic conventions
	// (and contrib's k8sattributes) name them.
	AttrK8sPodName         = "k8s.pod.name"
	AttrK8sPodUID          = "k8s.pod.uid"
	AttrK8sPodIP           = "k8s.pod.ip"
	AttrK8sContainerName   = "k8s.container.name"
	AttrK8sDeploymentName  = "k8s.deployment.name"
	AttrK8sReplicaSetName  = "k8s.replicaset.name"
	AttrK8sStatefulSetName = "k8s.statefulset.name"
	AttrK8sDaemonSetName   = "k8s.daemonset.name"
	AttrK8sJobName         = "k8s.job.name"
	AttrK8sCronJobName     = "k8s.cronjob.name"
	AttrApp                = "app"
	AttrVersion            = "version"
	AttrServiceName        = "service.name"
	AttrHTTPRoute          = "http.route"
	SourcePrefix           = "source."
)

// FailureFlags are the Envoy response flags that make a request bad for
// availability by default (upstream and local failures; client-side,
// policy and injected-fault flags are not): the SLI connector's default
// and the rules over Istio's response_flags label.
var FailureFlags = []string{"UH", "UF", "UO", "UT", "LR", "UR", "UC", "URX", "NC", "NR", "DF", "DO", "OM", "UPE", "UMSDR", "DT", "RLSE", "LH"}

// ResponseFlags is every flag Envoy writes in %RESPONSE_FLAGS%.
var ResponseFlags = []string{"LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE", "DC", "URX", "SI", "IH", "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF", "DO", "DRR"}

// Proxy metrics the SLO sources istio and linkerd read.
const (
	PromIstioRequestsTotal     = "istio_requests_total"
	PromIstioRequestDurationMs = "istio_request_duration_milliseconds"
	PromLinkerdResponseTotal   = "response_total"
	PromLinkerdLatencyMs       = "response_latency_ms"
)

// RequestDurationLabels are the labels of genops_request_duration_seconds
// (ARCHITECTURE.md, metric contract), in order: the sli connector writes
// them, and a latency SLO may split or narrow only by these.
var RequestDurationLabels = []string{
	LabelNamespace, LabelApp, LabelService, LabelRoute, LabelGenOpsTeam,
	LabelGenOpsProject, LabelGenOpsTier, LabelReporter, LabelCluster,
}
