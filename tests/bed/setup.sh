#!/usr/bin/env bash
# Prepares everything the test bed needs on a fresh machine; safe to run again.
#  - a virtualenv with the real Heat (cached under target/heat-venv, rebuilt only when the
#    pinned requirements change);
#  - the database users the tests use over TCP (MariaDB's root only works over the socket);
#  - services that may have stopped are started again.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
venv="$top/target/heat-venv"
req="$top/tests/bed/requirements.txt"
stamp="$venv/.requirements.sha"
want=$(sha256sum "$req" | cut -d' ' -f1)

if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: building the Heat virtualenv in $venv (a few minutes, once)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -r "$req"
  echo "$want" > "$stamp"
fi

# Ansible, for the test of the README's pipeline task (tests/ansible.rs).
avenv="$top/target/ansible-venv"
areq="$top/tests/ansible/requirements.txt"
awant=$(sha256sum "$areq" | cut -d' ' -f1)
if [ ! -x "$avenv/bin/ansible-playbook" ] || [ "$(cat "$avenv/.requirements.sha" 2>/dev/null)" != "$awant" ]; then
  echo "setup: building the Ansible virtualenv in $avenv"
  rm -rf "$avenv"
  python3 -m venv "$avenv"
  "$avenv/bin/pip" install --quiet -r "$areq"
  echo "$awant" > "$avenv/.requirements.sha"
fi

# Galera (tests/galera.rs starts its own cluster): the galera-4 provider, and rsync for the
# joiners' state transfer (wsrep_sst_rsync comes with mariadb-server).
if [ ! -e /usr/lib/galera/libgalera_smm.so ] || ! command -v rsync >/dev/null 2>&1 || [ ! -x /usr/bin/time ]; then
  echo "setup: installing galera-4 and rsync"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq galera-4 rsync time >/dev/null
fi

# Services: start any that is not answering (the commands this machine kind documents).
if ! mariadb -uroot -e 'select 1' >/dev/null 2>&1; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 30); do mariadb -uroot -e 'select 1' >/dev/null 2>&1 && break; sleep 1; done
fi
if ! psql -h 127.0.0.1 -U postgres -c 'select 1' >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
if ! rabbitmqctl -q status >/dev/null 2>&1; then
  rabbitmq-server -detached || true
  rabbitmqctl wait --timeout 60 /var/lib/rabbitmq/mnesia/rabbit@$(hostname -s).pid >/dev/null 2>&1 || sleep 10
fi

# The test user: creates and drops its own databases, over TCP.
mariadb -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'heatconv'@'127.0.0.1' IDENTIFIED BY 'heatconv';
CREATE USER IF NOT EXISTS 'heatconv'@'localhost' IDENTIFIED BY 'heatconv';
GRANT ALL PRIVILEGES ON *.* TO 'heatconv'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'heatconv'@'localhost' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
psql -q -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'heatconv') THEN
    CREATE ROLE heatconv LOGIN CREATEDB PASSWORD 'heatconv';
  END IF;
END $$;
SQL
echo "setup: ready (venv $venv, users heatconv on MariaDB and PostgreSQL)"
