"""Why the window cannot open on this machine's display, in one sentence.

Used only after Qt has failed to start any platform plugin (see
:mod:`hookadmin.ui.qt_start`), so nothing here costs the window's start: the display
Qt was given is looked at again (``DISPLAY``: the X server's socket;
``WAYLAND_DISPLAY``: the compositor's socket under ``$XDG_RUNTIME_DIR``) to tell a
display nobody serves from one that answers but that Qt could not use."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from typing import NamedTuple

X_SOCKET_DIR = "/tmp/.X11-unix"  # noqa: S108 - where every X server keeps its socket
COMMAND_LINE = "use the command line, e.g. `hookadmin hooks list`"
# [protocol/][host]:display[.screen], as libxcb reads DISPLAY.
_X_DISPLAY = re.compile(r"^(?:(?P<protocol>[^/:]*)/)?(?P<host>[^:]*):(?P<number>\d+)(?:\.\d+)?$")


class XDisplay(NamedTuple):
    """A parsed ``DISPLAY``: ``host`` ("" or "unix" for this machine's socket) and
    the display ``number`` (the N of ``/tmp/.X11-unix/XN``)."""

    host: str
    number: int

    @property
    def local(self) -> bool:
        """True when the display is served through this machine's Unix socket."""
        return self.host in ("", "unix")


def parse_x_display(value: str) -> XDisplay | None:
    """``DISPLAY`` (``:1``, ``:1.0``, ``unix:1``, ``host:1``, ``tcp/host:1``) as an
    :class:`XDisplay`; None for a form this does not know (left to Qt)."""
    match = _X_DISPLAY.match(value)
    if match is None:
        return None
    host = match["host"]
    if match["protocol"] == "unix":
        host = "unix"
    return XDisplay(host, int(match["number"]))


def accepts(address: str) -> bool:
    """True when a Unix stream socket at ``address`` (a path, or a name in Linux's
    abstract namespace when it starts with NUL) accepts a connection; the connection
    is closed at once. Never raises."""
    import socket  # only on the failure path: not paid by a window that starts

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(address)
        except OSError:
            return False
    return True


def x_server_answers(display: XDisplay) -> bool:
    """True when a local X display's socket accepts a connection: the abstract
    ``\\0/tmp/.X11-unix/XN`` (Linux) or the file ``/tmp/.X11-unix/XN``."""
    path = f"{X_SOCKET_DIR}/X{display.number}"
    return accepts("\0" + path) or accepts(path)


def wayland_socket(environ: Mapping[str, str]) -> str | None:
    """The compositor's socket Qt's Wayland plugin connects to: ``WAYLAND_DISPLAY``
    itself when absolute, else under ``$XDG_RUNTIME_DIR`` (``wayland-0`` when unset);
    None without ``XDG_RUNTIME_DIR``."""
    name = environ.get("WAYLAND_DISPLAY") or "wayland-0"
    if os.path.isabs(name):
        return name
    runtime = environ.get("XDG_RUNTIME_DIR")
    return os.path.join(runtime, name) if runtime else None


def platforms(environ: Mapping[str, str]) -> list[str]:
    """The platform plugins Qt tried: ``QT_QPA_PLATFORM`` when set (``a;b``, each
    without its ``:options``), else Wayland when ``WAYLAND_DISPLAY`` is set or the
    session is a Wayland one, then X (Qt 6's order on Linux)."""
    given = environ.get("QT_QPA_PLATFORM")
    if given:
        return [item.split(":", 1)[0] for item in given.split(";") if item]
    tried = []
    if environ.get("WAYLAND_DISPLAY") or environ.get("XDG_SESSION_TYPE") == "wayland":
        tried.append("wayland")
    return [*tried, "xcb"]


def unusable_display(environ: Mapping[str, str], qt_said: str,
                     system: str = sys.platform) -> str:
    """One sentence (no ``hookadmin:`` prefix, no newline) saying why Qt could not
    open the window and what to do. ``qt_said``: Qt's first warning of the failed
    start, quoted when the display answers but Qt could not use it. ``system``: a
    ``sys.platform`` value; X and Wayland are looked at on Linux only."""
    quoted = f" (Qt: {qt_said})" if qt_said else ""
    if not system.startswith("linux") and not environ.get("QT_QPA_PLATFORM"):
        return (f"Qt could not start its platform plugin{quoted}; reinstall PySide6 in "
                "hookadmin's environment, or use the command line, e.g. `hookadmin "
                "hooks list`.")
    tried = platforms(environ)
    x_value = environ.get("DISPLAY", "")
    if "xcb" in tried and not x_value and "wayland" not in tried:
        return ("there is no display to open the window on (DISPLAY and WAYLAND_DISPLAY "
                f"are unset); {COMMAND_LINE}, or run it in a desktop session.")
    unreachable: list[str] = []
    answering: list[str] = []
    if "wayland" in tried:
        path = wayland_socket(environ)
        if path is None:
            unreachable.append("the Wayland display (XDG_RUNTIME_DIR is unset)")
        elif accepts(path):
            answering.append(f"the Wayland display {path}")
        else:
            unreachable.append(f"the Wayland display {path} (nothing listens there)")
    if "xcb" in tried and x_value:
        display = parse_x_display(x_value)
        if display is not None and display.local:
            if x_server_answers(display):
                answering.append(f"the X display {x_value}")
            else:
                unreachable.append(f"the X display {x_value} (no X server listens at "
                                   f"{X_SOCKET_DIR}/X{display.number})")
        else:  # a remote display: Qt tried it; not probed again over the network
            unreachable.append(f"the X display {x_value} (Qt could not connect to it)")
    others = [name for name in tried if name not in ("wayland", "xcb")]
    if others:
        return (f"Qt could not start its {' or '.join(others)} platform{quoted}; check "
                "QT_QPA_PLATFORM, or unset it to use the desktop's display.")
    if answering:
        return (f"the window cannot open on {' or '.join(answering)}: it answers, but "
                f"Qt could not use it{quoted}; check that XAUTHORITY lets you use it "
                "and that Qt's system packages are installed (scripts/bootstrap.sh), "
                f"or {COMMAND_LINE}.")
    which = (f"{unreachable[0]} cannot" if len(unreachable) == 1
             else f"neither {' nor '.join(unreachable)} can")
    return (f"the window cannot open: {which} be reached; "
            "start the desktop session or X server, set DISPLAY to one that runs, or "
            f"{COMMAND_LINE}.")
