#!/usr/bin/env bash
# Import of a ~300 MB rootfs tar.gz (extraction included), side by side with
# GNU tar -xzf, podman import and skopeo copy (tarball: transport) on the same
# file. Reports medians and ratios. Usage: scripts/bench/import.sh [RUNS]
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
RUNS=${1:-$RUNS}
ensure_packages podman skopeo bc

work=$(mktemp -d /var/tmp/berth-bench-import.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=$work/rootfs.tar.gz
# A rootfs-like tree of ~300 MB: real binaries, libraries and text from the host.
tar --numeric-owner -C / -czf "$src" usr/bin usr/share/doc usr/share/perl usr/lib/python3 usr/lib/x86_64-linux-gnu/perl 2>/dev/null || true
echo "source: $(du -h "$src" | cut -f1) compressed, $(gzip -l "$src" | awk 'NR==2 {printf "%.0f MB", $2/1e6}') uncompressed, $(tar -tzf "$src" | wc -l) entries"

fresh() { rm -rf "$work/out" "$work/root" "$work/podman" "$work/oci"; mkdir -p "$work/out"; }

time_runs "tar -xzf" fresh tar -C "$work/out" -xzf "$src"; t_tar=$MEDIAN
time_runs "berth import" fresh berth --root "$work/root" import "$src" bench:1; t_berth=$MEDIAN
time_runs "podman import" fresh env CONTAINERS_CONF="$BERTH_REPO/../shared/bench/podman-containers.conf" \
  podman --root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay import "$src" bench:1; t_podman=$MEDIAN
time_runs "skopeo copy tarball: -> oci:" fresh skopeo copy "tarball:$src" "oci:$work/oci:bench"; t_skopeo=$MEDIAN

echo
echo "berth import / tar -xzf:      $(ratio "$t_berth" "$t_tar")x   (target <= 1.3x)"
echo "berth import / podman import: $(ratio "$t_berth" "$t_podman")x"
echo "berth import / skopeo copy:   $(ratio "$t_berth" "$t_skopeo")x   (skopeo does not extract)"
