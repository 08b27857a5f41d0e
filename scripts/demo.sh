#!/usr/bin/env bash
# berth's main job on a default that needs no internet: set the machine up,
# build a busybox image from the host's busybox-static, import it, list it,
# inspect it, run containers from it, save it and load it into a second store.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
work=$(mktemp -d)
# The cleanup must always reach `rm -rf`: under `set -e` a failing command in
# the trap would end it early and leave $work behind.
trap 'deno run -A --quiet main.ts --root "$work/root" --run-root "$work/run" rm -f demo-web >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
berth() { deno run -A --quiet main.ts --root "${BERTH_ROOT:-$work/root}" --run-root "$work/run" "$@"; }
bash scripts/mkrootfs.sh "$work/busybox.tar.gz"
set -x
berth import --change 'CMD ["sh"]' "$work/busybox.tar.gz" busybox:demo
berth images
berth image inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} layers={{len .RootFS.Layers}}' busybox:demo
berth history busybox:demo
berth run --rm busybox:demo sh -c 'echo "hello from $(hostname), PID $$"'
berth run -d --name demo-web busybox:demo sh -c 'while true; do date; sleep 1; done'
sleep 2
berth ps
berth logs --tail 2 demo-web
berth exec demo-web ps
berth stop -t 1 demo-web
berth rm demo-web
berth save -o "$work/busybox-save.tar" busybox:demo
BERTH_ROOT="$work/root2" berth load -i "$work/busybox-save.tar"
BERTH_ROOT="$work/root2" berth images
