#!/usr/bin/env bash
# Builds a virtualenv with one released openstack-heat under target/heat-venv-<VERSION>,
# for the release matrix (tests/releases.rs, tests/bed/release-matrix.sh). Safe to run
# again: a venv whose stamp matches is kept. Prints the venv's path on success; on failure
# pip's error is kept in target/heat-venv-<VERSION>.log and shown.
#
# A release only pins lower bounds; today's newest libraries break the older ones (oslo.db
# 14 dropped the sqlalchemy-migrate support Heat 2023.1 imports, SQLAlchemy 2 the legacy
# facade Heat 2023.2 uses). OpenStack's upper-constraints are not reachable from here, so
# the dependencies are taken as PyPI had them when the series' first release candidate
# came out (when its upper-constraints were frozen): pip's --uploaded-prior-to. Heat's own
# wheel (a later patch release) is downloaded first and installed from the file.
#
# 27.0.1 is the release of the main bed (tests/bed/setup.sh builds target/heat-venv with
# today's libraries): asked for it, this script builds that one and prints its path.
set -euo pipefail
version=${1:?usage: setup-release.sh VERSION (e.g. 20.0.1)}
top=$(cd "$(dirname "$0")/../.." && pwd)

if grep -qx "openstack-heat==$version" "$top/tests/bed/requirements.txt"; then
  bash "$top/tests/bed/setup.sh" >&2
  echo "$top/target/heat-venv"
  exit 0
fi

# The day each series' first release candidate reached PyPI.
case ${version%%.*} in
  20) frozen=2023-03-07 ;; # 2023.1 Antelope
  21) frozen=2023-09-21 ;; # 2023.2 Bobcat
  22) frozen=2024-03-14 ;; # 2024.1 Caracal
  23) frozen=2024-09-12 ;; # 2024.2 Dalmatian
  24) frozen=2025-03-14 ;; # 2025.1 Epoxy
  25) frozen=2025-09-15 ;; # 2025.2 Flamingo
  26) frozen=2026-03-17 ;; # 2026.1 Gazpacho
  27) frozen=2026-09-11 ;; # 2026.2
  *) echo "setup-release: no freeze date known for $version" >&2; exit 2 ;;
esac

# Pins the date alone does not give (each from a failure seen here).
pins=()
case ${version%%.*} in
  # 2023.2's db_sync runs alembic on a branched connection (Connection.connect()), which
  # SQLAlchemy 2 removed: "'Connection' object has no attribute 'connect'". Its
  # upper-constraints kept SQLAlchemy 1.4; PyPI had 2.0.21 by its RC.
  21) pins=('SQLAlchemy<2') ;;
esac

venv="$top/target/heat-venv-$version"
log="$top/target/heat-venv-$version.log"
wheels="$top/target/heat-wheels"
want="openstack-heat==$version pymysql psycopg2-binary ${pins[*]:-} uploaded-prior-to=$frozen"
stamp="$venv/.release"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$venv"
  exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv"
fail() {
  echo "setup-release: openstack-heat==$version did not install (see $log):" >&2
  tail -n 20 "$log" >&2
  exit 1
}
{
  # A pip that knows --uploaded-prior-to (26.0 and later).
  "$venv/bin/pip" install --quiet --upgrade 'pip>=26' &&
  "$venv/bin/pip" download --quiet --no-deps -d "$wheels" "openstack-heat==$version" &&
  "$venv/bin/pip" install --quiet --uploaded-prior-to "${frozen}T23:59:59Z" \
    "$wheels/openstack_heat-$version-py3-none-any.whl" pymysql psycopg2-binary "${pins[@]}"
} >"$log" 2>&1 || fail
echo "$want" > "$stamp"
echo "$venv"
