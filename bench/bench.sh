#!/usr/bin/env bash
# The scale benchmark of issue 11 (README, "Benchmark"): heat-converge, Heat's own logic
# and the database floor on identical N-root Heat databases, per backend, and on the giant
# tree of issue 20 (one root, a ResourceGroup of GIANT provider stacks).
#
#   bash bench/bench.sh [N...] [giant]  default: N = 1000 10000 100000 and the giant tree;
#                                       given arguments, only what they name
#   BACKENDS="sqlite mariadb postgresql"    the default: all three
#   HEAT_MAX_N=1000                         Heat's logic runs up to this N (extrapolated above)
#   GIANT=5000                              the giant tree's members (0: leave it out)
#   GIANT_HEAT_MAX=500                      Heat's logic on giant trees up to this wide (a
#                                           second tree this wide when GIANT is larger)
#   HEATBED_KEEP=1                          keep the databases
#   BENCH_BIN=path                          measure that build of heat-converge instead
#
# Prints a Markdown table, also written to target/bench/results.md (raw figures in
# target/bench/results.json); exits 1 when the contenders' rows disagree or one fails.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/tests/bed/setup.sh" >/dev/null
(cd "$top" && cargo build --release --quiet)
export PYTHONWARNINGS=ignore
exec "$top/target/heat-venv/bin/python" "$top/bench/bench.py" run "$@"
