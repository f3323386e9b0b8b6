#!/usr/bin/env bash
# What delegating graphs to Heat's Python costs (issue 17; README "Benchmark"): 1,000 roots
# where one in ten needs Heat's own code, against the same database all native, and
# Heat's own conversion, per backend.
#
#   bash bench/bench-plugins.sh [N...]   default N: 1000
#   BACKENDS="sqlite postgresql mariadb"     the default: all three
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/tests/bed/setup.sh" >/dev/null
(cd "$top" && cargo build --release --quiet)
export PYTHONWARNINGS=ignore
cd "$top/bench"
exec "$top/target/heat-venv/bin/python" "$top/bench/bench_plugins.py" "$@"
