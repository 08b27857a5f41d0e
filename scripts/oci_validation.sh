#!/usr/bin/env bash
# Runs the OCI runtime-tools validation programs against `berth runtime` and,
# side by side, runc; prints one line per program and exits 1 when berth fails
# a program that runc passes on this machine.
#
#   scripts/oci_validation.sh RUNTIME_TOOLS_DIR [PROGRAM...]
#
# RUNTIME_TOOLS_DIR is a checkout of github.com/opencontainers/runtime-tools
# (its cmd/runtimetest and validation/); Debian's
# golang-github-opencontainers-runtime-tools-dev ships only the library
# packages, not these. Builds offline with the checkout's vendor/ when it has
# one, else in GOPATH mode against Debian's golang-*-dev packages. Needs go,
# busybox (static) and root; runc is optional (without it the runc column is
# "-"). A program passes as under `prove`: exit 0, a plan, and no "not ok"
# outside a TODO.
set -euo pipefail

src=$(cd "${1:?usage: $0 RUNTIME_TOOLS_DIR [PROGRAM...]}" && pwd)
shift
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /var/tmp/berth-oci-validation.XXXXXX)
before=$(mktemp)
ls -d /tmp/ocitest* /tmp/oci-pid* 2>/dev/null | sort >"$before" || true
# The cgroup programs use /cgrouptest and testdir/cgrouptest/container; runc
# leaves testdir/cgrouptest behind.
cgroups_before=$(ls -d /sys/fs/cgroup/*/testdir /sys/fs/cgroup/testdir 2>/dev/null || true)

cleanup() {
  set +e
  # Bundles the programs left in /tmp (and mounts runc leaves there when a spec
  # has no mount namespace): only those this run made.
  local now
  now=$(ls -d /tmp/ocitest* /tmp/oci-pid* 2>/dev/null | sort || true)
  comm -13 "$before" <(echo "$now") | while read -r dir; do
    [ -n "$dir" ] || continue
    grep -F " $dir" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do
      umount -l "$m" 2>/dev/null || true
    done
    rm -rf "$dir"
  done
  rm -f "$before"
  for dir in /sys/fs/cgroup/*/testdir /sys/fs/cgroup/testdir; do
    [ -d "$dir" ] && ! grep -qxF "$dir" <<<"$cgroups_before" || continue
    find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Build runtimetest (static: it runs inside a busybox rootfs) and the programs.
export CGO_ENABLED=0 GOCACHE="$work/gocache"
if [ -d "$src/vendor" ]; then
  build() { (cd "$src" && GOFLAGS=-mod=vendor go build -o "$1" "./$2"); }
else
  gopath="$work/gopath"
  mkdir -p "$gopath/src/github.com/opencontainers"
  ln -s "$src" "$gopath/src/github.com/opencontainers/runtime-tools"
  build() {
    (cd "$gopath/src/github.com/opencontainers/runtime-tools" &&
      GO111MODULE=off GOPATH="$gopath:${GOPATH:+$GOPATH:}/usr/share/gocode" go build -o "$1" "./$2")
  }
fi
mkdir -p "$work/bin" "$work/run"
build "$work/run/runtimetest" cmd/runtimetest
programs=("$@")
if [ ${#programs[@]} -eq 0 ]; then
  for d in "$src"/validation/*/; do
    n=$(basename "$d")
    [ "$n" != util ] && [ -f "$d/$n.go" ] && programs+=("$n")
  done
fi
for n in "${programs[@]}"; do
  build "$work/bin/$n" "validation/$n" || echo "$n: build failed" >&2
done

# The programs unpack rootfs-<arch>.tar.gz from their working directory into each bundle.
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,dev,proc,sys,tmp,etc,root}
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
tar -czf "$work/run/rootfs-$(go env GOARCH).tar.gz" -C "$rootfs" .

cat >"$work/berth-runtime" <<EOF
#!/bin/sh
exec deno run -A --quiet "$repo/main.ts" runtime "\$@"
EOF
chmod +x "$work/berth-runtime"

verdict() { # runtime program -> PASS or FAIL
  local out rc=0
  out=$(cd "$work/run" && RUNTIME="$1" timeout 300 "$work/bin/$2" 2>"$work/$2.$(basename "$1").err") || rc=$?
  echo "$out" >"$work/$2.$(basename "$1").tap"
  if [ $rc -eq 0 ] && echo "$out" | grep -qE '^1\.\.[0-9]+' &&
    ! echo "$out" | grep -E '^not ok' | grep -qv '# TODO'; then
    echo PASS
  else
    echo FAIL
  fi
}

status=0
printf '%-36s %-5s %s\n' program runc berth
for n in "${programs[@]}"; do
  [ -x "$work/bin/$n" ] || continue
  r=-
  command -v runc >/dev/null && r=$(verdict runc "$n")
  b=$(verdict "$work/berth-runtime" "$n")
  printf '%-36s %-5s %s\n' "$n" "$r" "$b"
  if [ "$r" = PASS ] && [ "$b" != PASS ]; then
    status=1
    sed 's/^/    /' "$work/$n.berth-runtime.err" | head -n 5
  fi
done
exit $status
