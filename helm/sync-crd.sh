#!/usr/bin/env bash
# Copies the one edited CRD (crds/ at the repository root) into the Helm
# chart's crds/, which must hold an identical copy: Helm only installs CRDs
# from inside the chart. Run after every CRD change; `--check` only compares
# (exit 1 on a difference), which tests/e2e/helm_test.sh does.
set -euo pipefail
repo_root="$(cd "$(dirname "$0")/.." && pwd)"
source_crd="$repo_root/crds/electric-operator.dev_electricshardsets.yaml"
chart_crd="$repo_root/helm/electric-operator/crds/electric-operator.dev_electricshardsets.yaml"

if [ "${1:-}" = "--check" ]; then
  if cmp -s "$source_crd" "$chart_crd"; then
    echo "chart CRD is identical to crds/"
    exit 0
  fi
  echo "chart CRD differs from crds/; run helm/sync-crd.sh" >&2
  diff -u "$source_crd" "$chart_crd" | head -n 40 >&2 || true
  exit 1
fi

cp "$source_crd" "$chart_crd"
echo "copied $source_crd -> $chart_crd"
