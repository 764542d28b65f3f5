// The OCI image of the distribution (make image): assembled with
// go-containerregistry, no Docker daemon and no base image. A module of
// its own so that its dependencies never reach the collector's.
module github.com/genops-mesh/otelcol-genops/build/image

go 1.26.0

require github.com/google/go-containerregistry v0.22.1

require (
	github.com/klauspost/compress v1.19.2 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
	golang.org/x/sync v0.22.0 // indirect
)
