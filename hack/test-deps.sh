#!/usr/bin/env bash
# Installs the servers the tests start privately (PostgreSQL, Redis) and the headless browser
# they drive (Chromium) from Debian's packages when they are missing. Tests start their own
# throwaway instances; nothing is left running.
set -euo pipefail

need=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
# The shared knowledge-graph page is tested in a headless browser.
command -v chromium >/dev/null || need+=(chromium)
[[ ${#need[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "the tests need: ${need[*]} (Debian packages); install them or run as root" >&2
  exit 1
fi
echo "[test-deps] installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The packages start system-wide servers; the tests use private ones, so stop these.
for svc in postgresql redis-server; do
  command -v service >/dev/null && service "$svc" stop >/dev/null 2>&1 || true
done
