#!/usr/bin/env bash
# The footprint table of issue 9, berth beside docker (a private dockerd, networking off) and
# podman, all from the same run:
# - 10 detached `sleep` containers per tool: the PSS (smaps_rollup) summed over every process
#   that supervises them, and the PSS one more (11th) container adds to that sum;
# - with those containers running and 3 images stored: `ps`, `images`, `exec CTR true` and
#   `run --rm IMG true` (each with --network none, so no bridge is made on the host).
# Memory and times are medians over ROUNDS rounds in which the three tools take turns (the
# first tool rotates each round), so drift on this noisy VM hits all three alike.
# Usage: scripts/bench/footprint.sh [ROUNDS]   (N=10 containers; SETTLE=3 s before a reading)
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
ROUNDS=${1:-11}
N=${N:-10}
SETTLE=${SETTLE:-3}
ensure_packages podman conmon runc docker.io bc busybox-static

work=$(mktemp -d /var/tmp/berth-bench-footprint.XXXXXX)
dockerd_pid=""
started=() # "pid:starttime" of every container init and supervisor seen, for the cleanup
declare -A cgdirs=() # the cgroup directories of every container init seen, for the cleanup
B=(berth --root "$work/root" --run-root "$work/run")
D=(docker -H "unix://$work/docker.sock")
export CONTAINERS_CONF="$BERTH_REPO/../shared/bench/podman-containers.conf"
# --tmpdir too: podman's default (/run/libpod) is shared by every podman on the host.
P=(podman --root "$work/podman" --runroot "$work/podman-run" --tmpdir "$work/podman-tmp"
  --storage-driver overlay)
cleanup() {
  set +e
  local ids
  ids=$("${B[@]}" ps -aq 2>/dev/null) && [ -n "$ids" ] && "${B[@]}" rm -f $ids >/dev/null 2>&1
  if [ -n "$dockerd_pid" ]; then
    ids=$("${D[@]}" ps -aq 2>/dev/null) && [ -n "$ids" ] && "${D[@]}" rm -f $ids >/dev/null 2>&1
    kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null
  fi
  [ -d "$work/podman" ] && "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  # Whatever a failing tool left running (a broken berth cannot rm), once the others had 2 s to
  # exit: the pids seen here, their start time unchanged, and any process whose command line
  # names this work dir (monitors, shims, conmons: ours by construction), with its children.
  local i
  for ((i = 0; i < 20; i++)); do
    leftovers
    [ ${#LEFT[@]} -gt 0 ] || break
    sleep 0.1
  done
  if [ ${#LEFT[@]} -gt 0 ]; then
    echo "footprint: killing leftovers: $(names "${LEFT[@]}")" >&2
    kill -9 "${LEFT[@]}" 2>/dev/null
    sleep 0.5
    # Their containers' cgroups, which the tool that failed did not remove.
    local d n=0
    for d in "${!cgdirs[@]}"; do
      for ((i = 0; i < 20; i++)); do
        [ -d "$d" ] || break
        [ -z "$(cat "$d/cgroup.procs" 2>/dev/null)" ] && rmdir "$d" 2>/dev/null && n=$((n + 1)) && break
        sleep 0.1
      done
    done
    echo "footprint: removed $n cgroup directories of those containers" >&2
  fi
  remove_tree "$work"
}
leftovers() {
  local e p c
  local -A seen=()
  LEFT=()
  for e in "${started[@]}"; do
    p=${e%%:*}
    [ "$(starttime "$p")" = "${e#*:}" ] && LEFT+=("$p")
  done
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = $$ ] && continue
    c=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
    # shellcheck disable=SC2207
    [[ "$c" == *"$work/"* ]] && LEFT+=("$p" $(pgrep -P "$p"))
  done
  for p in "${LEFT[@]}"; do seen[$p]=1; done
  LEFT=("${!seen[@]}")
}
# remember_cgroups PID: adds the directories of PID's cgroups (but its root ones) to cgdirs.
remember_cgroups() {
  local ctrls path mnt
  while IFS=: read -r _ ctrls path; do
    [ "$path" = / ] && continue
    mnt=$(awk -v c="$ctrls" '{
        split($0, h, " - "); split(h[2], t, " ")
        if (c == "" && t[1] == "cgroup2") { print $5; exit }
        if (c == "" || t[1] != "cgroup") next
        n = split(c, want, ","); ok = 1
        for (i = 1; i <= n; i++) if (index("," t[3] ",", "," want[i] ",") == 0) ok = 0
        if (ok) { print $5; exit }
      }' /proc/self/mountinfo)
    [ -n "$mnt" ] && cgdirs[$mnt$path]=1
  done 2>/dev/null <"/proc/$1/cgroup" || true
}
# names PID...: "3 x conmon" style summary of the process names.
names() {
  local p
  for p in "$@"; do cat "/proc/$p/comm" 2>/dev/null || true; done | sort | uniq -c |
    awk '{printf "%s%d x %s", (NR > 1 ? ", " : ""), $1, $2}'
}

# starttime PID: the process's start time (field 22 of its stat), to tell it from a reuse of its pid
starttime() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $20}'; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

TOOLS=(berth docker podman)
t_berth() { "${B[@]}" "$@"; }
t_docker() { "${D[@]}" "$@"; }
t_podman() { "${P[@]}" "$@"; }
# What `run` needs so that all three run without a network (berth's default is a bridge too).
declare -A NONET=([berth]="--network none" [docker]="--network none" [podman]="--network none")
run_d() { local tool=$1; shift; "t_$tool" run -d ${NONET[$tool]} "$@" >/dev/null; }
# podman's rm -f waits out the stop timeout (10 s) first; the others kill at once.
declare -A RM_F=([berth]="rm -f" [docker]="rm -f" [podman]="rm -f -t 0")

# The three images: the busybox rootfs with one file that differs, so each has its own ID.
bash "$BERTH_REPO/scripts/mkrootfs.sh" "$work/rootfs.tar"
for i in 1 2 3; do
  mkdir -p "$work/v$i/etc" && echo "$i" >"$work/v$i/etc/bench-variant"
  cp "$work/rootfs.tar" "$work/rootfs$i.tar"
  tar --numeric-owner -rf "$work/rootfs$i.tar" -C "$work/v$i" ./etc/bench-variant
done

dockerd --data-root "$work/docker" --exec-root "$work/docker-exec" -H "unix://$work/docker.sock" \
  --pidfile "$work/docker.pid" --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
  >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 100); do "${D[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
"${D[@]}" version >/dev/null || { echo "dockerd did not start:" >&2; tail "$work/dockerd.log" >&2; exit 1; }

ppid_of() { awk '/^PPid:/ {print $2}' "/proc/$1/status" 2>/dev/null || true; }
# This script and its ancestors: a walk up from a supervisor stops there (dockerd is our child).
own=" "
p=$$
while [ -n "$p" ] && [ "$p" -gt 1 ]; do own+="$p "; p=$(ppid_of "$p"); done

# find_supervisors TOOL: sets INITS to the init pids of TOOL's running containers (inspect
# .State.Pid) and SUPS to the unique pids that supervise them: each init's parent (a
# containerd-shim, a conmon, berth's monitor, whatever the design) and that parent's own
# ancestors, if any, below pid 1, a systemd or this script; for docker also dockerd and its
# containerd. Every pid found is remembered for the cleanup.
find_supervisors() {
  local tool=$1 pid p ids
  local -A seen=()
  INITS=() SUPS=()
  ids=$("t_$tool" ps -q)
  [ -n "$ids" ] || return 0
  # shellcheck disable=SC2086
  read -r -a INITS <<<"$("t_$tool" inspect -f '{{.State.Pid}}' $ids | tr '\n' ' ')"
  for pid in "${INITS[@]}"; do
    p=$(ppid_of "$pid")
    while [ -n "$p" ] && [ "$p" -gt 1 ] && [[ "$own" != *" $p "* ]] &&
      [ "$(cat "/proc/$p/comm" 2>/dev/null)" != systemd ]; do
      seen[$p]=1
      p=$(ppid_of "$p")
    done
  done
  if [ "$tool" = docker ]; then
    seen[$dockerd_pid]=1
    for p in $(pgrep -P "$dockerd_pid" -x containerd || true); do seen[$p]=1; done
  fi
  SUPS=("${!seen[@]}")
  for p in "${INITS[@]}" "${SUPS[@]}"; do started+=("$p:$(starttime "$p")"); done
  for p in "${INITS[@]}"; do remember_cgroups "$p"; done
}

for tool in "${TOOLS[@]}"; do
  for i in 1 2 3; do "t_$tool" import "$work/rootfs$i.tar" "bench:$i" >/dev/null; done
  for i in $(seq "$N"); do run_d "$tool" --name "fp-$i" bench:1 sleep 1000000; done
  find_supervisors "$tool"
done
echo "versions: berth ${BERTH_BIN:-$(git -C "$BERTH_REPO" rev-parse --short HEAD)}, $("${D[@]}" version -f 'docker {{.Server.Version}}'), $(podman --version), $(conmon --version | head -n1)"

# mem PID...: "PSS RSS USS" summed, in kB (USS: private pages, what no other process shares).
mem() {
  local p
  for p in "$@"; do cat "/proc/$p/smaps_rollup" 2>/dev/null || true; done |
    awk '/^Pss:/ {p += $2} /^Rss:/ {r += $2} /^Private_(Clean|Dirty):/ {u += $2}
      END {printf "%d %d %d\n", p, r, u}'
}
declare -A SAMPLES=() # "case:tool" -> space-separated samples
add() { SAMPLES[$1:$2]+="$3 "; }
med() { median ${SAMPLES[$1:$2]}; }

sleep "$SETTLE"
# The state directories each tool's processes name on their command line.
declare -A DIRS=([berth]="$work/root $work/run" [docker]="$work/docker $work/docker-exec"
  [podman]="$work/podman $work/podman-run $work/podman-tmp")
# unseen TOOL: the resident processes other than SUPS and INITS that name TOOL's state dirs: a
# supervisor that is not a parent of the inits (a per-root daemon would be) is not counted, so
# the line below says so.
unseen() {
  local p c d
  local -A known=()
  for p in "${SUPS[@]}" "${INITS[@]}" $$; do known[$p]=1; done
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ -z "${known[$p]:-}" ] || continue
    c=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
    for d in ${DIRS[$1]}; do
      [[ "$c " == *"$d/"* || "$c " == *"$d "* ]] && { echo "$p"; break; }
    done
  done
  return 0
}
for tool in "${TOOLS[@]}"; do
  find_supervisors "$tool"
  others=$(unseen "$tool")
  # shellcheck disable=SC2086
  echo "supervisors of $N $tool containers: $(names "${SUPS[@]}")${others:+ (not counted, also naming its dirs: $(names $others))}"
done
for ((r = 0; r < ROUNDS; r++)); do
  for ((k = 0; k < ${#TOOLS[@]}; k++)); do
    tool=${TOOLS[(r + k) % ${#TOOLS[@]}]}
    find_supervisors "$tool"
    read -r pss10 rss10 uss10 < <(mem "${SUPS[@]}")
    run_d "$tool" --name fp-extra bench:1 sleep 1000000
    sleep "$SETTLE"
    find_supervisors "$tool"
    read -r pss11 rss11 uss11 < <(mem "${SUPS[@]}")
    "t_$tool" ${RM_F[$tool]} fp-extra >/dev/null
    add pss "$tool" "$pss10"; add rss "$tool" "$rss10"; add uss "$tool" "$uss10"
    add dpss "$tool" $((pss11 - pss10)); add drss "$tool" $((rss11 - rss10))
    add duss "$tool" $((uss11 - uss10))
  done
done

# --- Times --------------------------------------------------------------------------------
# timed CASE TOOL CMD...: one timed run of CMD, added to CASE's samples for TOOL.
timed() {
  local c=$1 tool=$2 t0 t1
  shift 2
  t0=$EPOCHREALTIME
  "$@" >/dev/null 2>&1 || { echo "$c ($tool) failed: $*" >&2; "$@" >&2 || true; return 1; }
  t1=$EPOCHREALTIME
  add "$c" "$tool" "$(echo "$t1 - $t0" | bc -l)"
}
for tool in "${TOOLS[@]}"; do # a warm-up each, untimed (page cache, deno's module cache)
  for c in ps images; do "t_$tool" "$c" >/dev/null; done
  "t_$tool" exec fp-1 true
  "t_$tool" run --rm ${NONET[$tool]} bench:1 true
done
for ((r = 0; r < ROUNDS; r++)); do
  for ((k = 0; k < ${#TOOLS[@]}; k++)); do
    tool=${TOOLS[(r + k) % ${#TOOLS[@]}]}
    timed ps "$tool" "t_$tool" ps
    timed images "$tool" "t_$tool" images
    timed exec "$tool" "t_$tool" exec fp-1 true
    # shellcheck disable=SC2086
    timed run "$tool" "t_$tool" run --rm ${NONET[$tool]} bench:1 true
  done
done

# --- Table --------------------------------------------------------------------------------
mb() { echo "scale=1; $1 / 1024" | bc -l | sed 's/^\./0./; s/^-\./-0./'; }
ratio_or_na() { if [ "$(echo "$2 > 0" | bc -l)" = 1 ]; then echo "$(ratio "$1" "$2")x"; else echo "n/a"; fi; }
row() { # row LABEL KIND(mem|time) CASE
  local b d p
  b=$(med "$3" berth) d=$(med "$3" docker) p=$(med "$3" podman)
  if [ "$2" = mem ]; then
    printf '| %s | %s MB | %s MB | %s MB | %s | %s |\n' "$1" "$(mb "$b")" "$(mb "$d")" "$(mb "$p")" \
      "$(ratio_or_na "$b" "$d")" "$(ratio_or_na "$b" "$p")"
  else
    printf '| %s | %.3f s | %.3f s | %.3f s | %s | %s |\n' "$1" "$b" "$d" "$p" \
      "$(ratio_or_na "$b" "$d")" "$(ratio_or_na "$b" "$p")"
  fi
}
echo
echo "medians of $ROUNDS interleaved rounds; supervisors: docker = dockerd + containerd + shims,"
echo "podman = conmons, berth = the parents of its containers' inits (and their ancestors)"
echo
echo "| case | berth | docker | podman | berth/docker | berth/podman |"
echo "|---|---|---|---|---|---|"
row "$N detached \`sleep\` containers: PSS of everything that supervises them" mem pss
row "one more detached container: PSS added (11th minus 10th total)" mem dpss
row "\`ps\` ($N running, 3 images)" time ps
row "\`images\`" time images
row "\`exec CTR true\`" time exec
row "\`run --rm IMG true\` (docker, podman: \`--network none\`)" time run
echo
for tool in "${TOOLS[@]}"; do
  printf '%-6s %d containers: RSS %s MB, USS %s MB; one more: RSS +%s MB, USS +%s MB\n' "$tool" "$N" \
    "$(mb "$(med rss "$tool")")" "$(mb "$(med uss "$tool")")" \
    "$(mb "$(med drss "$tool")")" "$(mb "$(med duss "$tool")")"
done
echo "(PSS splits a shared page among all its mappers, other processes on the host included;"
echo " USS counts only the pages no other process maps.)"
