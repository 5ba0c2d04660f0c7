#!/usr/bin/env bash
# System packages the test suite needs beyond `npm ci`: Debian's Chromium for the report's
# browser tests (driven headless through playwright-core) and Debian's redis-server for the
# cluster tests (a throwaway server per test file). Idempotent; uses sudo when not root.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing Debian ${missing[*]} for the tests…" >&2
$SUDO apt-get update -qq
# policy-rc.d-less containers: the package's own service may fail to start; the tests start their own servers.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
for pkg in "${missing[@]}"; do
  case "$pkg" in
    chromium) /usr/bin/chromium --version >&2 ;;
    redis-server) /usr/bin/redis-server --version >&2 ;;
  esac
done
