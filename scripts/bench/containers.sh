#!/usr/bin/env bash
# Container start latency side by side: berth run --rm, run -d + stop; podman,
# docker (a private dockerd with networking off), runc and crun on the same
# busybox rootfs; a bare unshare+chroot as the floor. Supervision memory, ps,
# images and exec are in footprint.sh.
# All containers run with no network, so each tool (berth too: its default is a
# bridge) gets --network none. Usage: scripts/bench/containers.sh [RUNS]
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
RUNS=${1:-20}
ensure_packages podman runc crun docker.io bc busybox-static

work=$(mktemp -d /var/tmp/berth-bench-run.XXXXXX)
dockerd_pid=""
cleanup() {
  berth --root "$work/root" --run-root "$work/run" rm -f bench-d >/dev/null 2>&1 || true
  if [ -n "$dockerd_pid" ]; then
    docker -H "unix://$work/docker.sock" rm -f bench-d >/dev/null 2>&1 || true
    kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null || true
  fi
  remove_tree "$work"
}
trap cleanup EXIT
B=(berth --root "$work/root" --run-root "$work/run")

bash "$BERTH_REPO/scripts/mkrootfs.sh" "$work/rootfs.tar"
"${B[@]}" import "$work/rootfs.tar" bench:1 >/dev/null
mkdir -p "$work/bundle/rootfs" && tar -C "$work/bundle/rootfs" -xf "$work/rootfs.tar"
(cd "$work/bundle" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"true"/' config.json)
# runc's default spec has a network namespace with only lo, like the others here.

time_runs "unshare+chroot true" noop unshare --fork --pid --mount --uts --ipc --net --mount-proc chroot "$work/bundle/rootfs" true; t_floor=$MEDIAN
# crun refuses a hybrid cgroup v1/v2 layout (such as these VMs'); then it is left out.
t_crun=""
if crun --root "$work/crun" run --bundle "$work/bundle" bench-crun-probe >/dev/null 2>&1; then
  time_runs "crun run" noop crun --root "$work/crun" run --bundle "$work/bundle" bench-crun; t_crun=$MEDIAN
else
  echo "crun run                     refused on this host: $(crun --root "$work/crun" run --bundle "$work/bundle" bench-crun-probe 2>&1 | head -n1)"
fi
time_runs "runc run" noop runc --root "$work/runc" run --bundle "$work/bundle" bench-runc; t_runc=$MEDIAN
time_runs "berth run --rm" noop "${B[@]}" run --rm --network none bench:1 true; t_berth=$MEDIAN

export CONTAINERS_CONF="$BERTH_REPO/../shared/bench/podman-containers.conf"
P=(podman --root "$work/podman" --runroot "$work/podman-run" --tmpdir "$work/podman-tmp" --storage-driver overlay)
"${P[@]}" import "$work/rootfs.tar" bench:1 >/dev/null
time_runs "podman run --rm" noop "${P[@]}" run --rm --network none bench:1 true; t_podman=$MEDIAN

dockerd --data-root "$work/docker" --exec-root "$work/docker-exec" -H "unix://$work/docker.sock" \
  --pidfile "$work/docker.pid" --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
  >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
D=(docker -H "unix://$work/docker.sock")
for _ in $(seq 100); do "${D[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
"${D[@]}" import "$work/rootfs.tar" bench:1 >/dev/null
time_runs "docker run --rm" noop "${D[@]}" run --rm --network none bench:1 true; t_docker=$MEDIAN

start_stop() { "${B[@]}" run -d --network none --name bench-d bench:1 sleep 60 >/dev/null && "${B[@]}" stop -t 0 bench-d >/dev/null && "${B[@]}" rm bench-d >/dev/null; }
time_runs "berth run -d + stop + rm" noop start_stop; t_berth_d=$MEDIAN
dstart_stop() { "${D[@]}" run -d --network none --name bench-d bench:1 sleep 60 >/dev/null && "${D[@]}" stop -t 0 bench-d >/dev/null && "${D[@]}" rm bench-d >/dev/null; }
time_runs "docker run -d + stop + rm" noop dstart_stop; t_docker_d=$MEDIAN

echo
echo "berth run --rm / docker run --rm:  $(ratio "$t_berth" "$t_docker")x   (target < 0.4x)"
echo "berth run --rm / podman run --rm:  $(ratio "$t_berth" "$t_podman")x"
echo "berth run --rm / runc run:         $(ratio "$t_berth" "$t_runc")x"
[ -n "$t_crun" ] && echo "berth run --rm / crun run:         $(ratio "$t_berth" "$t_crun")x"
echo "berth run --rm / unshare+chroot:   $(ratio "$t_berth" "$t_floor")x"
echo "berth run -d+stop+rm / docker:     $(ratio "$t_berth_d" "$t_docker_d")x"
