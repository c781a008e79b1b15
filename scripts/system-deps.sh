#!/usr/bin/env bash
# System packages the test suite needs beyond Python and npm: PostgreSQL's server binaries (the store
# is tested against a throwaway PostgreSQL too) and Debian's chromium (the dashboard is tested in a
# real browser through Playwright, without a browser download), Debian's nats-server (the scale-out
# roles are tested against a real JetStream broker), plus Node.js/npm when absent.
# Idempotent: installs only what is missing; sudo only when not root. `make test` and `.ci/run` call it.
set -euo pipefail

missing=()
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
command -v chromium >/dev/null || missing+=(chromium)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "error: the tests need these system packages: ${missing[*]} (PostgreSQL server binaries," \
       "chromium, nats-server 2.9+, Node.js 18+ with npm); install them with your package manager" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: installing ${missing[*]} needs root or sudo" >&2; exit 1; }
  SUDO="sudo"
fi
echo "installing system packages: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
