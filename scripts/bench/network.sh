#!/usr/bin/env bash
# Networking side by side, berth beside docker (a private dockerd with its bridge and iptables
# on) and podman:
# 1. what a network costs at start: `run --rm --network none IMG true` against
#    `run --rm --network benchnet IMG true` (a user bridge network), the difference in ms;
# 2. TCP throughput through a published port: a busybox httpd container serving a large
#    (sparse) file, fetched by curl from the host side to /dev/null: through 127.0.0.1 (berth:
#    DNAT with route_localnet; docker: its userland proxy) and through a non-loopback address of
#    the host side (both: DNAT straight to the container). Rounds alternate berth and docker.
# Everything, dockerd included, runs inside a scratch network namespace made here and removed
# on exit: no link, address, route, sysctl or firewall rule lands in the machine's own.
# Usage: scripts/bench/network.sh [RUNS]   (SIZE_MB=512: the file's size)
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
RUNS=${1:-5}
SIZE_MB=${SIZE_MB:-512}
ensure_packages podman containernetworking-plugins docker.io iptables nftables iproute2 bc \
  busybox-static curl

ns=berth-bench-$$
work=$(mktemp -d /var/tmp/berth-bench-net.XXXXXX)
dockerd_pid=""
# podman's CNI keeps its result cache in /var/lib/cni, whatever the config says: removed after
# if this run made it (and it is empty).
cni_cache_made=$([ -e /var/lib/cni ] || echo 1)
# in_ns CMD...: CMD with the scratch namespace as its network namespace. nsenter execs CMD (no
# fork), and fails rather than run it anywhere else if the namespace is gone.
in_ns() { nsenter --net="/run/netns/$ns" "$@"; }
if [ -n "${BERTH_BIN:-}" ]; then read -r -a berth_cmd <<<"$BERTH_BIN"; else
  berth_cmd=(deno run -A --quiet "$BERTH_REPO/main.ts")
fi
B=(in_ns "${berth_cmd[@]}" --root "$work/root" --run-root "$work/run")
D=(docker -H "unix://$work/docker.sock")
# podman keeps its CNI network files and leases in the work dir, not in /etc/cni or /var/lib/cni.
sed "s|^\[engine\]|[network]\nnetwork_config_dir = \"$work/cni\"\n&|" \
  "$BERTH_REPO/../shared/bench/podman-containers.conf" >"$work/containers.conf"
export CONTAINERS_CONF="$work/containers.conf"
P=(in_ns podman --root "$work/podman" --runroot "$work/podman-run" --tmpdir "$work/podman-tmp"
  --storage-driver overlay)
cleanup() {
  set +e
  local ids
  if [ -e "/run/netns/$ns" ]; then
    ids=$("${B[@]}" ps -aq 2>/dev/null) && [ -n "$ids" ] && "${B[@]}" rm -f $ids >/dev/null 2>&1
    [ -d "$work/podman" ] && "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  fi
  if [ -n "$dockerd_pid" ]; then
    ids=$("${D[@]}" ps -aq 2>/dev/null) && [ -n "$ids" ] && "${D[@]}" rm -f $ids >/dev/null 2>&1
    # $! is nsenter's subshell; dockerd itself is the pid in its pidfile.
    local pid
    pid=$(cat "$work/docker.pid" 2>/dev/null)
    kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null
    if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  [ -e "/run/netns/$ns" ] && ip netns delete "$ns"
  remove_tree "$work"
  [ -n "$cni_cache_made" ] && rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

ip netns add "$ns"
in_ns ip link set lo up
# A non-loopback address on the host side, for the published ports' second path.
# (a veth pair, both ends in the namespace: this kernel has no dummy links)
in_ns ip link add bench0 type veth peer name bench1
in_ns ip addr add 10.231.0.1/24 dev bench0
in_ns ip link set bench1 up
in_ns ip link set bench0 up
ADDR=10.231.0.1

bash "$BERTH_REPO/scripts/mkrootfs.sh" "$work/rootfs.tar"
mkdir -p "$work/www"
truncate -s "${SIZE_MB}M" "$work/www/big"

# --- 1. Start overhead of a network ------------------------------------------------------
# overhead TOOL CLI...: warms both cases up (the first use makes the bridge), then times
# run --rm with none and with benchnet, RUNS rounds, the two cases taking turns to go first;
# leaves the median of the rounds' differences, in ms, in $OVER.
overhead() {
  local tool=$1 i n t0 t1 order
  local -A samples=()
  shift
  "$@" run --rm --network none bench:1 true >/dev/null
  "$@" run --rm --network benchnet bench:1 true >/dev/null
  for ((i = 0; i < RUNS; i++)); do
    order=$( ((i % 2)) && echo benchnet none || echo none benchnet)
    for n in $order; do
      t0=$EPOCHREALTIME
      "$@" run --rm --network "$n" bench:1 true >/dev/null ||
        { echo "$tool run --network $n failed" >&2; return 1; }
      t1=$EPOCHREALTIME
      samples[$n]+="$(echo "$t1 - $t0" | bc -l) "
    done
  done
  for n in none benchnet; do
    # shellcheck disable=SC2086
    printf '%-28s median %7.3f s  (runs: %s)\n' "$tool run --net $n" "$(median ${samples[$n]})" \
      "$(printf '%.3f ' ${samples[$n]})"
  done
  # shellcheck disable=SC2086
  OVER=$(printf '%.1f' "$(median $(paste -d- <(tr ' ' '\n' <<<"${samples[benchnet]}") \
    <(tr ' ' '\n' <<<"${samples[none]}") | grep -v '^-$' | sed 's/.*/(&) * 1000/' | bc -l))")
  echo "$tool: a bridge network adds $OVER ms to run --rm (median of the rounds' differences)"
}

"${B[@]}" import "$work/rootfs.tar" bench:1 >/dev/null
"${B[@]}" network create benchnet >/dev/null
overhead berth "${B[@]}"; o_berth=$OVER

o_podman=""
"${P[@]}" import -q "$work/rootfs.tar" bench:1 >/dev/null
mkdir -p "$work/cni"
cat >"$work/cni/benchnet.conflist" <<EOF
{ "cniVersion": "0.4.0", "name": "benchnet", "plugins": [
  { "type": "bridge", "bridge": "cni-bench0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
    "ipam": { "type": "host-local", "dataDir": "$work/cni-leases", "routes": [{ "dst": "0.0.0.0/0" }],
      "ranges": [[{ "subnet": "10.232.0.0/24", "gateway": "10.232.0.1" }]] } },
  { "type": "portmap", "capabilities": { "portMappings": true } },
  { "type": "firewall" }, { "type": "tuning" } ] }
EOF
if probe=$("${P[@]}" run --rm --network benchnet bench:1 true 2>&1); then
  overhead podman "${P[@]}"; o_podman=$OVER
else
  echo "podman: left out, its networking fails in the namespace: $(echo "$probe" | tail -n1)"
fi

in_ns dockerd --data-root "$work/docker" --exec-root "$work/docker-exec" \
  -H "unix://$work/docker.sock" --pidfile "$work/docker.pid" >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 100); do "${D[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
"${D[@]}" version >/dev/null || { echo "dockerd did not start:" >&2; tail "$work/dockerd.log" >&2; exit 1; }
"${D[@]}" import "$work/rootfs.tar" bench:1 >/dev/null
"${D[@]}" network create benchnet >/dev/null
overhead docker "${D[@]}"; o_docker=$OVER

# --- 2. Throughput through a published port ----------------------------------------------
# serve TOOL PORT CLI...: a detached httpd on the default bridge, published on 127.0.0.1 and
# $ADDR at PORT; waits until it answers.
serve() {
  local tool=$1 port=$2
  shift 2
  "$@" run -d --name bench-web --network bridge -p "127.0.0.1:$port:80" -p "$ADDR:$port:80" \
    -v "$work/www:/srv:ro" bench:1 httpd -f -p 80 -h /srv >/dev/null
  for _ in $(seq 100); do
    in_ns curl -sf -o /dev/null -r 0-0 "http://127.0.0.1:$port/big" && return 0
    sleep 0.1
  done
  echo "$tool: the published port 127.0.0.1:$port does not answer" >&2
  return 1
}
serve berth 18080 "${B[@]}"
serve docker 18081 "${D[@]}"
declare -A SAMPLES=()
# fetch CASE HOST:PORT: one download of the file, its MB/s (10^6 bytes) added to CASE.
fetch() {
  local bps
  bps=$(in_ns curl -sf -o /dev/null -w '%{speed_download}' "http://$2/big")
  SAMPLES[$1]+="$(echo "scale=1; $bps / 1000000" | bc -l) "
}
fetch warm 127.0.0.1:18080 && fetch warm 127.0.0.1:18081 # page cache, untimed
for ((r = 0; r < RUNS; r++)); do
  for tool in $( ((r % 2)) && echo docker berth || echo berth docker); do
    port=$([ "$tool" = berth ] && echo 18080 || echo 18081)
    fetch "$tool-lo" "127.0.0.1:$port"
    fetch "$tool-addr" "$ADDR:$port"
  done
done
med() { median ${SAMPLES[$1]}; }
for c in lo addr; do
  for tool in berth docker; do
    printf '%-28s median %7.1f MB/s  (runs: %s)\n' "$tool via $([ $c = lo ] && echo 127.0.0.1 || echo "$ADDR")" \
      "$(med "$tool-$c")" "${SAMPLES[$tool-$c]}"
  done
done
echo
echo "network start overhead: berth $o_berth ms, docker $o_docker ms${o_podman:+, podman $o_podman ms}   (target: berth < 10 ms)"
echo "throughput berth/docker via 127.0.0.1:   $(ratio "$(med berth-lo)" "$(med docker-lo)")x   (target >= 0.90x; docker: userland proxy)"
echo "throughput berth/docker via $ADDR:  $(ratio "$(med berth-addr)" "$(med docker-addr)")x   (both DNAT)"
