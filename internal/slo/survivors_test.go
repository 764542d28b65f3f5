package slo

import (
	"strings"
	"testing"
)

// The window's bounds are exact: 1h and 366d are windows, 59m and 367d
// are not.
func TestWindowBounds(t *testing.T) {
	for window, ok := range map[string]bool{"1h": true, "59m": false, "366d": true, "367d": false, "30d": true} {
		_, err := Parse(strings.NewReader("slos:\n  - {name: a, service: s, namespace: n, objective: 99, window: " + window + ", indicator: {availability: {}}}\n"))
		if (err == nil) != ok {
			t.Errorf("window %s: %v", window, err)
		}
		if err != nil && !strings.Contains(err.Error(), "outside 1h to 366d") {
			t.Errorf("window %s: %v", window, err)
		}
	}
}
