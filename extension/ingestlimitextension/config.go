package ingestlimitextension

import (
	"errors"
	"time"
)

// Config of the ingest_limit extension.
type Config struct {
	// MaxConcurrentRequests is how many requests (HTTP or unary gRPC), or
	// stream messages, every listener that names this extension in its
	// `middlewares` may decode and process at once, together.
	MaxConcurrentRequests int `mapstructure:"max_concurrent_requests"`
	// MaxWait is how long a request waits for a free slot before it is
	// refused (HTTP 503 with Retry-After, gRPC RESOURCE_EXHAUSTED). Stream
	// messages are never refused: the stream waits, which pushes back on
	// the sender through gRPC flow control.
	MaxWait time.Duration `mapstructure:"max_wait"`
}

func (c *Config) Validate() error {
	var errs []error
	if c.MaxConcurrentRequests < 1 {
		errs = append(errs, errors.New("max_concurrent_requests must be at least 1"))
	}
	if c.MaxWait < 0 {
		errs = append(errs, errors.New("max_wait must not be negative"))
	}
	return errors.Join(errs...)
}
