#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: sourced by scripts/pg-multi.sh and .ci/run.
#
#   source scripts/pg-cluster.sh; pg_cluster_start   # sets PG_ADMIN_URL, PG_PORT, PG_DIR
#   pg_cluster_stop                                  # also run on EXIT by the caller's trap
#
# Installs Debian's postgresql when no server is found (apt-get, as root). The cluster
# lives in a temporary folder, belongs to the `postgres` user (initdb refuses root),
# listens only on 127.0.0.1 on a free port, trusts local connections, and is removed
# when stopped. Returns 1 (and says why) when PostgreSQL cannot be had.

pg_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null)
        if [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
    fi
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
    return 1
}

pg_install() {
    local missing=""
    command -v python3 >/dev/null 2>&1 || missing="$missing python3"
    command -v curl >/dev/null 2>&1 || missing="$missing curl"
    pg_bindir >/dev/null || missing="$missing postgresql"
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "pg-cluster: missing$missing and this is not root: cannot apt-get install it" >&2
        return 1
    fi
    echo "pg-cluster: installing$missing from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    (apt-get update -qq && apt-get install -y -qq $missing >/dev/null) >&2 || return 1
    pg_bindir >/dev/null
}

# Runs a command as the cluster's owner.
pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        su postgres -s /bin/sh -c "$*"
    else
        sh -c "$*"
    fi
}

pg_cluster_start() {
    pg_install || return 1
    PG_BIN=$(pg_bindir) || return 1
    PG_DIR=$(mktemp -d /tmp/sourcing-pg.XXXXXX)
    chmod 755 "$PG_DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres "$PG_DIR"; fi
    PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    pg_as_owner "'$PG_BIN/initdb' -D '$PG_DIR/data' -U postgres -A trust --no-sync >'$PG_DIR/initdb.log' 2>&1" || {
        echo "pg-cluster: initdb failed:" >&2; cat "$PG_DIR/initdb.log" >&2; return 1; }
    pg_as_owner "'$PG_BIN/pg_ctl' -D '$PG_DIR/data' -l '$PG_DIR/server.log' -w -t 60 \
        -o \"-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$PG_DIR' -c max_connections=200\" start >/dev/null" || {
        echo "pg-cluster: the server did not start:" >&2; cat "$PG_DIR/server.log" >&2; return 1; }
    PG_ADMIN_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
    export PG_BIN PG_DIR PG_PORT PG_ADMIN_URL
    echo "pg-cluster: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR)" >&2
}

# Creates a database and prints its URL.
pg_createdb() {
    "$PG_BIN/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE $1" >/dev/null &&
        echo "postgres://postgres@127.0.0.1:$PG_PORT/$1"
}

pg_cluster_stop() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
        pg_as_owner "'$PG_BIN/pg_ctl' -D '$PG_DIR/data' -m immediate stop >/dev/null 2>&1" || true
    fi
    if [ -n "${PG_DIR:-}" ]; then rm -rf "$PG_DIR"; fi
    PG_DIR=
}
