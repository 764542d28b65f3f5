#!/usr/bin/env bash
# Builds kube-apiserver for the envtest integration tests from the published
# k8s.io/kubernetes module, at the version pinned in test/peers/kube/go.mod,
# once into a cache directory keyed by that version; prints the directory.
# etcd is Debian's etcd-server (test/install-deps.sh). Run by hand or by
# `make deps`; a second run with the binary present does nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$root/test/peers/kube/go.mod")
cache=${GENOPS_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otelcol-genops/peers}
dir="$cache/kube-apiserver-$version"
if [ ! -x "$dir/kube-apiserver" ]; then
  mkdir -p "$dir"
  echo "install-kube: building kube-apiserver $version into $dir (once; a few minutes cold)" >&2
  (cd "$root/test/peers/kube" && go build -trimpath -o "$dir/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver)
  mv "$dir/kube-apiserver.tmp" "$dir/kube-apiserver"
fi
echo "$dir"
