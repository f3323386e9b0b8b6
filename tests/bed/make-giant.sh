#!/usr/bin/env bash
# Makes examples/giant.sqlite again: the giant tree's source for the scale benchmark
# (tests/templates/giant-cases.yaml: a root whose ResourceGroup holds 3 provider stacks,
# and the same tree at 6 members, what widening the first to 6 must give), built by a
# real legacy heat-engine on MariaDB (heat-engine cannot run on SQLite), copied into a
# SQLite Heat database made by `heat-manage db_sync`.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bash "$top/tests/bed/setup.sh" >/dev/null
py="$top/target/heat-venv/bin/python"
drv="$top/tests/bed/heatbed.py"
src="mysql+pymysql://heatconv:heatconv@127.0.0.1:3306/hc_giant_$$?charset=utf8"
work="$top/target/heatbed/giant-$$"
trap '"$py" "$drv" dropdb "$src" >/dev/null 2>&1 || true' EXIT
export PYTHONWARNINGS=ignore
"$py" "$drv" createdb "$src" >/dev/null
"$py" "$drv" build "$src" "$work" --cases giant-cases.yaml >/dev/null
rm -f "$top/examples/giant.sqlite"
mkdir -p "$top/examples"
"$py" "$drv" copy "$src" "sqlite:///$top/examples/giant.sqlite" >/dev/null
echo "examples/giant.sqlite: $(sqlite3 "$top/examples/giant.sqlite" 'select count(*) from stack' 2>/dev/null || echo '?') stacks"
