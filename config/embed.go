// Package config holds the collector configurations shipped with
// otelcol-genops. The default one is compiled into the binary so that it runs
// with no flags; the others are starting points for the two deployment modes.
package config

import _ "embed"

// Default is config/default.yaml: the configuration the collector runs when
// no --config flag is given. Every listener is on loopback; each address can
// be moved with an environment variable (see the file), which is how the
// end-to-end tests run this very configuration on free ports.
//
//go:embed default.yaml
var Default string
