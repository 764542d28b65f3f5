package costledgerexporter

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	ledgerdb "github.com/genops-mesh/otelcol-genops/internal/ledger"
)

// Reporter sides, as the sli connector's reporter option names them.
const (
	ReporterDestination = "destination"
	ReporterSource      = "source"
	ReporterBoth        = "both"
)

// Config of the cost_ledger exporter.
type Config struct {
	// DSN is postgres://user:pass@host:port/db?… (or postgresql://) or
	// sqlite:PATH.
	DSN string `mapstructure:"dsn"`
	// Reporter is the side whose records become rows, as the sli
	// connector counts them: destination (inbound access logs, SERVER
	// spans), source (outbound, CLIENT spans) or both (each side bills:
	// two rows per call seen by both).
	Reporter string `mapstructure:"reporter"`

	TimeoutConfig exporterhelper.TimeoutConfig                             `mapstructure:",squash"`
	QueueConfig   configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	BackOffConfig configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`

	// prevent unkeyed literal initialization
	_ struct{}
}

func (c *Config) Validate() error {
	var errs []error
	if _, _, err := ledgerdb.Parse(c.DSN); err != nil {
		errs = append(errs, err)
	}
	switch c.Reporter {
	case ReporterDestination, ReporterSource, ReporterBoth:
	default:
		errs = append(errs, fmt.Errorf("reporter: %q is not one of destination, source, both", c.Reporter))
	}
	return errors.Join(errs...)
}
