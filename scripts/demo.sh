#!/usr/bin/env bash
# berth's main job on a default that needs no internet: set the machine up,
# build a busybox image from the host's busybox-static, import it, list it,
# inspect it, save it and load it into a second store.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
berth() { deno run -A --quiet main.ts --root "${BERTH_ROOT:-$work/root}" "$@"; }
bash scripts/mkrootfs.sh "$work/busybox.tar.gz"
set -x
berth import --change 'CMD ["sh"]' "$work/busybox.tar.gz" busybox:demo
berth images
berth image inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} layers={{len .RootFS.Layers}}' busybox:demo
berth history busybox:demo
berth save -o "$work/busybox-save.tar" busybox:demo
BERTH_ROOT="$work/root2" berth load -i "$work/busybox-save.tar"
BERTH_ROOT="$work/root2" berth images
