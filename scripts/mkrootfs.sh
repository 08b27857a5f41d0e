#!/usr/bin/env bash
# Builds a tiny busybox rootfs from the host's static busybox (Debian's
# busybox-static) and writes it as a tarball: nothing comes from the internet.
# Usage: scripts/mkrootfs.sh OUT.tar[.gz]
set -euo pipefail
out=${1:?usage: mkrootfs.sh OUT.tar[.gz]}
busybox=$(command -v busybox)
file -L "$busybox" 2>/dev/null | grep -q "statically linked" || {
  echo "mkrootfs: $busybox is not static; install busybox-static" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
mkdir -p "$dir"/{bin,etc,tmp,root,proc,sys,dev,home}
cp "$busybox" "$dir/bin/busybox"
for applet in $("$dir/bin/busybox" --list); do
  [ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
chmod 1777 "$dir/tmp"
case "$out" in
  *.gz) tar --numeric-owner -C "$dir" -czf "$out" . ;;
  *) tar --numeric-owner -C "$dir" -cf "$out" . ;;
esac
