#!/usr/bin/env bash
# The scale benchmark of issue 11 (README, "Benchmark"): heat-converge, Heat's own logic
# and the database floor on identical N-root Heat databases, per backend.
#
#   bash bench/bench.sh [N...]          default N: 1000 10000 100000
#   BACKENDS="sqlite mariadb postgresql"    the default: all three
#   HEAT_MAX_N=1000                         Heat's logic runs up to this N (extrapolated above)
#   HEATBED_KEEP=1                          keep the databases
#
# Prints a Markdown table, also written to target/bench/results.md (raw figures in
# target/bench/results.json); exits 1 when the contenders' rows disagree or one fails.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/tests/bed/setup.sh" >/dev/null
(cd "$top" && cargo build --release --quiet)
export PYTHONWARNINGS=ignore
exec "$top/target/heat-venv/bin/python" "$top/bench/bench.py" run "$@"
