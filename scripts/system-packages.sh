#!/usr/bin/env bash
# Installs Debian packages when they are missing: the ones named as arguments,
# or by default every package the tests use.
# As root it runs apt-get; otherwise it prints the exact command and fails.
# The names are Debian 12's (PostgreSQL 15 and its pgTAP and pg_cron builds): on another
# system it stops and says to use a debian:12 container, as CI does, rather than fail in apt.
set -euo pipefail

os_release="${OS_RELEASE:-/etc/os-release}"
distro="$( . "$os_release" 2>/dev/null && echo "${ID:-unknown} ${VERSION_ID:-}" || echo "unknown")"
if [ "$distro" != "debian 12" ]; then
  echo "scripts/system-packages.sh installs Debian 12 packages, and this system is '${distro}' ($os_release)." >&2
  echo "Run the tests in a Debian 12 container instead, as CI does: docker run --rm -it -v \"\$PWD:/src\" -w /src debian:12" >&2
  exit 1
fi

test_packages=(
  postgresql-15          # initdb/pg_ctl for the throwaway test clusters
  postgresql-15-pgtap    # pgTAP for the RLS tests
  postgresql-15-cron     # pg_cron, preloaded by the test clusters: the job that keeps ops_audit partitions ahead
  libtap-parser-sourcehandler-pgtap-perl # pg_prove (only a Recommends of postgresql-15-pgtap)
  postgresql-server-dev-15 # PGXS: the test clusters build their pg-safeupdate stand-in (tests/support/safeupdate)
  gcc                    # compiles that stand-in
  make                   # runs its PGXS build
  prometheus             # promtool: check and unit-test the generated rules
  prometheus-alertmanager # amtool: check the routing tree
  chromium               # headless rendering test of the access report
  nodejs                 # node --test for the Auth0 Action
)
if [ $# -gt 0 ]; then packages=("$@"); else packages=("${test_packages[@]}"); fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}" >&2
  echo "run as root: apt-get update && $cmd" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$cmd >/dev/null
