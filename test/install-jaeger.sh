#!/usr/bin/env bash
# Builds Jaeger (v2, `cmd/jaeger`: an OpenTelemetry Collector with Jaeger's
# storage and query extensions) from the published github.com/jaegertracing/jaeger
# module, at the version pinned in test/peers/jaeger/go.mod, once into a cache
# directory keyed by that version; prints the directory. Run by hand or by
# `make deps`; a second run with the binary present does nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(awk '$1 == "github.com/jaegertracing/jaeger" { print $2; exit }' "$root/test/peers/jaeger/go.mod")
cache=${GENOPS_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otelcol-genops/peers}
dir="$cache/jaeger-$version"
if [ ! -x "$dir/jaeger" ]; then
  mkdir -p "$dir"
  echo "install-jaeger: building Jaeger $version into $dir (once; several minutes cold)" >&2
  (cd "$root/test/peers/jaeger" &&
    GONOSUMDB=go.opentelemetry.io,github.com/open-telemetry go build -trimpath -o "$dir/jaeger.tmp" github.com/jaegertracing/jaeger/cmd/jaeger)
  mv "$dir/jaeger.tmp" "$dir/jaeger"
fi
echo "$dir"
