#!/usr/bin/env bash
# Makes examples/demo.sqlite again: the test bed's legacy cases, built by a real legacy
# heat-engine on MariaDB (heat-engine cannot run on SQLite), copied into a SQLite Heat
# database made by `heat-manage db_sync`.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bash "$top/tests/bed/setup.sh" >/dev/null
py="$top/target/heat-venv/bin/python"
drv="$top/tests/bed/heatbed.py"
src="mysql+pymysql://heatconv:heatconv@127.0.0.1:3306/hc_demo_$$?charset=utf8"
work="$top/target/heatbed/demo-$$"
trap '"$py" "$drv" dropdb "$src" >/dev/null 2>&1 || true' EXIT
export PYTHONWARNINGS=ignore
"$py" "$drv" createdb "$src" >/dev/null
"$py" "$drv" build "$src" "$work" >/dev/null
rm -f "$top/examples/demo.sqlite"
mkdir -p "$top/examples"
"$py" "$drv" copy "$src" "sqlite:///$top/examples/demo.sqlite" >/dev/null
echo "examples/demo.sqlite: $(sqlite3 "$top/examples/demo.sqlite" 'select count(*) from stack where owner_id is null and deleted_at is null' 2>/dev/null || echo '?') live root stacks"
