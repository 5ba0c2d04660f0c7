#!/usr/bin/env bash
# System packages the test suite needs beyond `npm ci`: Debian's Chromium for the report's
# browser tests (driven headless through playwright-core). Idempotent; uses sudo when not root.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing Debian chromium for the browser tests…" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version >&2
