package meshaccesslogreceiver

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/genops-mesh/otelcol-genops/receiver/meshaccesslogreceiver/internal/metadata"
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
	if def.Format != "istio" || def.StartAt != "end" || def.OnError != OnErrorDrop || def.Unwrap != UnwrapAuto ||
		def.PollInterval != 200*time.Millisecond || def.ALS.HasValue() || def.Storage != nil {
		t.Errorf("defaults: %+v", def)
	}

	full := loadConfig(t, "full")
	if err := confmap.Validate(full); err != nil {
		t.Fatal(err)
	}
	if got := full.Include; len(got) != 1 || got[0] != "/var/log/pods/*/istio-proxy/*.log" {
		t.Errorf("include %v", got)
	}
	if got := full.Exclude; len(got) != 1 || got[0] != "/var/log/pods/kube-system_*/*/*.log" {
		t.Errorf("exclude %v", got)
	}
	if full.StartAt != "beginning" || full.PollInterval != 500*time.Millisecond || full.MaxConcurrentFiles != 64 ||
		full.MaxLogSize != 64*1024 || full.FingerprintSize != 2*1024 || full.Unwrap != UnwrapCRI ||
		full.OnError != OnErrorPassthrough || !strings.HasSuffix(full.Format, `"%REQ(X-GENOPS-TEAM)%"`) {
		t.Errorf("full: %+v", full)
	}
	if full.Storage == nil || full.Storage.String() != "file_storage" {
		t.Errorf("storage %v", full.Storage)
	}
	if !full.ALS.HasValue() || full.ALS.Get().NetAddr.Endpoint != "127.0.0.1:9001" {
		t.Errorf("als %+v", full.ALS)
	}

	js := loadConfig(t, "json")
	if err := confmap.Validate(js); err != nil {
		t.Fatal(err)
	}
	if js.Encoding != "json" || js.JSONKeys["genops_team"] != "%REQ(X-GENOPS-TEAM)%" || len(js.Include) != 0 {
		t.Errorf("json: %+v", js)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"no_input", []string{"include: at least one file glob is required unless als is set"}},
		{"bad_format", []string{"format: position 15: unterminated command operator"}},
		{"bad_enums", []string{`start_at: "middle"`, `on_error: "ignore"`, `unwrap: "podman"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := confmap.Validate(loadConfig(t, tc.name))
			if err == nil {
				t.Fatal("validated")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// `als:` with nothing under it serves on the default endpoint over TCP.
func TestALSDefaults(t *testing.T) {
	cfg := loadConfig(t, "als_defaults")
	if err := confmap.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	if !cfg.ALS.HasValue() || cfg.ALS.Get().NetAddr.Endpoint != defaultALSEndpoint || cfg.ALS.Get().NetAddr.Transport != "tcp" {
		t.Fatalf("als: %+v", cfg.ALS.Get())
	}
}
