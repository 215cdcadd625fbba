#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL cluster: initdb + pg_ctl in a new
# temporary folder, listening on 127.0.0.1 on a free port (and on a unix socket in
# that folder), with password authentication over TCP. The command gets
#   HOOKADMIN_TEST_POSTGRES_URL=postgresql://postgres:PASSWORD@127.0.0.1:PORT/postgres
# (a superuser; the tests create and drop a database of their own per test). The
# cluster is stopped and its folder removed when the command ends, fails or is
# interrupted. Run as root, the cluster runs as the `postgres` user (PostgreSQL
# refuses to run as root). Usage: scripts/with-test-postgres.sh CMD [ARG...]
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: scripts/with-test-postgres.sh CMD [ARG...]" >&2
  exit 2
fi

bindir=""
for dir in /usr/lib/postgresql/*/bin; do
  [ -x "$dir/initdb" ] && bindir=$dir  # the glob sorts, so the newest major wins
done
if [ -z "$bindir" ]; then
  echo "hookadmin: no PostgreSQL server found in /usr/lib/postgresql/*/bin; install the" \
       "Debian package postgresql (scripts/bootstrap.sh test does) and run this again." >&2
  exit 1
fi

as_owner=()
tmp=$(mktemp -d -t hookadmin-postgres.XXXXXX)
if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    rm -rf "$tmp"
    echo "hookadmin: PostgreSQL refuses to run as root and there is no postgres user;" \
         "install the Debian package postgresql or run this as another user." >&2
    exit 1
  fi
  chown postgres: "$tmp"
  as_owner=(runuser -u postgres --)
fi

data="$tmp/data" sock="$tmp/sock" log="$tmp/server.log"
started=""
cleanup() {
  if [ -n "$started" ]; then
    "${as_owner[@]}" "$bindir/pg_ctl" stop -D "$data" -m immediate -w -s >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$password" >"$tmp/pwfile"
chmod 600 "$tmp/pwfile"
[ "${#as_owner[@]}" -eq 0 ] || chown postgres: "$tmp/pwfile"
"${as_owner[@]}" mkdir -m 700 "$sock"
if ! "${as_owner[@]}" "$bindir/initdb" -D "$data" -U postgres --pwfile="$tmp/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync \
    >"$tmp/initdb.log" 2>&1; then
  cat "$tmp/initdb.log" >&2
  echo "hookadmin: initdb failed (its output is above)." >&2
  exit 1
fi
rm -f "$tmp/pwfile"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# A throw-away cluster: durability is not wanted, speed is.
for try in 1 2 3 4 5; do
  port=$(free_port)
  started=1
  if "${as_owner[@]}" "$bindir/pg_ctl" start -D "$data" -l "$log" -w -t 60 -s \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$sock \
          -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
          -c max_connections=200" >/dev/null 2>&1; then
    break
  fi
  started=""
  if [ "$try" -eq 5 ]; then
    cat "$log" >&2 || true
    echo "hookadmin: the test PostgreSQL server did not start (its log is above)." >&2
    exit 1
  fi
done

export HOOKADMIN_TEST_POSTGRES_URL="postgresql://postgres:$password@127.0.0.1:$port/postgres"
"$@"
