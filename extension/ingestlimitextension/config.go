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
	// HTTP bodies are read in full before a request takes a decoding
	// slot, so that a slow sender holds no slot while it trickles bytes.
	// MaxConcurrentReads bounds the bodies being read (and so the raw
	// bytes buffered: reads × max_request_body_size), MaxReadsPerClient
	// how many of them one client address may hold, and MaxReadTime how
	// long one body may take to arrive.
	MaxConcurrentReads int           `mapstructure:"max_concurrent_reads"`
	MaxReadsPerClient  int           `mapstructure:"max_reads_per_client"`
	MaxReadTime        time.Duration `mapstructure:"max_read_time"`
}

func (c *Config) Validate() error {
	var errs []error
	if c.MaxConcurrentRequests < 1 {
		errs = append(errs, errors.New("max_concurrent_requests must be at least 1"))
	}
	if c.MaxWait < 0 {
		errs = append(errs, errors.New("max_wait must not be negative"))
	}
	if c.MaxConcurrentReads < 1 {
		errs = append(errs, errors.New("max_concurrent_reads must be at least 1"))
	}
	if c.MaxReadsPerClient < 1 || c.MaxReadsPerClient > c.MaxConcurrentReads {
		errs = append(errs, errors.New("max_reads_per_client must be from 1 to max_concurrent_reads"))
	}
	if c.MaxReadTime <= 0 {
		errs = append(errs, errors.New("max_read_time must be positive"))
	}
	return errors.Join(errs...)
}
