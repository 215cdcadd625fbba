#!/usr/bin/env bash
# Installs what hookadmin needs on a Debian/Ubuntu machine with Python 3.11+:
# the missing system packages for Qt and the Secret Service keyring (when run as
# root, or with sudo available) and a virtualenv in .venv with hookadmin itself.
# The test profile also installs PostgreSQL, for scripts/with-test-postgres.sh.
# Usage: scripts/bootstrap.sh [app|test]     (test also installs the test tools)
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-app}"

pkgs=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
      libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0
      libxcb-image0 libfontconfig1 libdbus-1-3 dbus gnome-keyring python3-venv)
if [ "$profile" = test ]; then
  pkgs+=(xvfb xauth xdotool openssl curl postgresql)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "hookadmin: missing system packages (${missing[*]}); install them with apt-get as root and run this again." >&2
    exit 1
  fi
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "hookadmin needs Python 3.11 or newer; $("$python" --version 2>&1) was found. Set PYTHON=/path/to/python3.11 and run this again." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
hash=$(sha256sum pyproject.toml | cut -c1-16)
stamp=".venv/.hookadmin-$profile-$hash"
# The test install includes everything the app needs.
if [ ! -e "$stamp" ] && ! { [ "$profile" = app ] && [ -e ".venv/.hookadmin-test-$hash" ]; }; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -U pip
  if [ "$profile" = test ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
  else
    .venv/bin/python -m pip install -q --disable-pip-version-check -e .
  fi
  touch "$stamp"
fi
