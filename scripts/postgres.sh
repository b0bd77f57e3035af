#!/usr/bin/env bash
# A PostgreSQL server of its own on loopback, for development, tests and benchmarks. It is a separate
# cluster (own data dir and port) rather than Debian's `main` cluster, so the script behaves the same
# on a fresh CI machine, on a laptop that already runs PostgreSQL on 5432, and when run as root
# (the server then runs as the `postgres` user, which initdb requires).
#
#   scripts/postgres.sh install   apt-get install postgresql when no server binaries are found
#   scripts/postgres.sh start     install if needed, initdb once, start, create role and database `helios`
#   scripts/postgres.sh stop      fast shutdown (waits)
#   scripts/postgres.sh kill9     SIGKILL the server and its backends (fault tests); `start` recovers
#   scripts/postgres.sh restart   stop + start
#   scripts/postgres.sh status    exit 0 when the server accepts connections, 1 otherwise
#   scripts/postgres.sh url       print the connection URL for the `helios` database
#   scripts/postgres.sh psql ...  psql as superuser into the `helios` database
#   scripts/postgres.sh clean     stop and delete the cluster
#
# Variables (defaults in brackets):
#   PG_PORT [5433]                       TCP port on 127.0.0.1
#   PG_STATE_DIR [/var/tmp/helios-postgres-<port>]  data dir, socket, log (outside $HOME: the
#                                        postgres user must be able to reach it when we run as root)
#   PG_VERSION [newest installed]        major version under /usr/lib/postgresql
#   PG_SHARED_BUFFERS [512MB]
#   PG_START_TIMEOUT [60]                seconds `start` waits for the server
set -euo pipefail

PORT="${PG_PORT:-5433}"
STATE_DIR="${PG_STATE_DIR:-/var/tmp/helios-postgres-$PORT}"
DATA_DIR="$STATE_DIR/data"
LOG_FILE="$STATE_DIR/postgres.log"
SHARED_BUFFERS="${PG_SHARED_BUFFERS:-512MB}"
START_TIMEOUT="${PG_START_TIMEOUT:-60}"
DB_USER=helios
DB_PASSWORD=helios
DB_NAME=helios

say() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

bin_dir() {
  local version="${PG_VERSION:-}"
  if [[ -z "$version" ]]; then
    version="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1 || true)"
  fi
  [[ -n "$version" && -x "/usr/lib/postgresql/$version/bin/pg_ctl" ]] || return 1
  printf '%s\n' "/usr/lib/postgresql/$version/bin"
}

# The server refuses to run as root; everything touching the data dir runs as its owner.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    # From /, which the postgres user can read (the caller's directory may not be).
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

superuser() {
  if [[ "$(id -u)" == 0 ]]; then printf 'postgres\n'; else id -un; fi
}

cmd_install() {
  if bin_dir >/dev/null; then
    say "server binaries present in $(bin_dir)"
    return 0
  fi
  [[ "$(id -u)" == 0 ]] || die "PostgreSQL is not installed and installing needs root (apt-get install postgresql)"
  say "installing postgresql with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y postgresql
  bin_dir >/dev/null || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/pg_ctl was found"
}

is_up() {
  local bin
  bin="$(bin_dir)" || return 1
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2
}

init_cluster() {
  local bin="$1"
  [[ -f "$DATA_DIR/PG_VERSION" ]] && return 0
  say "initdb in $DATA_DIR"
  mkdir -p "$STATE_DIR"
  if [[ "$(id -u)" == 0 ]]; then chown postgres:postgres "$STATE_DIR"; fi
  chmod 700 "$STATE_DIR"
  # Local socket: trust, so this script can create roles; TCP: password (what the application uses).
  as_owner "$bin/initdb" -D "$DATA_DIR" -U "$(superuser)" --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >>"$DATA_DIR/postgresql.conf" <<EOF

# helios scripts/postgres.sh
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$STATE_DIR'
shared_buffers = $SHARED_BUFFERS
max_connections = 200
max_wal_size = 4GB
logging_collector = off
EOF
}

cmd_start() {
  cmd_install
  local bin
  bin="$(bin_dir)"
  init_cluster "$bin"
  if is_up; then
    say "already running on 127.0.0.1:$PORT"
  else
    # A SIGKILLed server leaves postmaster.pid behind; pg_ctl detects a stale one and starts anyway.
    as_owner "$bin/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -w -t "$START_TIMEOUT" start >/dev/null \
      || { tail -n 30 "$LOG_FILE" >&2 || true; die "server did not start"; }
    say "running on 127.0.0.1:$PORT (log $LOG_FILE)"
  fi
  local psql=("$bin/psql" -h "$STATE_DIR" -p "$PORT" -U "$(superuser)" -v ON_ERROR_STOP=1 -qAt)
  if [[ "$(as_owner "${psql[@]}" -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" != 1 ]]; then
    as_owner "${psql[@]}" -d postgres -c "CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD'"
  fi
  if [[ "$(as_owner "${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]]; then
    as_owner "${psql[@]}" -d postgres -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
  fi
}

cmd_stop() {
  local bin
  bin="$(bin_dir)" || die "PostgreSQL is not installed"
  if [[ ! -f "$DATA_DIR/postmaster.pid" ]]; then
    say "not running"
    return 0
  fi
  as_owner "$bin/pg_ctl" -D "$DATA_DIR" -m fast -w -t "$START_TIMEOUT" stop >/dev/null || true
  say "stopped"
}

cmd_kill9() {
  local pid_file="$DATA_DIR/postmaster.pid"
  [[ -f "$pid_file" ]] || { say "not running"; return 0; }
  local pid children
  pid="$(head -n 1 "$pid_file")"
  if ! kill -0 "$pid" 2>/dev/null; then
    say "not running (stale pid file)"
    return 0
  fi
  # Kill the postmaster and its backends together, as a crash would; otherwise orphaned backends keep
  # the shared memory segment and the next start refuses to run.
  children="$(pgrep -P "$pid" || true)"
  # shellcheck disable=SC2086
  kill -9 "$pid" $children 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  say "killed postmaster $pid"
}

cmd_status() {
  if is_up; then
    say "running on 127.0.0.1:$PORT"
  else
    say "not running"
    return 1
  fi
}

cmd_url() {
  printf 'postgres://%s:%s@127.0.0.1:%s/%s\n' "$DB_USER" "$DB_PASSWORD" "$PORT" "$DB_NAME"
}

cmd_psql() {
  local bin
  bin="$(bin_dir)" || die "PostgreSQL is not installed"
  as_owner "$bin/psql" -h "$STATE_DIR" -p "$PORT" -U "$(superuser)" -d "$DB_NAME" "$@"
}

cmd_clean() {
  cmd_stop || true
  rm -rf "$STATE_DIR"
  say "removed $STATE_DIR"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  kill9) cmd_kill9 ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  url) cmd_url ;;
  psql) shift; cmd_psql "$@" ;;
  clean) cmd_clean ;;
  *) die "usage: $0 install|start|stop|kill9|restart|status|url|psql|clean" ;;
esac
