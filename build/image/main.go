// Command image assembles the OCI image of the distribution from binaries
// built before it (make image cross-compiles them), with no Docker daemon
// and no base image to pull: an empty base, the CA certificates of the
// build machine, an /etc/passwd naming the non-root user the chart runs
// as (10001), and the collector. Every file and the image's creation time
// take the commit's time (SOURCE_DATE_EPOCH), so the same binaries give
// the same digest. The result is an OCI image layout (a directory) holding
// one image per architecture under one index, which `crane push --index`
// or `skopeo copy --all oci:DIR docker://…` pushes to a registry.
//
// By hand, not ko: ko builds the Go binary itself and needs a base image
// reference; the distribution is built by the Makefile, and nothing can be
// pulled here. go-containerregistry's empty image, tarball layers, mutate
// and layout packages do the rest.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// user is the non-root user and group the image runs as (the chart's
// podSecurityContext runs it as the same).
const user = 10001

func main() {
	out := flag.String("out", "bin/image", "OCI image layout directory to write (replaced)")
	version := flag.String("version", "dev", "the image's version label")
	revision := flag.String("revision", "", "the commit the image is built from")
	certs := flag.String("ca-certificates", "/etc/ssl/certs/ca-certificates.crt", "CA bundle to include")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: image [flags] ARCH=BINARY ... (e.g. amd64=bin/linux-amd64/otelcol-genops)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	created := time.Unix(0, 0).UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			log.Fatalf("SOURCE_DATE_EPOCH %q: %v", s, err)
		}
		created = time.Unix(sec, 0).UTC()
	}
	ca, err := os.ReadFile(*certs)
	if err != nil {
		log.Fatalf("CA certificates: %v (Debian: ca-certificates)", err)
	}
	base, err := layer(created, []file{
		{name: "etc/", dir: true},
		{name: "etc/ssl/", dir: true},
		{name: "etc/ssl/certs/", dir: true},
		{name: "etc/ssl/certs/ca-certificates.crt", data: ca, mode: 0o644},
		{name: "etc/passwd", data: fmt.Appendf(nil, "root:x:0:0:root:/:/sbin/nologin\notelcol:x:%d:%d:otelcol-genops:/:/sbin/nologin\n", user, user), mode: 0o644},
		{name: "etc/group", data: fmt.Appendf(nil, "root:x:0:\notelcol:x:%d:\n", user), mode: 0o644},
		{name: "tmp/", dir: true, mode: 0o1777},
	})
	if err != nil {
		log.Fatal(err)
	}
	index := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, arg := range flag.Args() {
		arch, path, ok := strings.Cut(arg, "=")
		if !ok {
			log.Fatalf("%q: want ARCH=BINARY", arg)
		}
		bin, err := os.ReadFile(path)
		if err != nil {
			log.Fatal(err)
		}
		app, err := layer(created, []file{{name: "otelcol-genops", data: bin, mode: 0o755}})
		if err != nil {
			log.Fatal(err)
		}
		img, err := mutate.AppendLayers(mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1), base, app)
		if err != nil {
			log.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			log.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.Created = v1.Time{Time: created}
		cf.OS, cf.Architecture = "linux", arch
		cf.Config.Entrypoint = []string{"/otelcol-genops"}
		cf.Config.User = fmt.Sprintf("%d:%d", user, user)
		cf.Config.Env = []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
		cf.Config.ExposedPorts = map[string]struct{}{"4317/tcp": {}, "4318/tcp": {}, "9411/tcp": {}, "19001/tcp": {}, "8888/tcp": {}, "8889/tcp": {}, "13133/tcp": {}}
		cf.Config.Labels = map[string]string{
			"org.opencontainers.image.title":    "otelcol-genops",
			"org.opencontainers.image.source":   "https://github.com/genops-mesh/otelcol-genops",
			"org.opencontainers.image.version":  *version,
			"org.opencontainers.image.revision": *revision,
			"org.opencontainers.image.licenses": "Apache-2.0",
			"org.opencontainers.image.created":  created.Format(time.RFC3339),
		}
		img, err = mutate.ConfigFile(img, cf)
		if err != nil {
			log.Fatal(err)
		}
		img, err = mutate.CreatedAt(img, v1.Time{Time: created})
		if err != nil {
			log.Fatal(err)
		}
		index = mutate.AppendManifests(index, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: "linux", Architecture: arch},
		}})
	}
	if err := os.RemoveAll(*out); err != nil {
		log.Fatal(err)
	}
	if _, err := layout.Write(*out, index); err != nil {
		log.Fatal(err)
	}
	digest, err := index.Digest()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %s\n", *out, digest)
}

type file struct {
	name string
	data []byte
	mode int64
	dir  bool
}

// layer is a layer of files owned by root, all dated created.
func layer(created time.Time, files []file) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: created, Format: tar.FormatPAX, Typeflag: tar.TypeReg, Size: int64(len(f.data))}
		if f.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer))
}
