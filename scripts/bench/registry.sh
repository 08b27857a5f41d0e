#!/usr/bin/env bash
# Push and pull of a ~300 MB one-layer image and a 6-layer image through the
# CNCF distribution registry on 127.0.0.1, berth beside skopeo and podman.
# Each push goes to a fresh registry (so every blob is sent); each pull goes
# into a fresh store, on a loop-mounted ext4 (see PULL_FS below).
# Usage: [PULL_FS=loop|disk] scripts/bench/registry.sh [RUNS]
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
RUNS=${1:-3}
# isal: berth compresses with its igzip when the host has it (else zlib in workers).
ensure_packages podman skopeo docker-registry bc python3 isal e2fsprogs

work=$(mktemp -d /var/tmp/berth-bench-reg.XXXXXX)
reg_pid=""
stop_registry() { if [ -n "$reg_pid" ]; then kill "$reg_pid" 2>/dev/null; wait "$reg_pid" 2>/dev/null || true; reg_pid=""; fi; }
trap 'stop_registry; unmount_under "$work"; rm -rf "$work"' EXIT
PORT=${PORT:-5055}
REG=127.0.0.1:$PORT
fresh_registry() {
  stop_registry
  rm -rf "$work/registry" && mkdir -p "$work/registry"
  cat >"$work/registry.yml" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: $REG}
YML
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  reg_pid=$!
  for _ in $(seq 100); do curl -sf "http://$REG/v2/" >/dev/null && return; sleep 0.05; done
  echo "registry did not start" >&2; return 1
}
export CONTAINERS_CONF="$BERTH_REPO/../shared/bench/podman-containers.conf"
P=(podman --root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay)

python3 "$(dirname "$0")/mkimage.py" "$work/one" one:1 1 /usr/lib/python3.11 /usr/share/doc /usr/share/locale
python3 "$(dirname "$0")/mkimage.py" "$work/six" six:1 6 /usr/lib/python3.11 /usr/share/doc /usr/share/locale

# Pulls land on a fresh ext4 made with mkfs's defaults (with a journal, as
# hosts have it), loop-mounted from a file under $work. This VM's own root is
# ext4 without a journal, where every inode creation scans the inodes freed
# in the last minute (perf: recently_deleted() under __ext4_new_inode, ~30%
# of all samples), so a test run or cleanup nearby makes every tool's
# unpacking kernel-bound for seconds (GNU tar -xzf of the one-layer image:
# ~3.5 s there, ~1.8 s on the loop ext4). PULL_FS=disk pulls onto $work.
pulls="$work"
if [ "${PULL_FS:-loop}" = loop ]; then
  truncate -s 8G "$work/pull.img"
  mkfs.ext4 -q -F "$work/pull.img"
  mkdir "$work/p"
  mount -o loop "$work/pull.img" "$work/p"
  pulls="$work/p"
fi
echo "pulls unpack onto: $(findmnt -n -o FSTYPE,SOURCE -T "$pulls") ($pulls)"

for img in one six; do
  echo "== $img"
  (cd "$work/$img" && tar -cf "$work/$img.tar" .)
  # berth's store holds the gzip layers as they are; a second store holds them uncompressed (docker-archive).
  berth --root "$work/b-$img" load -i "$work/$img.tar" >/dev/null
  berth --root "$work/b-$img" tag "$(berth --root "$work/b-$img" images -q | head -n1)" "$REG/bench/$img:1"
  berth --root "$work/b-$img" save -o "$work/$img-docker.tar" "$REG/bench/$img:1"
  berth --root "$work/u-$img" load -i "$work/$img-docker.tar" >/dev/null
  "${P[@]}" load -i "$work/$img-docker.tar" >/dev/null

  time_runs "skopeo copy (push)" fresh_registry skopeo copy -q --dest-tls-verify=false "oci:$work/$img:$img:1" "docker://$REG/bench/$img:1"; s_push=$MEDIAN
  time_runs "berth push (gzip blobs)" fresh_registry berth --root "$work/b-$img" push "$REG/bench/$img:1"; b_push=$MEDIAN
  # Only the first push compresses: berth keeps the compressed blob, so later runs would not.
  cp -a "$work/u-$img" "$work/u-$img.orig"
  # (Moved aside, not deleted: see the pulls below.)
  mkdir -p "$work/trash"
  reset_u() { fresh_registry; mv "$work/u-$img" "$(mktemp -d "$work/trash/u.XXXXXX")/"; cp -a "$work/u-$img.orig" "$work/u-$img"; }
  time_runs "berth push (compressing)" reset_u berth --root "$work/u-$img" push "$REG/bench/$img:1"; bc_push=$MEDIAN
  time_runs "podman push (compressing)" fresh_registry "${P[@]}" push -q --tls-verify=false "$REG/bench/$img:1"; p_push=$MEDIAN

  fresh_registry
  skopeo copy -q --dest-tls-verify=false "oci:$work/$img:$img:1" "docker://$REG/bench/$img:1"
  # Each pull goes into a fresh directory (a fresh root for berth and podman).
  n=0
  clean_pull() {
    n=$((n + 1))
    unmount_under "$pulls/podman-pull"
    for d in "$pulls/pull-b" "$pulls/pull-s" "$pulls/podman-pull" "$pulls/pod-run"; do
      [ -e "$d" ] || continue
      # On the VM's own disk, deleting a tree just before the next pull would
      # slow that pull's creations (see PULL_FS above): move it aside instead.
      if [ "$pulls" = "$work" ]; then mv "$d" "$work/trash/$(basename "$d")-$img-$n"; else rm -rf "$d"; fi
    done
  }
  podman_pull() {
    podman --root "$pulls/podman-pull" --runroot "$pulls/pod-run" --storage-driver overlay \
      pull -q --tls-verify=false "$REG/bench/$img:1"
  }
  time_runs "skopeo copy (pull, no unpack)" clean_pull skopeo copy -q --src-tls-verify=false "docker://$REG/bench/$img:1" "oci:$pulls/pull-s:x"; s_pull=$MEDIAN
  time_runs "berth pull (with unpack)" clean_pull berth --root "$pulls/pull-b" pull -q "$REG/bench/$img:1"; b_pull=$MEDIAN
  time_runs "podman pull (with unpack)" clean_pull podman_pull; p_pull=$MEDIAN

  echo "berth pull / podman pull:             $(ratio "$b_pull" "$p_pull")x   (target <= 0.5x)"
  echo "berth push compressing / podman push: $(ratio "$bc_push" "$p_push")x   (target <= 0.5x)"
  echo "berth push / skopeo copy (transfer):  $(ratio "$b_push" "$s_push")x   (target <= 1.2x)"
  echo "berth pull / skopeo copy (pull):      $(ratio "$b_pull" "$s_pull")x   (berth also unpacks)"
done
