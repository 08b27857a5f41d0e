#!/usr/bin/env bash
# Image builds side by side: berth build, podman build and docker build (a private dockerd with
# networking off) of the same Dockerfile on the same busybox base (imported into each tool):
# FROM, then ENV, COPY a few files, RUN a command that writes files, WORKDIR, CMD.
# Cold: every build with --no-cache (each tool keeps its base image, rebuilds every step);
# cached: the same build again with nothing changed (one untimed build first fills the cache).
# RUN steps get no network in every tool (--network none). Without the buildx plugin the docker
# client cannot drive BuildKit, so docker then uses its legacy builder (DOCKER_BUILDKIT=0); the
# output says which. Usage: scripts/bench/build.sh [RUNS]
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
RUNS=${1:-5}
ensure_packages podman runc docker.io bc busybox-static

work=$(mktemp -d /var/tmp/berth-bench-build.XXXXXX)
dockerd_pid=""
cleanup() {
  set +e
  if [ -n "$dockerd_pid" ]; then
    kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null
  fi
  [ -d "$work/podman" ] && "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  remove_tree "$work"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
B=(berth --root "$work/root" --run-root "$work/run")
export CONTAINERS_CONF="$BERTH_REPO/../shared/bench/podman-containers.conf"
P=(podman --root "$work/podman" --runroot "$work/podman-run" --tmpdir "$work/podman-tmp" --storage-driver overlay)
D=(docker -H "unix://$work/docker.sock")

# The context: a Dockerfile and a few files (text and 256 KiB of random bytes).
ctx=$work/ctx
mkdir -p "$ctx/files/conf"
cat >"$ctx/Dockerfile" <<'EOF'
FROM bench:1
ENV APP_HOME=/app GREETING=hello
COPY files/ /app/
RUN mkdir -p /app/out && for i in $(seq 1 50); do echo "$GREETING $i" >/app/out/f$i; done && cat /app/conf/app.conf >/app/out/conf
WORKDIR /app
CMD ["sh", "-c", "ls /app/out | wc -l"]
EOF
printf 'name=bench\nlevel=3\n' >"$ctx/files/conf/app.conf"
printf '#!/bin/sh\necho run\n' >"$ctx/files/run.sh"
chmod 755 "$ctx/files/run.sh"
printf 'readme\n' >"$ctx/files/README"
head -c 262144 /dev/urandom >"$ctx/files/data.bin"

bash "$BERTH_REPO/scripts/mkrootfs.sh" "$work/rootfs.tar"

# quietly CMD...: runs CMD, showing its output only if it fails.
quietly() { "$@" >"$work/out.log" 2>&1 || { cat "$work/out.log" >&2; return 1; }; }

# check TOOL CLI...: the image built runs its CMD and finds the 51 files its RUN wrote.
check() {
  local tool=$1 out; shift
  out=$("$@" run --rm --network none bench-build:1 2>&1 | tr -d ' \r')
  [ "$out" = 51 ] || { echo "$tool: the image built is wrong: CMD printed '$out', not 51" >&2; exit 1; }
}

quietly "${B[@]}" import "$work/rootfs.tar" bench:1
time_runs "berth build (cold)" noop "${B[@]}" build -q --no-cache --network none -t bench-build:1 "$ctx"; t_berth_cold=$MEDIAN
quietly "${B[@]}" build -q --network none -t bench-build:1 "$ctx"
time_runs "berth build (cached)" noop "${B[@]}" build -q --network none -t bench-build:1 "$ctx"; t_berth_cached=$MEDIAN
check berth "${B[@]}"

quietly "${P[@]}" import "$work/rootfs.tar" bench:1
time_runs "podman build (cold)" noop "${P[@]}" build -q --no-cache --network none -t bench-build:1 "$ctx"; t_podman_cold=$MEDIAN
quietly "${P[@]}" build -q --network none -t bench-build:1 "$ctx"
time_runs "podman build (cached)" noop "${P[@]}" build -q --network none -t bench-build:1 "$ctx"; t_podman_cached=$MEDIAN
check podman "${P[@]}"

dockerd --data-root "$work/docker" --exec-root "$work/docker-exec" -H "unix://$work/docker.sock" \
  --pidfile "$work/docker.pid" --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
  >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 100); do "${D[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
if docker buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=1; docker_builder="BuildKit (buildx)"
else
  export DOCKER_BUILDKIT=0; docker_builder="legacy builder (DOCKER_BUILDKIT=0: no buildx plugin)"
fi
quietly "${D[@]}" import "$work/rootfs.tar" bench:1
time_runs "docker build (cold)" noop "${D[@]}" build -q --no-cache --network none -t bench-build:1 "$ctx"; t_docker_cold=$MEDIAN
quietly "${D[@]}" build -q --network none -t bench-build:1 "$ctx"
time_runs "docker build (cached)" noop "${D[@]}" build -q --network none -t bench-build:1 "$ctx"; t_docker_cached=$MEDIAN
check docker "${D[@]}"

echo
echo "docker: $("${D[@]}" version --format '{{.Server.Version}}' 2>/dev/null || echo '?'), $docker_builder; podman: $(podman --version | awk '{print $3}')"
echo "berth / docker (cold):    $(ratio "$t_berth_cold" "$t_docker_cold")x   (target <= 0.5x)"
echo "berth / docker (cached):  $(ratio "$t_berth_cached" "$t_docker_cached")x   (target <= 1.0x)"
echo "berth / podman (cold):    $(ratio "$t_berth_cold" "$t_podman_cold")x"
echo "berth / podman (cached):  $(ratio "$t_berth_cached" "$t_podman_cached")x"
