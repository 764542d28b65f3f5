// Package accesslog turns Envoy and Linkerd access log lines into
// structured records: it compiles an Envoy format string (the same string
// given to Istio's meshConfig.accessLogFormat or Envoy's text_format) into a
// parser, parses JSON access logs through a key map, and writes what it
// parsed as OpenTelemetry log record attributes.
//
// It is shared by the mesh_access_log receiver (files, gRPC ALS) and the
// governance processor (records from Envoy's OpenTelemetry access logger
// arrive through the otlp receiver with the line as their body), which meet
// only through the pipeline and so cannot import each other.
//
// Why by hand: no library compiles Envoy format strings. Envoy's own
// formatter is C++ and only formats; the contrib filelog receiver needs a
// regular expression per format, which is slow (see BENCHMARKS.md) and
// must be rewritten whenever the format changes. Here the literal text
// between command operators becomes the delimiters, found with bytes.Index,
// and a parse records only value offsets into the line: no allocation.
package accesslog
