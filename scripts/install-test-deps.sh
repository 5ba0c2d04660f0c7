#!/usr/bin/env bash
# System packages the test suite needs beyond `npm ci`: Debian's Chromium for the report's
# browser tests (driven headless through playwright-core), PostgreSQL's server binaries for
# the tracking store's PostgreSQL tests (each test starts its own throwaway cluster; no system
# cluster is created or started) and Debian's redis-server for the cluster tests (each test file
# starts its own throwaway server). Idempotent; uses sudo when not root.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || packages+=(postgresql)
[ -x /usr/bin/redis-server ] || packages+=(redis-server)
if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
if [[ " ${packages[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
  # The tests bring their own clusters: no default cluster on port 5432.
  $SUDO mkdir -p /etc/postgresql-common
  echo 'create_main_cluster = false' | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
echo "installing Debian ${packages[*]} for the tests…" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
if [ -x /usr/bin/chromium ]; then /usr/bin/chromium --version >&2; fi
if [ -x /usr/bin/redis-server ]; then /usr/bin/redis-server --version >&2; fi
