#!/usr/bin/env bash
# The release matrix: every openstack-heat release still in the field (the newest patch
# of each major from 20.0, 2023.1) builds the bed's legacy stacks with its own engine,
# converts a copy with its own conversion logic, and heat-converge must write the same
# rows (tests/releases.rs). Slow (a virtualenv per release, ~1 min of install each the
# first time, then ~1-2 min of test each), so not part of every `cargo test`.
#
#   bash tests/bed/release-matrix.sh            # every release below
#   bash tests/bed/release-matrix.sh 20.0.1     # some of them
#
# A release whose virtualenv cannot be built is reported with pip's error and counts as
# a failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
releases=(20.0.1 21.0.1 22.0.1 23.0.0 24.1.2 25.0.2 26.0.2 27.0.1)
[ $# -gt 0 ] && releases=("$@")

bash tests/bed/setup.sh >/dev/null || exit 1
ready=()
broken=()
for v in "${releases[@]}"; do
  if bash tests/bed/setup-release.sh "$v" >/dev/null; then
    ready+=("$v")
  else
    broken+=("$v")
  fi
done
rc=0
if [ ${#ready[@]} -gt 0 ]; then
  HEAT_RELEASES="${ready[*]}" cargo test --test releases -- --nocapture --test-threads 1 \
    || rc=1
fi
if [ ${#broken[@]} -gt 0 ]; then
  echo "release-matrix: no virtualenv for: ${broken[*]}" >&2
  rc=1
fi
exit $rc
