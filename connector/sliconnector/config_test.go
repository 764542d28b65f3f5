package sliconnector

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/genops-mesh/otelcol-genops/connector/sliconnector/internal/metadata"
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
	if def.Reporter != ReporterDestination || !def.Exemplars.Enabled || def.Cardinality.MaxSeries != 10_000 || def.Cardinality.MaxValueLength != 256 ||
		def.Cardinality.Labels["genops_customer_id"] != 1_000 || def.Expiry != 5*time.Minute || def.FlushInterval != 15*time.Second ||
		len(def.Availability.FailureFlags) != 18 || def.Availability.Count429 || len(def.Histogram.Buckets) != 13 ||
		def.Gateways.Count != GatewaySkip {
		t.Errorf("defaults: %+v", def)
	}
	full := loadConfig(t, "full")
	if err := confmap.Validate(full); err != nil {
		t.Fatal(err)
	}
	if full.SLOFile != "../../config/slo.yaml" || !slices.Equal(full.Availability.FailureFlags, []string{"UF", "UH"}) ||
		!full.Availability.Count429 || !full.Availability.ClientSide || !full.Availability.Policy || !full.Availability.InjectedFaults ||
		full.Reporter != ReporterBoth || !slices.Equal(full.Histogram.Buckets, []time.Duration{100 * time.Millisecond, time.Second}) ||
		full.Exemplars.Enabled || full.Cardinality.MaxSeries != 500 || full.Cardinality.MaxValueLength != 64 || full.Cardinality.Labels["genops_customer_id"] != 50 ||
		full.Cardinality.Labels["route"] != 20 || full.Expiry != 10*time.Minute || full.FlushInterval != 30*time.Second ||
		full.Gateways.Count != GatewayDestination ||
		!full.Histogram.Exponential.Enabled || full.Histogram.Exponential.Scale != 2 {
		t.Errorf("full: %+v", full)
	}
	set := full.Availability.failureSet()
	for _, f := range []string{"UF", "UH", "DC", "DPE", "IH", "SI", "RL", "UAEX", "FI", "DI"} {
		if !set[f] {
			t.Errorf("failure set lacks %s", f)
		}
	}
}

func TestValidateNamesTheField(t *testing.T) {
	err := confmap.Validate(loadConfig(t, "bad"))
	if err == nil {
		t.Fatal("validated")
	}
	for _, want := range []string{
		`reporter: "client"`, `availability.failure_flags: "XX"`, "histogram.buckets[0]", "cardinality.max_series", "cardinality.max_value_length",
		`cardinality.labels: "pod"`, "flush_interval", `gateways.count: "sometimes"`, "histogram.exponential.scale: 9",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q not in %v", want, err)
		}
	}
}

// Which workloads are gateways and how many Host-header services there
// may be are decided by the governance processor, the one owner of
// request identity: the keys that said so here are refused, by name.
func TestIdentityKeysMoved(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, "moved").String())
	if err != nil {
		t.Fatal(err)
	}
	err = sub.Unmarshal(createDefaultConfig().(*Config))
	for _, key := range []string{"workloads", "max_host_services"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v", key, err)
		}
	}
}
