"""``hookadmin gui`` on a display that cannot be reached says so in one sentence with
exit status 1 (not Qt's abort, status 134); on a real X server (Xvfb) the window opens."""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hookadmin.ui.display_server import XDisplay, parse_x_display, platforms, unusable_display
from tests.helpers import run_cli

START_S = 30.0  # deadline for Xvfb and the window to show


def served(number: int) -> bool:
    """True when something accepts connections on X display ``number``'s socket."""
    for address in (f"\0/tmp/.X11-unix/X{number}", f"/tmp/.X11-unix/X{number}"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            try:
                sock.connect(address)
            except OSError:
                continue
            return True
    return False


def unserved_display() -> str:
    """A local display number nobody serves (no socket file, no abstract socket)."""
    for number in range(4200, 4300):
        if not os.path.exists(f"/tmp/.X11-unix/X{number}") and not served(number):
            return f":{number}"
    raise AssertionError("every X display :4200-:4299 is served; free one and run again")


@contextlib.contextmanager
def running_xvfb(*options: str) -> Iterator[str]:
    """A real X server (Xvfb, with ``options``) on a display number it picks itself;
    yields DISPLAY. Fails the test, saying what to install, without Xvfb."""
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.fail("Xvfb is not installed: run scripts/bootstrap.sh test (it installs "
                    "the xvfb package) and run the tests again")
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([binary, "-displayfd", str(write_end), "-nolisten", "tcp",
                             "-screen", "0", "1024x768x24", *options], pass_fds=(write_end,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], START_S)  # Xvfb writes N when ready
        number = os.read(read_end, 32).decode().strip() if ready else ""
        assert number, f"Xvfb did not start within {START_S} s"
        yield f":{number}"
    finally:
        os.close(read_end)
        proc.terminate()
        proc.wait(timeout=START_S)
        assert proc.stderr is not None
        proc.stderr.close()


@pytest.fixture
def xvfb() -> Iterator[str]:
    """A real X server anyone on this machine may use; yields DISPLAY."""
    with running_xvfb() as display:
        yield display


def gui_env(**values: str | None) -> dict[str, str | None]:
    """The environment of a ``hookadmin gui`` started by a test: no platform chosen
    (Qt picks from DISPLAY/WAYLAND_DISPLAY as on a desktop), then ``values``."""
    base: dict[str, str | None] = {"QT_QPA_PLATFORM": None, "WAYLAND_DISPLAY": None,
                                   "XDG_SESSION_TYPE": None, "DISPLAY": None}
    return {**base, **values}


def one_line(stderr: str) -> str:
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    assert "Qt platform plugin" not in stderr
    return stderr.rstrip("\n")


def test_a_display_nobody_serves_is_one_sentence_and_exit_1(home: Path) -> None:
    display = unserved_display()
    result = run_cli("gui", home=home, env=gui_env(DISPLAY=display))
    assert result.returncode == 1, result.stderr
    line = one_line(result.stderr)
    number = display[1:]
    assert line == (f"hookadmin: the window cannot open: the X display {display} (no X "
                    f"server listens at /tmp/.X11-unix/X{number}) cannot be reached; start "
                    "the desktop session or X server, set DISPLAY to one that runs, or use "
                    "the command line, e.g. `hookadmin hooks list`.")


def test_hookadmin_gui_says_the_same(home: Path) -> None:
    display = unserved_display()
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    proc = subprocess.run([sys.executable, "-c", "import sys; from hookadmin.ui.app import "
                           "main; sys.exit(main())", "--home", str(home)],
                          env={**env, "DISPLAY": display}, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 1
    assert one_line(proc.stderr).startswith(f"hookadmin: the window cannot open: the X "
                                            f"display {display} (no X server listens")


def test_a_wayland_display_nobody_serves_and_no_x_display(home: Path, tmp_path: Path) -> None:
    result = run_cli("gui", home=home, env=gui_env(WAYLAND_DISPLAY="wayland-7",
                                                   XDG_RUNTIME_DIR=str(tmp_path)))
    assert result.returncode == 1, result.stderr
    assert one_line(result.stderr) == (
        f"hookadmin: the window cannot open: the Wayland display {tmp_path}/wayland-7 "
        "(nothing listens there) cannot be reached; start the desktop session or X "
        "server, set DISPLAY to one that runs, or use the command line, e.g. `hookadmin "
        "hooks list`.")


def test_no_display_at_all(home: Path) -> None:
    result = run_cli("gui", home=home, env=gui_env())
    assert result.returncode == 1, result.stderr
    assert one_line(result.stderr) == (
        "hookadmin: there is no display to open the window on (DISPLAY and WAYLAND_DISPLAY "
        "are unset); use the command line, e.g. `hookadmin hooks list`, or run it in a "
        "desktop session.")


def window_opens(home: Path, env: dict[str, str]) -> str:
    """Start ``hookadmin gui`` in ``env``, assert its window is mapped on the X server
    of ``env["DISPLAY"]``, end it; returns its stderr."""
    gui = subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home), "gui"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Blocks until a mapped window of that name exists (the deadline: the timeout).
        found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name",
                                "^hookadmin"], env=env, capture_output=True, text=True,
                               timeout=START_S, check=False)
        assert found.returncode == 0, found.stderr
        assert found.stdout.strip()
        assert gui.poll() is None
    finally:
        gui.send_signal(signal.SIGTERM)
        _, err = gui.communicate(timeout=START_S)
    assert "hookadmin:" not in err, err
    assert "Traceback" not in err
    return err


def desktop_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    return {**env, **values}


def test_the_window_opens_on_a_real_x_server(home: Path, xvfb: str) -> None:
    window_opens(home, desktop_env(DISPLAY=xvfb))


def test_a_stale_wayland_display_falls_back_to_x_with_qt_warning_kept(
        home: Path, xvfb: str, tmp_path: Path) -> None:
    """Qt tries Wayland first, fails, opens the window on X: not refused, and the
    warning Qt gave on the way still reaches stderr."""
    err = window_opens(home, desktop_env(DISPLAY=xvfb, WAYLAND_DISPLAY="wayland-7",
                                         XDG_RUNTIME_DIR=str(tmp_path)))
    assert "wl_display" in err


def test_a_display_that_refuses_us_is_said_so(home: Path, tmp_path: Path) -> None:
    """An X server that answers but wants a cookie this process does not have: exit 1,
    the last line says it answers but could not be used (libX11 writes its own line
    "Authorization required..." to stderr before, outside Qt's messages)."""
    cookies = tmp_path / "cookies"
    subprocess.run(["xauth", "-q", "-f", str(cookies), "add", ":0", ".", "0" * 32],
                   check=True, timeout=START_S, capture_output=True)
    with running_xvfb("-auth", str(cookies)) as display:
        result = run_cli("gui", home=home, env=gui_env(
            DISPLAY=display, XAUTHORITY=str(tmp_path / "no-cookies")))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "Qt platform plugin" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"hookadmin: the window cannot open on the X display {display}: it answers, but "
        f"Qt could not use it (Qt: could not connect to display {display}); check that "
        "XAUTHORITY lets you use it and that Qt's system packages are installed "
        "(scripts/bootstrap.sh), or use the command line, e.g. `hookadmin hooks list`.")


def test_an_explicit_platform_is_left_to_qt(home: Path) -> None:
    """QT_QPA_PLATFORM=offscreen needs no display, whatever DISPLAY says: the
    application object is made as before."""
    code = ("import sys; from hookadmin.ui.qt_start import start_application; "
            "app = start_application(sys.argv); print(app.platformName())")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                               "DISPLAY": unserved_display()}, timeout=60, check=False)
    assert (proc.returncode, proc.stdout.strip()) == (0, "offscreen"), proc.stderr


@pytest.mark.parametrize(("value", "parsed"), [
    (":0", XDisplay("", 0)), (":12.1", XDisplay("", 12)), ("unix:3", XDisplay("unix", 3)),
    ("unix/:4", XDisplay("unix", 4)), ("host.example:10.0", XDisplay("host.example", 10)),
    ("tcp/host:2", XDisplay("host", 2)), ("nonsense", None), (":x", None)])
def test_display_values_are_read_as_libxcb_does(value: str, parsed: XDisplay | None) -> None:
    assert parse_x_display(value) == parsed
    if parsed is not None:
        assert parsed.local == (parsed.host in ("", "unix"))


def test_the_platforms_qt_tries() -> None:
    assert platforms({"DISPLAY": ":0"}) == ["xcb"]
    assert platforms({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}) == ["wayland", "xcb"]
    assert platforms({"XDG_SESSION_TYPE": "wayland"}) == ["wayland", "xcb"]
    assert platforms({"QT_QPA_PLATFORM": "wayland:foo;xcb", "DISPLAY": ":0"}) == [
        "wayland", "xcb"]


def test_other_systems_are_not_told_about_x() -> None:
    sentence = unusable_display({}, "no cocoa", system="darwin")
    assert sentence == ("Qt could not start its platform plugin (Qt: no cocoa); reinstall "
                        "PySide6 in hookadmin's environment, or use the command line, e.g. "
                        "`hookadmin hooks list`.")
    assert "DISPLAY" not in unusable_display({"QT_QPA_PLATFORM": ""}, "", system="win32")
