#!/usr/bin/env bash
# Builds Kiali (the server, github.com/kiali/kiali's main package) from its
# published Go module, at the version pinned in test/peers/kiali/go.mod,
# once into a cache directory keyed by that version; prints the directory.
# Run by hand or by `make deps`; a second run with the binary present does
# nothing. Kiali runs in the tests without its web UI (an empty static
# content directory) against the envtest API server and a real Prometheus.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(awk '$1 == "github.com/kiali/kiali" { print $2; exit }' "$root/test/peers/kiali/go.mod")
cache=${GENOPS_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otelcol-genops/peers}
dir="$cache/kiali-$version"
if [ ! -x "$dir/kiali" ]; then
  mkdir -p "$dir"
  echo "install-kiali: building Kiali $version into $dir (once; a few minutes cold)" >&2
  (cd "$root/test/peers/kiali" &&
    GONOSUMDB=go.opentelemetry.io,github.com/open-telemetry go build -trimpath -o "$dir/kiali.tmp" github.com/kiali/kiali)
  mv "$dir/kiali.tmp" "$dir/kiali"
fi
echo "$dir"
