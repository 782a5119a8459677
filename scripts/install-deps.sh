#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, only when missing, so
# a second run costs one dpkg query.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config ccache
  libcpprest-dev nlohmann-json3-dev libyaml-cpp-dev libssl-dev libspdlog-dev
  libgtest-dev libgmock-dev libpq-dev
  postgresql postgresql-client
  openssl curl python3 jq yq lua5.4 lua5.1
  # The fuzz targets (EO_FUZZ, build-fuzz/): clang and its libFuzzer, ASan
  # and UBSan runtimes.
  clang-14 libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The test control plane is built from Go modules and needs Go 1.26 or later
# (Debian's golang-go is too old for Kubernetes 1.36).
if ! go_version=$(go env GOVERSION 2>/dev/null); then
  echo "error: Go 1.26 or later is needed to build the test control plane (no 'go' on PATH)" >&2
  exit 1
fi
minor=$(sed -E 's/^go1\.([0-9]+).*/\1/' <<<"$go_version")
if ((minor < 26)); then
  echo "error: Go 1.26 or later is needed to build the test control plane; found $go_version" >&2
  exit 1
fi

# The Prometheus text-format parser the metrics tests check /metrics with.
if ! python3 -c 'import prometheus_client' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check prometheus_client==0.26.0
fi
