# Shared by the benchmarks: timing with medians, ratios, a busybox rootfs.
# Sourced, not run.

BERTH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNS=${RUNS:-5}

# BERTH_BIN (a command, split on spaces) runs another berth: a compiled binary, or a snapshot
# of the tree while others edit this one (git archive HEAD | tar -x -C DIR; BERTH_BIN="deno
# run -A --quiet DIR/main.ts").
if [ -n "${BERTH_BIN:-}" ]; then
  read -r -a _berth_cmd <<<"$BERTH_BIN"
  berth() { "${_berth_cmd[@]}" "$@"; }
else
  berth() { deno run -A --quiet "$BERTH_REPO/main.ts" "$@"; }
fi

# now: seconds since the epoch with nanoseconds
now() { date +%s.%N; }

# time_runs LABEL SETUP_FN CMD...: runs SETUP_FN (untimed) then CMD, RUNS times;
# prints the label and the median seconds; leaves the median in $MEDIAN.
time_runs() {
  local label=$1 setup=$2; shift 2
  local times=() i t0 t1
  for ((i = 0; i < RUNS; i++)); do
    "$setup"
    sync
    t0=$(now)
    "$@" >/dev/null 2>&1 || { echo "$label: command failed: $*" >&2; "$@" >&2 || true; return 1; }
    t1=$(now)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  MEDIAN=$(median "${times[@]}")
  printf '%-28s median %7.3f s  (runs: %s)\n' "$label" "$MEDIAN" "$(printf '%.3f ' "${times[@]}")"
}

# median NUMBER...: the median of the numbers
median() {
  printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

# ratio A B: A/B with 2 decimals (0.45, not bc's .45)
ratio() { printf '%.2f\n' "$(echo "scale=4; $1 / $2" | bc -l)"; }

noop() { :; }

ensure_packages() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# Unmounts everything mounted under DIR (podman leaves its overlay store
# mounted at DIR/.../overlay), deepest first.
unmount_under() {
  awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}

# remove_tree DIR: unmounts what is under DIR and deletes it. Retried for a few seconds: a
# podman container's exit command (`podman container cleanup`, run by its conmon after
# `rm -f`) can mount podman's store again just after the first unmount.
remove_tree() {
  local i
  for ((i = 0; i < 50; i++)); do
    unmount_under "$1"
    rm -rf "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  unmount_under "$1"
  rm -rf "$1"
}
