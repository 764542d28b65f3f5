package requestlogconnector

// Config is the request_log connector's configuration: it has none. Which
// spans are requests, and every attribute the record carries, the
// governance processor decided before it.
type Config struct {
	// prevent unkeyed literal initialization
	_ struct{}
}
