#!/usr/bin/env bash
# Runs a command with a fresh, unlocked gnome-keyring (Secret Service) on the
# current D-Bus session bus. The keyring lives in a new temporary XDG_DATA_HOME,
# so nothing touches the user's own keyrings. Call it inside dbus-run-session.
set -euo pipefail
: "${DBUS_SESSION_BUS_ADDRESS:?run this inside dbus-run-session}"
tmp=$(mktemp -d -t hookadmin-keyring.XXXXXX)
export XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
printf 'hookadmin-test-login' | gnome-keyring-daemon --foreground --unlock --components=secrets \
  >"$tmp/daemon.log" 2>&1 &
daemon=$!
cleanup() { kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  if dbus-send --session --dest=org.freedesktop.DBus --type=method_call --print-reply \
      /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets \
      2>/dev/null | grep -q 'boolean true'; then
    break
  fi
  sleep 0.1
done
# The tests check before each keyring test that this daemon is still alive.
export HOOKADMIN_TEST_SECRET_SERVICE=1 HOOKADMIN_TEST_KEYRING_PID="$daemon"
"$@"
