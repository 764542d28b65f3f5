package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPricingCheck(t *testing.T) {
	out, err := run(t, "pricing", "check", "../../config/pricing.yaml", "--model", "gpt-4o-mini-2024-07-18", "--model", "my-llama", "--at", "2026-11-01")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"gpt-4o-mini-2024-07-18 at 2026-11-01: gpt-4o-mini* (row models[0] (gpt-4o-mini*), provider openai)",
		"  input        0.150000000 USD per million tokens",
		"  cached_input 0.075000000 USD per million tokens",
		"  reasoning    0.600000000 USD per million tokens (not in the row: as output)",
		"my-llama at 2026-11-01: no row prices it (unpriced",
		"../../config/pricing.yaml: 18 rows, USD, valid",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}

	bad := filepath.Join(t.TempDir(), "pricing.yaml")
	if err := os.WriteFile(bad, []byte(`currency: USD
models:
  - {match: "gpt-4o*", input_per_million: 2.5, output_per_million: 10}
  - {match: "gpt-4o-mini*", input_per_million: 0.15, output_per_million: 0.6}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "pricing", "check", bad)
	if err == nil || !strings.Contains(out, "problem: models[1] (gpt-4o-mini*) is shadowed by models[0] (gpt-4o*)") {
		t.Errorf("shadowed row: %v\n%s", err, out)
	}
	if err := os.WriteFile(bad, []byte("currency: USD\nmodels:\n  - {match: a, input_per_million: .nan}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err = run(t, "pricing", "check", bad); err == nil || !strings.Contains(out, "models[0] (a).input_per_million") {
		t.Errorf("poisoned price: %v\n%s", err, out)
	}
	if _, err = run(t, "pricing", "check", bad, "--at", "yesterday"); err == nil {
		t.Error("a bad --at accepted")
	}
}
