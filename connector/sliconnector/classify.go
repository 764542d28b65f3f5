package sliconnector

import "strings"

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
