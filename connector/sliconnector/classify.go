package sliconnector

import (
	"strings"

	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// codeClasses are the response_code_class values, by the status's first
// digit; "0xx" is for no status (a TCP connection, a reset before any
// response).
var codeClasses = [...]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

func codeClassIndex(status int64) int {
	if status < 100 || status > 599 {
		return 0
	}
	return int(status / 100)
}

// classifier decides availability from a status and Envoy response flags.
type classifier struct {
	failureFlags map[string]bool
	count429     bool
}

// bad reports whether a request is bad for availability: a 5xx, a 429
// when configured, or a response flag of the failure set. flags is
// %RESPONSE_FLAGS% ("UF,URX", "-" or "" for none).
func (c *classifier) bad(status int64, flags string) bool {
	if status >= 500 && status <= 599 {
		return true
	}
	if status == 429 && c.count429 {
		return true
	}
	for flags != "" && flags != "-" {
		var f string
		f, flags, _ = strings.Cut(flags, ",")
		if c.failureFlags[f] {
			return true
		}
	}
	return false
}

// policyOf is the mesh control that acted on a request, from its Envoy
// response flags and response code details, or "" (a 429 or a 403 alone
// may be the upstream's own answer, which no mesh control gave): at most one per
// request, the first of denied, rate_limited, fault_injected,
// circuit_open, timeout, retry_exhausted that applies (a denied or rate
// limited request never reached the upstream, so its other flags are
// consequences). name is the RBAC policy Envoy names in
// rbac_access_denied_matched_policy[NAME] ("" for none).
func policyOf(flags, details string) (policy, name string) {
	var rl, uaex, fault, uo, ut, urx bool
	for flags != "" && flags != "-" {
		var f string
		f, flags, _ = strings.Cut(flags, ",")
		switch f {
		case "RL":
			rl = true
		case "UAEX":
			uaex = true
		case "FI", "DI":
			fault = true
		case "UO":
			uo = true
		case "UT":
			ut = true
		case "URX":
			urx = true
		}
	}
	if details != "" && details != "via_upstream" {
		switch {
		case strings.HasPrefix(details, rbacDenied):
			name = strings.TrimSuffix(strings.TrimPrefix(details, rbacDenied), "]")
			if name == "none" {
				name = ""
			}
			return semconv.PolicyDenied, name
		case strings.HasPrefix(details, "rbac_access_denied"), strings.HasPrefix(details, "ext_authz_denied"):
			return semconv.PolicyDenied, ""
		case details == "local_rate_limited" || details == "request_rate_limited":
			rl = true
		case details == "fault_filter_abort" || details == "fault_filter_delay":
			fault = true
		}
	}
	switch {
	case uaex:
		return semconv.PolicyDenied, ""
	case rl:
		return semconv.PolicyRateLimited, ""
	case fault:
		return semconv.PolicyFaultInjected, ""
	case uo:
		return semconv.PolicyCircuitOpen, ""
	case ut:
		return semconv.PolicyTimeout, ""
	case urx:
		return semconv.PolicyRetryExhausted, ""
	}
	return "", ""
}

const rbacDenied = "rbac_access_denied_matched_policy["
