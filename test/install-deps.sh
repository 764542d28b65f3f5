#!/usr/bin/env bash
# Installs what `make test` needs beyond Go on a fresh Debian machine.
# Idempotent: a package already present is not fetched again. Go tools are
# pinned in go.mod `tool` directives and need no step here.
set -euo pipefail

packages=(
  make
  git
  prometheus   # promtool checks and unit-tests the generated rules
  etcd-server  # etcd for the envtest kube-apiserver (test/kubetest)
  postgresql   # the cost ledger's PostgreSQL (test/pgtest runs initdb + postgres as user postgres)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

command -v go >/dev/null || { echo "install-deps: Go is not on PATH (expected /usr/local/go/bin)" >&2; exit 1; }

# kube-apiserver for envtest, built once from the pinned k8s.io/kubernetes.
"$(dirname "$0")/install-kube.sh" >/dev/null

# Jaeger for the end-to-end trace tests, built once from its Go module.
"$(dirname "$0")/install-jaeger.sh" >/dev/null

# Kiali for the end-to-end dashboard tests, built once from its Go module.
"$(dirname "$0")/install-kiali.sh" >/dev/null

# Thanos for the tiered mode's remote write tests, built once from its Go module.
"$(dirname "$0")/install-thanos.sh" >/dev/null
