package e2e

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/genops-mesh/otelcol-genops/test/collectortest"
)

// ociDescriptor, ociIndex, ociManifest and ociConfig are the parts of an
// OCI image layout this test reads (image-spec v1), decoded by hand: the
// test checks what `make image` writes, not what a library thinks of it.
type ociDescriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Platform  *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
	} `json:"platform"`
}

type ociIndex struct {
	MediaType string          `json:"mediaType"`
	Manifests []ociDescriptor `json:"manifests"`
}

type ociManifest struct {
	Config ociDescriptor   `json:"config"`
	Layers []ociDescriptor `json:"layers"`
}

type ociConfig struct {
	Created      string `json:"created"`
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Config       struct {
		User       string            `json:"User"`
		Entrypoint []string          `json:"Entrypoint"`
		Labels     map[string]string `json:"Labels"`
	} `json:"config"`
}

// The image `make image` assembles (build/image) from the built binary:
// an OCI layout with one linux image per architecture under an index; the
// entrypoint is the collector, the user the non-root 10001 the chart runs
// as, the OCI labels are set, the CA bundle is there, and the binary in
// its layer runs. Assembling the same binary twice gives the same digest.
func TestImage(t *testing.T) {
	bin := collectortest.Binary(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	assemble := func(out string) string {
		t.Helper()
		cmd := exec.Command("go", "run", ".", "-out", out, "-version", "test", "-revision", "abc", runtime.GOARCH+"="+bin)
		cmd.Dir = filepath.Join(root, "build", "image")
		cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1764547200")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("build/image: %v\n%s", err, b)
		}
		fields := strings.Fields(string(b))
		return fields[len(fields)-1]
	}
	dir := t.TempDir()
	a, b := assemble(filepath.Join(dir, "a")), assemble(filepath.Join(dir, "b"))
	if a != b || !strings.HasPrefix(a, "sha256:") {
		t.Errorf("the same binary gave the digests %s and %s", a, b)
	}
	layoutDir := filepath.Join(dir, "a")
	blob := func(digest string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(layoutDir, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:")))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	var top ociIndex
	data, err := os.ReadFile(filepath.Join(layoutDir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	// index.json is the image index: one image per architecture.
	if err := json.Unmarshal(data, &top); err != nil || len(top.Manifests) != 1 {
		t.Fatalf("index.json: %v %s", err, data)
	}
	if p := top.Manifests[0].Platform; p == nil || p.OS != "linux" || p.Architecture != runtime.GOARCH {
		t.Errorf("platform %+v", p)
	}
	var m ociManifest
	if err := json.Unmarshal(blob(top.Manifests[0].Digest), &m); err != nil || len(m.Layers) != 2 {
		t.Fatalf("manifest: %v, %d layers", err, len(m.Layers))
	}
	var cfg ociConfig
	if err := json.Unmarshal(blob(m.Config.Digest), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH || cfg.Config.User != "10001:10001" ||
		strings.Join(cfg.Config.Entrypoint, " ") != "/otelcol-genops" || cfg.Created != "2025-12-01T00:00:00Z" ||
		cfg.Config.Labels["org.opencontainers.image.version"] != "test" || cfg.Config.Labels["org.opencontainers.image.revision"] != "abc" ||
		cfg.Config.Labels["org.opencontainers.image.source"] == "" {
		t.Errorf("config %+v", cfg)
	}
	files := map[string][]byte{}
	for _, l := range m.Layers {
		zr, err := gzip.NewReader(strings.NewReader(string(blob(l.Digest))))
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Uid != 0 || h.Gid != 0 || h.ModTime.Unix() != 1764547200 {
				t.Errorf("%s: owner %d:%d, time %v", h.Name, h.Uid, h.Gid, h.ModTime)
			}
			body, _ := io.ReadAll(tr)
			files[h.Name] = body
		}
	}
	if !strings.Contains(string(files["etc/passwd"]), ":10001:10001:") || len(files["etc/ssl/certs/ca-certificates.crt"]) < 1000 {
		t.Errorf("passwd %q, CA bundle of %d bytes", files["etc/passwd"], len(files["etc/ssl/certs/ca-certificates.crt"]))
	}
	exe := filepath.Join(dir, "otelcol-genops")
	if err := os.WriteFile(exe, files["otelcol-genops"], 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "otelcol-genops") {
		t.Errorf("the image's binary --version: %v %s", err, out)
	}
}
