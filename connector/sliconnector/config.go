package sliconnector

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// Reporter settings: which side of a call counts.
const (
	ReporterDestination = "destination"
	ReporterSource      = "source"
	ReporterBoth        = "both"
)

// Config is the sli connector's configuration.
type Config struct {
	// SLOFile is an SLO file (config/slo.yaml); its latency thresholds are
	// added to the histogram's bucket bounds.
	SLOFile string `mapstructure:"slo_file"`

	Availability AvailabilityConfig `mapstructure:"availability"`

	// Reporter is which side's records count: destination (inbound sidecar
	// logs, SERVER spans; the default, so each request counts once),
	// source (outbound logs, CLIENT spans) or both (labelled apart).
	Reporter string `mapstructure:"reporter"`

	// Gateways says how the records of mesh gateways count.
	Gateways GatewaysConfig `mapstructure:"gateways"`

	Histogram   HistogramConfig   `mapstructure:"histogram"`
	Exemplars   ExemplarsConfig   `mapstructure:"exemplars"`
	Cardinality CardinalityConfig `mapstructure:"cardinality"`

	// Expiry drops a series not updated for this long; if it comes back it
	// starts again from zero with a new start time.
	Expiry time.Duration `mapstructure:"expiry"`
	// FlushInterval is how often the cumulative metrics are sent on.
	FlushInterval time.Duration `mapstructure:"flush_interval"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// AvailabilityConfig says which requests are bad for availability: 5xx
// always; the flags in FailureFlags; 429 when Count429; and the opt-in
// classes of Envoy response flags that are not the service's fault.
type AvailabilityConfig struct {
	// FailureFlags are Envoy response flags that make a request bad.
	FailureFlags []string `mapstructure:"failure_flags"`
	// Count429 counts 429 Too Many Requests as bad.
	Count429 bool `mapstructure:"count_429"`
	// ClientSide adds DC, DPE, IH, SI (the client hung up or misbehaved).
	ClientSide bool `mapstructure:"client_side"`
	// Policy adds RL, UAEX (rate limited, denied by external auth).
	Policy bool `mapstructure:"policy"`
	// InjectedFaults adds FI, DI (fault injection).
	InjectedFaults bool `mapstructure:"injected_faults"`
}

// Values of GatewaysConfig.Count.
const (
	GatewaySkip        = "skip"
	GatewayDestination = "destination"
)

// GatewaysConfig says how the records of mesh gateways (ingress,
// east-west, egress: the governance processor's gateways.workloads, which
// mark them genops.side=gateway) count. A gateway logs every request it
// forwards as outbound; the destination's own sidecar logs the same
// request, so by default gateway records count only as the controls that
// acted on them ("skip"). For services without a sidecar behind a
// gateway, "destination" counts the gateway's records as the
// destination's.
type GatewaysConfig struct {
	// Count is skip or destination.
	Count string `mapstructure:"count"`
}

// HistogramConfig configures genops_request_duration_seconds.
type HistogramConfig struct {
	// Buckets are the explicit bucket bounds; the SLO file's thresholds
	// are added to them.
	Buckets []time.Duration `mapstructure:"buckets"`
	// Exponential adds an exponential (Prometheus native) histogram of the
	// same durations, genops.request.duration.exponential.
	Exponential ExponentialConfig `mapstructure:"exponential"`
}

// ExponentialConfig configures the exponential histogram. Its scale is
// fixed (no rescaling), so each bucket's bounds grow by 2^(2^-scale), and
// durations are clamped to 1µs..1h, which bounds the buckets per series
// (at scale 3: 8 per doubling, at most 256).
type ExponentialConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// Scale is 0 to 5 (default 3: about 9% between bounds).
	Scale int32 `mapstructure:"scale"`
}

// ExemplarsConfig attaches the trace id of a recent request to each
// counter and histogram point.
type ExemplarsConfig struct {
	Enabled bool `mapstructure:"enabled"`
}

// CardinalityConfig bounds the series of each metric.
type CardinalityConfig struct {
	// MaxSeries is the most series one metric keeps; what comes after is
	// folded into one series whose every label is __overflow__.
	MaxSeries int `mapstructure:"max_series"`
	// MaxSeriesPerNamespace is the most series one metric keeps for one
	// namespace; what comes after is folded into that namespace's own
	// overflow series (namespace kept, every other label __overflow__).
	// 0: no limit but max_series.
	MaxSeriesPerNamespace int `mapstructure:"max_series_per_namespace"`
	// Labels caps the distinct values of a label per metric and
	// namespace (a cap on namespace itself counts across all); values
	// past the cap become __overflow__.
	Labels map[string]int `mapstructure:"labels"`
	// MaxValueLength is the longest label value (in bytes) a series keeps;
	// a longer one (a hostile Host header, say) becomes __overflow__.
	// 0: no limit.
	MaxValueLength int `mapstructure:"max_value_length"`
}

var (
	clientSideFlags     = []string{"DC", "DPE", "IH", "SI"}
	policyFlags         = []string{"RL", "UAEX"}
	injectedFaultsFlags = []string{"FI", "DI"}
)

// cappableLabels are the labels a cap may name: every label of the contract.
var cappableLabels = []string{
	semconv.LabelNamespace, semconv.LabelApp, semconv.LabelVersion, semconv.LabelService, semconv.LabelRoute,
	semconv.LabelGenOpsTeam, semconv.LabelGenOpsProject, semconv.LabelGenOpsCustomerID, semconv.LabelGenOpsCostCenter,
	semconv.LabelGenOpsTier, semconv.LabelCluster, semconv.LabelProvider, semconv.LabelModel, semconv.LabelPolicyName,
}

// Validate checks the configuration, naming the field at fault.
func (c *Config) Validate() error {
	var errs []error
	switch c.Reporter {
	case ReporterDestination, ReporterSource, ReporterBoth:
	default:
		errs = append(errs, fmt.Errorf("reporter: %q is not one of destination, source, both", c.Reporter))
	}
	switch c.Gateways.Count {
	case GatewaySkip, GatewayDestination:
	default:
		errs = append(errs, fmt.Errorf("gateways.count: %q is not one of skip, destination", c.Gateways.Count))
	}
	for _, f := range c.Availability.FailureFlags {
		if !slices.Contains(semconv.ResponseFlags, f) {
			errs = append(errs, fmt.Errorf("availability.failure_flags: %q is not an Envoy response flag", f))
		}
	}
	if e := c.Histogram.Exponential; e.Scale < 0 || e.Scale > 5 {
		errs = append(errs, fmt.Errorf("histogram.exponential.scale: %d is outside 0 to 5", e.Scale))
	}
	for i, b := range c.Histogram.Buckets {
		if b <= 0 {
			errs = append(errs, fmt.Errorf("histogram.buckets[%d]: %s must be positive", i, b))
		}
	}
	if c.Cardinality.MaxSeries < 1 {
		errs = append(errs, fmt.Errorf("cardinality.max_series: must be at least 1, got %d", c.Cardinality.MaxSeries))
	}
	if c.Cardinality.MaxSeriesPerNamespace < 0 {
		errs = append(errs, fmt.Errorf("cardinality.max_series_per_namespace: must not be negative, got %d", c.Cardinality.MaxSeriesPerNamespace))
	}
	if c.Cardinality.MaxValueLength < 0 {
		errs = append(errs, fmt.Errorf("cardinality.max_value_length: must not be negative, got %d", c.Cardinality.MaxValueLength))
	}
	for l, n := range c.Cardinality.Labels {
		if !slices.Contains(cappableLabels, l) {
			errs = append(errs, fmt.Errorf("cardinality.labels: %q is not a label of the metric contract", l))
		}
		if n < 1 {
			errs = append(errs, fmt.Errorf("cardinality.labels.%s: must be at least 1, got %d", l, n))
		}
	}
	if c.Expiry < 0 {
		errs = append(errs, fmt.Errorf("expiry: must not be negative, got %s", c.Expiry))
	}
	if c.FlushInterval <= 0 {
		errs = append(errs, fmt.Errorf("flush_interval: must be positive, got %s", c.FlushInterval))
	}
	return errors.Join(errs...)
}

// failureSet is the set of flags that make a request bad.
func (a AvailabilityConfig) failureSet() map[string]bool {
	set := map[string]bool{}
	for _, f := range a.FailureFlags {
		set[f] = true
	}
	add := func(on bool, flags []string) {
		if on {
			for _, f := range flags {
				set[f] = true
			}
		}
	}
	add(a.ClientSide, clientSideFlags)
	add(a.Policy, policyFlags)
	add(a.InjectedFaults, injectedFaultsFlags)
	return set
}
