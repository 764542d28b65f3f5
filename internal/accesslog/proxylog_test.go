package accesslog

import "testing"

func TestProxyLog(t *testing.T) {
	for line, want := range map[string]bool{
		"2024-04-12T10:17:44.123456Z\tinfo\tEnvoy proxy is ready":                                        true,
		"2024-04-12T10:17:44Z\twarning\tenvoy config\tgRPC config stream closed":                         true,
		"[2024-04-12 10:17:44.123][12][warning][config] [source/common/config/grpc_stream.h:191] closed": true,
		"[     0.002740s]  INFO ThreadId(01) linkerd2_proxy: release 2.14.1":                             true,
		"INFO ThreadId(01) linkerd2_proxy: release 2.14.1":                                               true,
		`[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 3 1 "-"`:   false,
		`{"response_code": "two hundred"`:                                                                false,
		"garbage":                                                                                        false,
	} {
		if got := ProxyLog(line); got != want {
			t.Errorf("ProxyLog(%q) = %v, want %v", line, got, want)
		}
	}
}
