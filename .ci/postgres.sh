# Sourced by .ci/run: a throwaway PostgreSQL cluster for the store tests.
# Exports HELPDESK_SYNC_TEST_POSTGRES_URL and CI=1 (tests then fail, not skip, without it).
# The server refuses to run as root, so as root the cluster runs as the `postgres` user.

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/postgres" ]; then
  echo "installing PostgreSQL server (apt-get)" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    sudo apt-get update -qq >/dev/null && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

pg_port=${HELPDESK_SYNC_CI_PG_PORT:-54329}
pg_dir=$(mktemp -d /tmp/helpdesk-sync-pg.XXXXXX)
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$pg_dir" postgres
  chown postgres "$pg_dir"
  as_pg() { su postgres -s /bin/sh -c "$*"; }
else
  as_pg() { sh -c "$*"; }
fi

as_pg "'$pg_bin/initdb' -D '$pg_dir/data' -U postgres --auth=trust -E UTF8 >'$pg_dir/initdb.log' 2>&1" \
  || { cat "$pg_dir/initdb.log" >&2; return 1 2>/dev/null || exit 1; }
as_pg "'$pg_bin/pg_ctl' -D '$pg_dir/data' -o \"-p $pg_port -k /tmp -c listen_addresses=127.0.0.1\" -l '$pg_dir/server.log' -w start >/dev/null" \
  || { cat "$pg_dir/server.log" >&2; return 1 2>/dev/null || exit 1; }
"$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres helpdesk_sync_test

stop_postgres() {
  as_pg "'$pg_bin/pg_ctl' -D '$pg_dir/data' -m fast stop >/dev/null 2>&1"
  rm -rf "$pg_dir"
}
trap stop_postgres EXIT

export HELPDESK_SYNC_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$pg_port/helpdesk_sync_test"
export CI=1
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port for the store tests" >&2
