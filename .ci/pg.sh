#!/usr/bin/env bash
# PostgreSQL for the tests: install the server from the system packages when it is
# missing, and start/stop a throwaway cluster on 127.0.0.1 as an unprivileged user.
#
#   .ci/pg.sh install       idempotent, quiet; says so (exit 0) when it cannot install
#   .ci/pg.sh start DIR     initdb into DIR, start on a free port; prints the connection string
#   .ci/pg.sh stop DIR      stop that cluster and remove DIR
#
# The cluster trusts local connections on 127.0.0.1 (a test database, no password);
# with fsync off: it holds nothing worth keeping.
set -euo pipefail

bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

as_owner() {  # run as the cluster's owner: postgres refuses to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

case "${1:-}" in
  install)
    if bindir >/dev/null; then exit 0; fi
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null 2>&1 || true
      apt-get install -y -qq postgresql >/dev/null 2>&1 || true
    fi
    bindir >/dev/null || echo "note: PostgreSQL could not be installed; the PostgreSQL tests will be skipped"
    ;;
  start)
    dir="${2:?usage: pg.sh start DIR}"
    bin="$(bindir)" || { echo "PostgreSQL server binaries not found (run .ci/pg.sh install)" >&2; exit 2; }
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown nobody "$dir"; fi
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_owner "$bin/initdb" -D "$dir/data" -U rp --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=100" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://rp@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir="${2:?usage: pg.sh stop DIR}"
    bin="$(bindir)" || exit 0
    if [ -d "$dir/data" ]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 install | start DIR | stop DIR" >&2
    exit 2
    ;;
esac
