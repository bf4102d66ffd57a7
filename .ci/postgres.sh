# shellcheck shell=bash
# Sourced by .ci/run: start a throwaway PostgreSQL cluster for tests/store.
#
# Why: the state store must behave the same on SQLite and PostgreSQL (several replicas
# will share one PostgreSQL), so CI runs the store tests on both. This script installs the
# server with apt-get when it is missing, initdb's a cluster in a temporary directory,
# starts it on 127.0.0.1 (port 54329, or the next free one), creates a role and a
# database, exports HELPDESK_SYNC_TEST_POSTGRES_URL and CI, and stops and deletes the
# cluster when the calling shell exits. The server refuses to run as root, so as root it
# runs as the `postgres` OS user; a non-root user without sudo runs it as itself.
#
# Usage: `. .ci/postgres.sh` (also handy by hand: `bash -c '. .ci/postgres.sh; env | grep
# HELPDESK_SYNC_TEST; pytest tests/store'`).

hs_pg_log() { printf '[postgres.sh] %s\n' "$*" >&2; }

hs_pg_bindir() {
    # Newest installed server's bin directory, or nothing.
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$d" ] && [ -x "$d/postgres" ]; then printf '%s\n' "$d"; fi
}

hs_pg_install() {
    # Install the server with apt-get (quietly); root or passwordless sudo needed.
    local sudo=()
    if [ "$(id -u)" != 0 ]; then
        if sudo -n true 2>/dev/null; then sudo=(sudo -n); else
            hs_pg_log "PostgreSQL server missing and no root/sudo to install it"
            return 1
        fi
    fi
    hs_pg_log "installing PostgreSQL with apt-get"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends postgresql >/dev/null
}

hs_pg_port_free() {
    # True when nothing listens on 127.0.0.1:$1.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

hs_pg_start() {
    local bindir port as=() owner pass
    bindir=$(hs_pg_bindir)
    if [ -z "$bindir" ]; then
        hs_pg_install || return 1
        bindir=$(hs_pg_bindir)
        [ -n "$bindir" ] || { hs_pg_log "no server binaries after install"; return 1; }
    fi

    # Who runs the server: never root.
    if [ "$(id -u)" = 0 ]; then
        owner=postgres
        id -u postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
        as=(runuser -u postgres --)
    elif id -u postgres >/dev/null 2>&1 && sudo -n -u postgres true 2>/dev/null; then
        owner=postgres
        as=(sudo -n -u postgres --)
    else
        owner=$(id -un)
    fi

    HS_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/hs-pg.XXXXXX")
    chmod 700 "$HS_PG_DIR"
    [ "$owner" = "$(id -un)" ] || chown "$owner" "$HS_PG_DIR" 2>/dev/null \
        || sudo -n chown "$owner" "$HS_PG_DIR"

    port=${HS_PG_PORT:-54329}
    while ! hs_pg_port_free "$port"; do
        port=$((port + 1))
        if [ "$port" -gt $((${HS_PG_PORT:-54329} + 20)) ]; then
            hs_pg_log "no free port near ${HS_PG_PORT:-54329}"
            return 1
        fi
    done

    pass=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$pass" >"$HS_PG_DIR/pwfile.tmp"
    [ "$owner" = "$(id -un)" ] || chown "$owner" "$HS_PG_DIR/pwfile.tmp" 2>/dev/null \
        || sudo -n chown "$owner" "$HS_PG_DIR/pwfile.tmp"

    # Local socket: trust (setup only); TCP: password, as the tests and the daemon connect.
    "${as[@]}" "$bindir/initdb" -D "$HS_PG_DIR/data" -U postgres --pwfile="$HS_PG_DIR/pwfile.tmp" \
        -E UTF8 --no-locale --auth-local=trust --auth-host=scram-sha-256 >"$HS_PG_DIR/initdb.log" 2>&1 \
        || { cat "$HS_PG_DIR/initdb.log" >&2; return 1; }
    rm -f "$HS_PG_DIR/pwfile.tmp"

    HS_PG_CTL=("${as[@]}" "$bindir/pg_ctl" -D "$HS_PG_DIR/data")
    # fsync off: a throwaway cluster, speed over durability.
    if ! "${HS_PG_CTL[@]}" \
        -o "-p $port -k $HS_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
        -l "$HS_PG_DIR/server.log" start -w -t 60 >/dev/null; then
        hs_pg_log "server did not start; log:"
        cat "$HS_PG_DIR/server.log" >&2
        return 1
    fi

    "${as[@]}" "$bindir/psql" -h "$HS_PG_DIR" -p "$port" -U postgres -d postgres -qAt \
        -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE ROLE helpdesk_sync LOGIN PASSWORD '$pass';
CREATE DATABASE helpdesk_sync_test OWNER helpdesk_sync;
SQL

    export HELPDESK_SYNC_TEST_POSTGRES_URL="postgresql+psycopg://helpdesk_sync:$pass@127.0.0.1:$port/helpdesk_sync_test"
    export CI="${CI:-1}"
    hs_pg_log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($HS_PG_DIR)"
}

hs_pg_stop() {
    # Stop and delete the throwaway cluster (EXIT trap).
    if [ -n "${HS_PG_DIR:-}" ] && [ -d "$HS_PG_DIR" ]; then
        if [ -f "$HS_PG_DIR/data/postmaster.pid" ]; then
            "${HS_PG_CTL[@]}" stop -m immediate -w >/dev/null 2>&1 || true
        fi
        rm -rf "$HS_PG_DIR" 2>/dev/null || sudo -n rm -rf "$HS_PG_DIR" 2>/dev/null || true
    fi
}

trap hs_pg_stop EXIT
hs_pg_start
