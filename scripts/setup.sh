#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for berth: Deno (pinned, from npm when
# it is missing or another version), conmon (the monitor of detached
# containers) and the Debian packages the tests use.
# Run as root. Safe to run again.
set -euo pipefail

DENO_VERSION=2.9.6
PACKAGES=(conmon nftables busybox-static file tini gcc libc6-dev keyutils libcap2-bin golang-github-containers-common skopeo umoci podman docker.io docker-registry openssl iproute2 iptables ca-certificates bc isal)

need_apt=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$p")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # docker-registry's package starts a service where systemd runs; tests start their own.
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! command -v deno >/dev/null 2>&1 || [ "$(deno --version | head -n1 | cut -d' ' -f2)" != "$DENO_VERSION" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    apt-get install -y -qq nodejs npm >/dev/null
  fi
  echo "setup: installing deno $DENO_VERSION from npm" >&2
  npm install -g --silent "deno@$DENO_VERSION" >/dev/null
fi
deno --version | head -n1 >&2
# Fetch the pinned npm dependencies once (deno.lock is committed).
cd "$(dirname "$0")/.."
deno install --frozen >/dev/null 2>&1 || deno cache --frozen main.ts >/dev/null
