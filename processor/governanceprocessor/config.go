package governanceprocessor

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"

	"github.com/genops-mesh/otelcol-genops/internal/accesslog"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// Indexes of the sources in defaultSources.
const (
	sourceHeader = iota
	sourceSpanTag
	sourcePodLabel
	sourceNamespaceLabel
	sourceDefault
	numSources
)

// Sources of a governance value, by their indexes.
var defaultSources = []string{
	sourceHeader: semconv.SourceHeader, sourceSpanTag: semconv.SourceSpanTag, sourcePodLabel: semconv.SourcePodLabel,
	sourceNamespaceLabel: semconv.SourceNamespaceLabel, sourceDefault: semconv.SourceDefault,
}

// defaultOrder is the default precedence (docs/trust.md): the namespace's
// labels (the platform's) beat the pod's (its author's), and both beat
// what a request claims.
var defaultOrder = []string{
	semconv.SourceNamespaceLabel, semconv.SourcePodLabel, semconv.SourceHeader, semconv.SourceSpanTag, semconv.SourceDefault,
}

// Dimensions, by their short names.
const (
	DimTeam         = "team"
	DimProject      = "project"
	DimCustomerID   = "customer_id"
	DimCostCenter   = "cost_center"
	DimCustomerTier = "customer_tier"
	DimEnvironment  = "environment"
	DimFeature      = "feature"
)

var dimensionNames = []string{DimTeam, DimProject, DimCustomerID, DimCostCenter, DimCustomerTier, DimEnvironment, DimFeature}

// Trust modes of a dimension's header.
const (
	TrustAlways            = "always"
	TrustNever             = "never"
	TrustWhenSourceMatches = "when_source_matches"
)

// Values of cost_source.
const (
	CostSourceStated = "stated"
	CostSourceTable  = "table"
)

// Kubernetes modes.
const (
	KubernetesOff     = "off"
	KubernetesNode    = "node"
	KubernetesCluster = "cluster"
)

// Config is the governance processor's configuration.
type Config struct {
	// Sources is the precedence order of header, span_tag, pod_label,
	// namespace_label and default.
	Sources []string `mapstructure:"sources"`
	// Headers maps a dimension to the request header that carries it.
	Headers map[string]string `mapstructure:"headers"`
	// Labels maps a dimension to the pod and namespace label that carries it.
	Labels map[string]string `mapstructure:"labels"`
	// Dimensions configures trust and validation per dimension.
	Dimensions map[string]DimensionConfig `mapstructure:"dimensions"`
	// TrustedSources are the callers whose headers and span tags a
	// dimension with trust: when_source_matches accepts.
	TrustedSources TrustedSources `mapstructure:"trusted_sources"`
	// AIWorkloads are the workloads (namespace/workload, namespace/* or *)
	// whose responses may state their own cost and token counts
	// (x-genops-cost, x-genops-tokens-*, genops.cost.total): AI gateways and
	// model servers. Empty: cost only from token counts the workloads
	// report in gen_ai.usage.* times the price table.
	AIWorkloads []string `mapstructure:"ai_workloads"`
	// Limits bound the numbers one request may carry.
	Limits LimitsConfig `mapstructure:"limits"`
	// HashKey is the HMAC key for dimensions with hash: true.
	HashKey configopaque.String `mapstructure:"hash_key"`
	// Kubernetes configures pod and namespace label lookups.
	Kubernetes KubernetesConfig `mapstructure:"kubernetes"`
	// PricingFile is the price table (config/pricing.yaml) for AI cost.
	PricingFile string `mapstructure:"pricing_file"`
	// CostSource decides, when an AI workload states a call's cost (the
	// GenOps SDK computes it in-process) and the price table can price the
	// same call, which is kept: stated (default) or table. A call is never
	// priced twice; a difference is counted either way.
	CostSource string `mapstructure:"cost_source"`
	// Gateways are the mesh gateway workloads whose access log records
	// are marked genops.side=gateway.
	Gateways GatewaysConfig `mapstructure:"gateways"`
	// Cluster is set as k8s.cluster.name on records that have none.
	Cluster string `mapstructure:"cluster"`
	// ShardKey writes genops.shard ("namespace/app" of the series a
	// record counts in) on every counted record, for the loadbalancing
	// exporter of a tiered agent to route by (docs/scaling.md).
	ShardKey bool `mapstructure:"shard_key"`

	// AccessLogFormat, when set, structures log records that arrive
	// unparsed — Envoy's OpenTelemetry access logger sends each request as
	// an OTLP log whose body is the formatted line — with the same parser
	// as the mesh_access_log receiver: a preset or an Envoy format string.
	AccessLogFormat string `mapstructure:"access_log_format"`
	// AccessLogEncoding is text or json (empty: the preset's).
	AccessLogEncoding string `mapstructure:"access_log_encoding"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Unmarshal merges each configured dimension over its default, so that
// `dimensions: {team: {trust: never}}` changes the trust rule and keeps
// team's pattern, length bound and default value. (Decoding a map of
// structs would otherwise start each named entry from zero.) A dimension
// the defaults do not know starts from team's rules.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	defaults := maps.Clone(c.Dimensions) // decoding writes into the map itself
	type plain Config                    // no Unmarshal method: decodes the fields as usual
	if err := conf.Unmarshal((*plain)(c)); err != nil {
		return err
	}
	if !conf.IsSet("dimensions") {
		return nil
	}
	dims, err := conf.Sub("dimensions")
	if err != nil {
		return err
	}
	for name := range dims.ToStringMap() {
		d, ok := defaults[name]
		if !ok {
			d = defaults[DimTeam]
			d.Allow = nil
		}
		sub, err := dims.Sub(name)
		if err != nil {
			return err
		}
		if err := sub.Unmarshal(&d); err != nil {
			return fmt.Errorf("dimensions.%s: %w", name, err)
		}
		c.Dimensions[name] = d
	}
	return nil
}

// DimensionConfig is how one dimension's values are trusted and checked.
type DimensionConfig struct {
	// Trust is always, never or when_source_matches (a trusted principal
	// or namespace sent the request).
	Trust string `mapstructure:"trust"`
	// Allow lists the accepted values; empty accepts any that match Pattern.
	Allow []string `mapstructure:"allow"`
	// Pattern is a regular expression a value must match.
	Pattern string `mapstructure:"pattern"`
	// MaxLength bounds a value in bytes; a longer one is rejected, not cut.
	MaxLength int `mapstructure:"max_length"`
	// Hash replaces the value by an HMAC of it (personal data).
	Hash bool `mapstructure:"hash"`
	// Default is the value when no source gives one.
	Default string `mapstructure:"default"`
}

// TrustedSources name the callers allowed to set headers.
type TrustedSources struct {
	// Principals are SPIFFE ids (%DOWNSTREAM_PEER_URI_SAN%) or Linkerd
	// client ids; a trailing * matches a prefix.
	Principals []string `mapstructure:"principals"`
	// Namespaces are the caller's namespaces (from its SPIFFE id or pod).
	Namespaces []string `mapstructure:"namespaces"`
	// Forwarders are the namespaces of collectors that forward records
	// they have already attributed (an agent's OTLP exporter to a
	// gateway): the identity and governance attributes of what their pods
	// send are kept. Without Kubernetes (kubernetes.mode off) no
	// namespace can be told; the only entry allowed there is "*": every
	// sender over the network is a forwarder (a tiered gateway whose
	// listener only agents reach).
	Forwarders []string `mapstructure:"forwarders"`
	// OnlyForwarders drops the logs and spans of every sender that is no
	// forwarder (a tiered gateway, whose senders are its agents only),
	// counted as claim="sender", reason="untrusted".
	OnlyForwarders bool `mapstructure:"only_forwarders"`
}

// LimitsConfig bounds a request's numbers: a value past a limit is
// refused and counted, never cut.
type LimitsConfig struct {
	// MaxTokensPerRequest is the most tokens of one type a request may
	// report.
	MaxTokensPerRequest int64 `mapstructure:"max_tokens_per_request"`
	// MaxCostPerRequest is the most one request may cost, in the price
	// table's currency.
	MaxCostPerRequest float64 `mapstructure:"max_cost_per_request"`
	// MaxHostServices bounds the services named only by a Host header
	// (no pod, no service.name, no app): the next distinct one is
	// __overflow__, so that one client sending many Host values cannot
	// fill every metric's series with services that do not exist.
	MaxHostServices int `mapstructure:"max_host_services"`
}

// GatewaysConfig identifies the gateway workloads (ingress, east-west,
// egress). A gateway logs every request it forwards as outbound, and the
// destination's sidecar logs the same request: the sli connector's
// gateways.count says whether a gateway's records count.
type GatewaysConfig struct {
	// Workloads are namespace/name: a pod in the namespace whose app
	// label is name, or whose name starts "<name>-". Only the namespace's
	// pods: a tenant's pod named like a gateway is none.
	Workloads []string `mapstructure:"workloads"`
}

// KubernetesConfig configures the informers.
type KubernetesConfig struct {
	// Mode is off (headers and span tags only), node (pods of NodeName,
	// for a DaemonSet) or cluster (every pod, for a gateway).
	Mode string `mapstructure:"mode"`
	// NodeName is the node of node mode (K8S_NODE_NAME from the downward API).
	NodeName string `mapstructure:"node_name"`
	// SyncTimeout bounds the wait for the caches at start.
	SyncTimeout time.Duration `mapstructure:"sync_timeout"`
	// Kubeconfig is a kubeconfig file; empty uses the in-cluster service account.
	Kubeconfig string `mapstructure:"kubeconfig"`
	// DeleteGracePeriod is how long a deleted pod still resolves by UID,
	// name and IP: the log tail lags the API, and a request from a pod's
	// IP that crossed its deletion is still the pod's.
	DeleteGracePeriod time.Duration `mapstructure:"delete_grace_period"`
}

// Validate checks the configuration, naming the field at fault.
func (c *Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, s := range c.Sources {
		if !slices.Contains(defaultSources, s) {
			errs = append(errs, fmt.Errorf("sources[%d]: %q is not one of %v", i, s, defaultSources))
		}
		if seen[s] {
			errs = append(errs, fmt.Errorf("sources[%d]: %q appears twice", i, s))
		}
		seen[s] = true
	}
	for name, d := range c.Dimensions {
		if !slices.Contains(dimensionNames, name) {
			errs = append(errs, fmt.Errorf("dimensions: %q is not one of %v", name, dimensionNames))
			continue
		}
		switch d.Trust {
		case TrustAlways, TrustNever, TrustWhenSourceMatches:
		default:
			errs = append(errs, fmt.Errorf("dimensions.%s.trust: %q is not one of always, never, when_source_matches", name, d.Trust))
		}
		if _, err := regexp.Compile(d.Pattern); err != nil {
			errs = append(errs, fmt.Errorf("dimensions.%s.pattern: %w", name, err))
		}
		if d.MaxLength < 1 || d.MaxLength > 4096 {
			errs = append(errs, fmt.Errorf("dimensions.%s.max_length: %d is outside 1 to 4096", name, d.MaxLength))
		}
		if d.Hash && c.HashKey == "" {
			errs = append(errs, fmt.Errorf("dimensions.%s.hash: needs hash_key", name))
		}
	}
	for k := range c.Headers {
		if !slices.Contains(dimensionNames, k) {
			errs = append(errs, fmt.Errorf("headers: %q is not a dimension", k))
		}
	}
	for k := range c.Labels {
		if !slices.Contains(dimensionNames, k) {
			errs = append(errs, fmt.Errorf("labels: %q is not a dimension", k))
		}
	}
	if c.AccessLogFormat != "" {
		if _, err := accesslog.New(c.AccessLogFormat, c.AccessLogEncoding, nil); err != nil {
			errs = append(errs, fmt.Errorf("access_log_format: %w", err))
		}
	}
	for i, w := range c.AIWorkloads {
		if w != "*" {
			ns, name, ok := strings.Cut(w, "/")
			if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
				errs = append(errs, fmt.Errorf("ai_workloads[%d]: %q is not namespace/workload, namespace/* or *", i, w))
			}
		}
	}
	switch c.CostSource {
	case CostSourceStated, CostSourceTable:
	default:
		errs = append(errs, fmt.Errorf("cost_source: %q is not one of stated, table", c.CostSource))
	}
	if c.Limits.MaxTokensPerRequest < 1 {
		errs = append(errs, fmt.Errorf("limits.max_tokens_per_request: must be at least 1, got %d", c.Limits.MaxTokensPerRequest))
	}
	// Costs are nano-units in int64 (internal/pricing): at most 9e9 units.
	if !(c.Limits.MaxCostPerRequest > 0) || c.Limits.MaxCostPerRequest > 1e9 {
		errs = append(errs, fmt.Errorf("limits.max_cost_per_request: must be a number above 0 and at most 1e9, got %v", c.Limits.MaxCostPerRequest))
	}
	if c.Limits.MaxHostServices < 0 {
		errs = append(errs, fmt.Errorf("limits.max_host_services: must not be negative, got %d", c.Limits.MaxHostServices))
	}
	for i, w := range c.Gateways.Workloads {
		if ns, name, ok := strings.Cut(w, "/"); !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			errs = append(errs, fmt.Errorf("gateways.workloads[%d]: %q is not namespace/name", i, w))
		}
	}
	switch c.Kubernetes.Mode {
	case KubernetesOff, KubernetesCluster:
	case KubernetesNode:
		if c.Kubernetes.NodeName == "" {
			errs = append(errs, errors.New("kubernetes.node_name: required in node mode (set it from the downward API: ${env:K8S_NODE_NAME})"))
		}
	default:
		errs = append(errs, fmt.Errorf("kubernetes.mode: %q is not one of off, node, cluster", c.Kubernetes.Mode))
	}
	if c.TrustedSources.OnlyForwarders && len(c.TrustedSources.Forwarders) == 0 {
		errs = append(errs, errors.New("trusted_sources.only_forwarders: needs trusted_sources.forwarders (every sender's data would be dropped)"))
	}
	for i, f := range c.TrustedSources.Forwarders {
		switch {
		case c.Kubernetes.Mode == KubernetesOff && f != "*":
			errs = append(errs, fmt.Errorf("trusted_sources.forwarders[%d]: %q names a namespace, which kubernetes.mode off cannot tell: use \"*\" (every sender is a forwarder) or none", i, f))
		case c.Kubernetes.Mode != KubernetesOff && f == "*":
			errs = append(errs, fmt.Errorf("trusted_sources.forwarders[%d]: \"*\" is only for kubernetes.mode off; name the agents' namespace, or every pod could state its own attribution", i))
		}
	}
	if c.Kubernetes.DeleteGracePeriod < 0 {
		errs = append(errs, fmt.Errorf("kubernetes.delete_grace_period: must be 0 or more, got %s", c.Kubernetes.DeleteGracePeriod))
	}
	return errors.Join(errs...)
}
