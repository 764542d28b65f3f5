package accesslog

import "regexp"

// ReasonProxyLog is the reason of a line that is no access log but the
// proxy's own diagnostic output, which the same container writes to the
// same stream (Envoy's and pilot-agent's log in istio-proxy, linkerd2-proxy's
// in linkerd-proxy): counted, never a record, and not a sign of a wrong
// format.
const ReasonProxyLog = "proxy_log"

// proxyLogLine matches the proxies' own log lines:
//   - Istio's proxy and pilot-agent: 2024-04-12T10:17:44.123456Z<TAB>info<TAB>…
//   - Envoy's default: [2024-04-12 10:17:44.123][12][warning][config] …
//   - linkerd2-proxy: [     0.002740s]  INFO ThreadId(01) linkerd2_proxy: …
var proxyLogLine = regexp.MustCompile(`^(?:` +
	`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\t(?:trace|debug|info|warn|warning|error|critical)\t` +
	`|\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\]\[\d+\]\[(?:trace|debug|info|warning|error|critical)\]` +
	`|(?:\[\s*\d+\.\d+s\]\s+)?(?:TRACE|DEBUG|INFO|WARN|ERROR) ThreadId\(` +
	`)`)

// ProxyLog tells whether a line that did not parse is the proxy's own
// log output rather than an access log line of another format.
func ProxyLog(line string) bool { return proxyLogLine.MatchString(line) }
