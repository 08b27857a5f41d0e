#!/usr/bin/env bash
# Runs every benchmark (or those named): scripts/bench/run.sh [import|containers|footprint|registry|network|build ...]
set -euo pipefail
dir=$(dirname "$0")
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(import containers footprint registry network build)
for name in "${names[@]}"; do
  echo "== $name"
  bash "$dir/$name.sh"
done
