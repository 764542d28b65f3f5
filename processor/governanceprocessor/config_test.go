package governanceprocessor

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/genops-mesh/otelcol-genops/processor/governanceprocessor/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	if err != nil {
		t.Fatal(err)
	}
	cfg := createDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestLoadConfig(t *testing.T) {
	def := loadConfig(t, "")
	if err := confmap.Validate(def); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(def.Sources, []string{"namespace_label", "pod_label", "header", "span_tag", "default"}) ||
		def.Headers[DimTeam] != "x-genops-team" || def.Labels[DimTeam] != "genops.ai/team" ||
		def.Dimensions[DimTeam].Trust != TrustWhenSourceMatches || def.Dimensions[DimCustomerID].Trust != TrustWhenSourceMatches ||
		len(def.AIWorkloads) != 0 || def.Limits.MaxTokensPerRequest != 10_000_000 || def.Limits.MaxCostPerRequest != 1000 || def.Dimensions[DimTeam].MaxLength != 128 || def.Dimensions[DimTeam].Default != "unknown" ||
		len(def.Dimensions[DimEnvironment].Allow) != 5 || def.Kubernetes.Mode != KubernetesOff || def.Limits.MaxHostServices != 100 ||
		!slices.Equal(def.Gateways.Workloads, []string{"istio-system/istio-ingressgateway", "istio-system/istio-eastwestgateway", "istio-system/istio-egressgateway"}) {
		t.Errorf("defaults: %+v", def)
	}
	full := loadConfig(t, "full")
	if err := confmap.Validate(full); err != nil {
		t.Fatal(err)
	}
	c := full.Dimensions[DimCustomerID]
	if !slices.Equal(full.Sources, []string{"pod_label", "header", "default"}) || full.Headers[DimTeam] != "X-Team" ||
		full.Labels[DimTeam] != "example.com/team" || c.Trust != TrustWhenSourceMatches || c.Pattern != "^c-[0-9]+$" ||
		c.MaxLength != 32 || !c.Hash || c.Default != "anonymous" || string(full.HashKey) != "s3cret" ||
		len(full.TrustedSources.Principals) != 2 || full.TrustedSources.Namespaces[0] != "api-gateway" ||
		!slices.Equal(full.TrustedSources.Forwarders, []string{"otelcol-genops"}) ||
		!slices.Equal(full.AIWorkloads, []string{"ai/llm-gateway", "models/*"}) ||
		full.Limits.MaxTokensPerRequest != 2_000_000 || full.Limits.MaxCostPerRequest != 50 || full.Limits.MaxHostServices != 20 ||
		!slices.Equal(full.Gateways.Workloads, []string{"edge/edge-gateway"}) ||
		full.Kubernetes.Mode != KubernetesNode || full.Kubernetes.NodeName != "node-1" || full.Kubernetes.SyncTimeout != 30*time.Second || full.Kubernetes.DeleteGracePeriod != 90*time.Second ||
		full.PricingFile != "../../config/pricing.yaml" || full.Cluster != "prod-eu" || full.AccessLogFormat != "istio_json" {
		t.Errorf("full: %+v", full)
	}
}

// Setting one field of a dimension keeps the others' defaults.
func TestPartialDimensionKeepsDefaults(t *testing.T) {
	cfg := loadConfig(t, "partial")
	if err := confmap.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	def := createDefaultConfig().(*Config).Dimensions[DimTeam]
	team := cfg.Dimensions[DimTeam]
	if team.Trust != TrustNever || team.MaxLength != def.MaxLength || team.Pattern != def.Pattern || team.Default != def.Default {
		t.Errorf("team: %+v", team)
	}
	if len(cfg.Dimensions) != len(createDefaultConfig().(*Config).Dimensions) || len(cfg.Dimensions[DimEnvironment].Allow) != 5 {
		t.Errorf("other dimensions lost: %+v", cfg.Dimensions)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "bad"))
	if err == nil {
		t.Fatal("validated")
	}
	for _, want := range []string{
		`sources[1]: "magic"`, `sources[2]: "header" appears twice`, `dimensions.team.trust: "sometimes"`,
		"dimensions.team.pattern", "dimensions.team.max_length", "dimensions.team.hash: needs hash_key",
		`dimensions: "colour"`, `headers: "colour"`, "kubernetes.node_name: required in node mode", "kubernetes.delete_grace_period: must be 0 or more, got -1s", "access_log_format: position 1: unterminated",
		`ai_workloads[0]: "llm-gateway" is not namespace/workload`, `ai_workloads[1]: "ai/"`,
		"limits.max_tokens_per_request: must be at least 1, got -1", "limits.max_cost_per_request: must be a number above 0 and at most 1e9, got +Inf",
		"limits.max_host_services: must not be negative, got -1", `gateways.workloads[0]: "" is not namespace/name`, `gateways.workloads[1]: "istio-ingressgateway" is not namespace/name`,
		`gateways.workloads[2]: "a/b/c" is not namespace/name`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q not in %v", want, err)
		}
	}
}
