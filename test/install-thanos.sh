#!/usr/bin/env bash
# Builds Thanos (github.com/thanos-io/thanos/cmd/thanos: receive, query,
# rule in one binary) from its published Go module, at the version pinned
# in test/peers/thanos/go.mod, once into a cache directory keyed by that
# version, with the build tags of Thanos's own release build (.promu.yml:
# slicelabels, which its label code needs; netgo); prints the directory. Run by hand or by `make deps`; a second
# run with the binary present does nothing. The tests run it as a
# horizontally scalable remote write store: receivers on a hash ring and a
# querier over them (test/thanostest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(awk '$1 == "github.com/thanos-io/thanos" { print $2; exit }' "$root/test/peers/thanos/go.mod")
cache=${GENOPS_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otelcol-genops/peers}
dir="$cache/thanos-$version"
if [ ! -x "$dir/thanos" ]; then
  mkdir -p "$dir"
  echo "install-thanos: building Thanos $version into $dir (once; several minutes cold)" >&2
  (cd "$root/test/peers/thanos" &&
    GONOSUMDB=go.opentelemetry.io,github.com/open-telemetry go build -trimpath -tags netgo,slicelabels -o "$dir/thanos.tmp" github.com/thanos-io/thanos/cmd/thanos)
  mv "$dir/thanos.tmp" "$dir/thanos"
fi
echo "$dir"
