package meshaccesslogreceiver

import (
	"errors"
	"fmt"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/fileconsumer/matcher"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator/helper"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/configoptional"

	"github.com/genops-mesh/otelcol-genops/internal/accesslog"
)

// Values of Config.OnError.
const (
	OnErrorDrop        = "drop"
	OnErrorPassthrough = "passthrough"
)

// Values of Config.Unwrap.
const (
	UnwrapAuto   = "auto"
	UnwrapCRI    = "cri"
	UnwrapDocker = "docker"
	UnwrapNone   = "none"
)

// Config is the mesh_access_log receiver's configuration.
type Config struct {
	// include, exclude, exclude_older_than, ordering_criteria: which files
	// to tail, as in the file_log receiver.
	matcher.Criteria `mapstructure:",squash"`
	// StartAt is where to start reading a file seen for the first time
	// (with no checkpoint): "beginning" or "end".
	StartAt string `mapstructure:"start_at"`
	// PollInterval is how often files are checked for new lines.
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// MaxConcurrentFiles bounds the files read at once.
	MaxConcurrentFiles int `mapstructure:"max_concurrent_files"`
	// MaxLogSize is the longest line read; longer ones are cut and counted.
	MaxLogSize helper.ByteSize `mapstructure:"max_log_size"`
	// FingerprintSize is how many leading bytes identify a file across
	// rotations.
	FingerprintSize helper.ByteSize `mapstructure:"fingerprint_size"`
	// Unwrap is the kubelet's wrapping of each line: auto (detect CRI or
	// docker JSON per file), cri, docker or none.
	Unwrap string `mapstructure:"unwrap"`

	// Format is a preset name (istio, istio_json, envoy, osm_json,
	// linkerd_json, linkerd_apache) or an Envoy format string.
	Format string `mapstructure:"format"`
	// Encoding is text or json; empty takes the preset's.
	Encoding string `mapstructure:"encoding"`
	// JSONKeys maps JSON keys to operators or attribute names; it extends
	// or overrides a JSON preset.
	JSONKeys map[string]string `mapstructure:"json_keys"`

	// Storage is the id of a storage extension (file_storage) that keeps
	// file offsets across restarts.
	Storage *component.ID `mapstructure:"storage"`

	// ALS serves Envoy's gRPC access log service when set.
	ALS configoptional.Optional[configgrpc.ServerConfig] `mapstructure:"als"`

	// OnError is what happens to a line that does not parse: drop it, or
	// pass it through with the line as body and envoy.parse_error set.
	OnError string `mapstructure:"on_error"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Validate checks the configuration, naming the field at fault.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Include) == 0 && !c.ALS.HasValue() {
		errs = append(errs, errors.New("include: at least one file glob is required unless als is set"))
	}
	switch c.StartAt {
	case "beginning", "end":
	default:
		errs = append(errs, fmt.Errorf("start_at: %q is not one of beginning, end", c.StartAt))
	}
	switch c.OnError {
	case OnErrorDrop, OnErrorPassthrough:
	default:
		errs = append(errs, fmt.Errorf("on_error: %q is not one of %s, %s", c.OnError, OnErrorDrop, OnErrorPassthrough))
	}
	switch c.Unwrap {
	case UnwrapAuto, UnwrapCRI, UnwrapDocker, UnwrapNone:
	default:
		errs = append(errs, fmt.Errorf("unwrap: %q is not one of auto, cri, docker, none", c.Unwrap))
	}
	if c.PollInterval <= 0 {
		errs = append(errs, fmt.Errorf("poll_interval: must be positive, got %s", c.PollInterval))
	}
	if c.MaxConcurrentFiles < 1 {
		errs = append(errs, fmt.Errorf("max_concurrent_files: must be at least 1, got %d", c.MaxConcurrentFiles))
	}
	if c.MaxLogSize <= 0 {
		errs = append(errs, fmt.Errorf("max_log_size: must be positive, got %d", c.MaxLogSize))
	}
	if _, err := c.parser(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// parser compiles the configured format; errors name the field.
func (c *Config) parser() (accesslog.Parser, error) {
	p, err := accesslog.New(c.Format, c.Encoding, c.JSONKeys)
	if err != nil {
		field := "format"
		if c.Encoding == accesslog.EncodingJSON || accesslog.PresetEncoding(c.Format) == accesslog.EncodingJSON {
			field = "format/json_keys"
		}
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return p, nil
}
