"""Shared helpers for the hand-run benchmarks in this folder (not a benchmark itself).

* :class:`Nginx`: a private nginx (one worker, ``return 204``, no access log, high
  ``keepalive_requests``) on a free 127.0.0.1 port, started with ``nginx -c CONF -p
  PREFIX`` from a temporary folder and stopped at the end.
* :func:`require_keyring`: the engine reads hook secrets from the OS keyring, so every
  benchmark that runs it must be started under the test keyring like the tests are.
* :class:`CpuMeter`: CPU seconds used by this process, nginx and the whole machine
  during a phase; on a shared, noisy 2-core machine "CPU µs per request" is steadier
  than wall-clock req/s, and the machine's busy cores show how much others took.
* :func:`job_bodies`: the real fixture ``job-completed.json`` with distinct ids.
* :func:`machine_info`, :func:`print_table`, :func:`emit`: the report.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from hookadmin.delivery.bookkeeping import MODULE as BOOKKEEPING_MODULE
from hookadmin.delivery.policy import DeliverySettings

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
FIXTURES = REPO / "tests" / "fixtures"
JOB_FIXTURE = FIXTURES / "job-completed.json"
JOB_FIXTURE_ID = b'"id": 48213,'

NGINX_HINT = ("nginx is not installed: install it with `apt-get install -y nginx-light` "
              "(as root), then run this benchmark again.")


def keyring_hint(script: str) -> str:
    """The one line that says how to start a benchmark under the test keyring."""
    return ("the engine needs the OS keyring: run this benchmark under the test keyring, "
            "from the repository root: dbus-run-session -- scripts/with-test-keyring.sh "
            f".venv/bin/python benchmarks/{script}")


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so ``with``/``finally`` blocks still stop the nginx,
    receivers and workers a benchmark started."""
    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)


def log(message: str) -> None:
    """Progress goes to stderr, so ``--json`` output on stdout stays clean."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- prerequisites -------------------------------------------------------------------------

def require_keyring(script: str) -> None:
    """Exit with one clear line unless a usable Secret Service keyring is reachable."""
    from hookadmin.core.errors import SecretStoreError
    from hookadmin.core.secrets import SecretStore

    try:
        SecretStore("benchmark-probe").check()
    except SecretStoreError as err:
        print(f"{script}: {keyring_hint(script)} ({err})", file=sys.stderr)
        raise SystemExit(2) from None
    if os.environ.get("HOOKADMIN_TEST_SECRET_SERVICE") != "1":
        print(f"{script}: warning: not under scripts/with-test-keyring.sh; hook secrets go into "
              "the keyring of this session", file=sys.stderr)


class ReadCounter:
    """How often, and how long, the engine went to the keyring: ``reads`` (one per
    single read, one per bulk read of many secrets), ``secrets`` read in all,
    ``seconds`` spent and the ``slowest`` read."""

    def __init__(self) -> None:
        self.reads = 0
        self.secrets = 0
        self.seconds = 0.0
        self.slowest = 0.0

    def note(self, took: float, secrets: int) -> None:
        self.reads += 1
        self.secrets += secrets
        self.seconds += took
        self.slowest = max(self.slowest, took)


def keyring_daemon_pids() -> list[int]:
    """gnome-keyring-daemon processes started beside this one by
    scripts/with-test-keyring.sh (children of our parent), to count their CPU."""
    out = []
    for pid in child_pids(os.getppid()):
        try:
            if Path(f"/proc/{pid}/comm").read_text().startswith("gnome-keyring"):
                out.append(pid)
        except OSError:
            continue
    return out


def counting_secret_store(home: Path) -> tuple[Any, ReadCounter]:
    """The engine's default secret store for ``home`` (the OS keyring), counting reads."""
    from hookadmin.core.secrets import SecretStore
    from hookadmin.core.store import Store

    class CountingSecretStore(SecretStore):
        def get_optional(self, hook_id: int, *, previous: bool = False,
                         options: bool = False) -> str | None:
            t = time.perf_counter()
            try:
                return super().get_optional(hook_id, previous=previous, options=options)
            finally:
                counter.note(time.perf_counter() - t, 1)

        def get_many(self, hook_ids: Sequence[int], *,
                     on_found: Callable[[int, str], None] | None = None) -> dict[int, str]:
            t = time.perf_counter()
            found: dict[int, str] = {}
            try:
                found = super().get_many(hook_ids, on_found=on_found)
                return found
            finally:
                counter.note(time.perf_counter() - t, len(found))

    with Store.in_home(home) as store:
        store_id, parents = store.store_id, store.parent_store_ids
    counter = ReadCounter()
    return CountingSecretStore(store_id, parent_ids=parents), counter


def nginx_binary() -> str:
    """The nginx executable, or exit with the install instruction."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)
    if found is None:
        print(NGINX_HINT, file=sys.stderr)
        raise SystemExit(2)
    return found


# -- ports and processes -------------------------------------------------------------------

def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0, proc: subprocess.Popen[Any] | None = None) -> None:
    """Wait until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (its own, not its children's), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            out.append(int(entry.name))
    return out


def bookkeeper_pids(pid: int) -> list[int]:
    """The engines' bookkeeping processes among a process's descendants."""
    found = []
    for child in descendant_pids(pid):
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if BOOKKEEPING_MODULE.encode() in argv:
            found.append(child)
    return found


def descendant_pids(pid: int, *, exclude: Sequence[int] = ()) -> list[int]:
    """Children, grandchildren, ... of a process, leaving out ``exclude`` and theirs
    (e.g. an engine's bookkeeping process, but not the nginx the benchmark started)."""
    out: list[int] = []
    todo = [c for c in child_pids(pid) if c not in exclude]
    while todo:
        child = todo.pop()
        out.append(child)
        todo += [c for c in child_pids(child) if c not in exclude]
    return out


def stop_process(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM,
                 timeout: float = 10.0) -> None:
    """Signal a process we started and wait for it (kill it if it will not go)."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def python_script(name: str) -> list[str]:
    """argv to run another file of this folder with the current interpreter."""
    return [sys.executable, str(BENCH_DIR / name)]


def start_receiver(mode: str) -> tuple[subprocess.Popen[str], int]:
    """Start ``receivers.py MODE`` in its own process; returns it and its port."""
    proc = subprocess.Popen([*python_script("receivers.py"), mode], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.isdigit():
        stop_process(proc)
        raise RuntimeError(f"the {mode} receiver did not start (printed {line!r})")
    port = int(line)
    wait_port(port, proc=proc)
    log(f"{mode} receiver listening on 127.0.0.1:{port} (pid {proc.pid})")
    return proc, port


def start_worker(home: Path, stderr_path: Path) -> subprocess.Popen[bytes]:
    """Start ``hookadmin worker`` (this interpreter, ``-m hookadmin``) on ``home``; its
    per-attempt log lines go to ``stderr_path``."""
    env = dict(os.environ, HOOKADMIN_HOME=str(home))
    with stderr_path.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "hookadmin", "worker"], cwd=REPO, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    log(f"hookadmin worker started (pid {proc.pid})")
    return proc


def proc_status_kb(pid: int, key: str) -> int | None:
    """A ``kB`` field of /proc/PID/status (VmRSS, VmHWM, ...), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# -- nginx ---------------------------------------------------------------------------------

NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 8192;
}}
http {{
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    client_body_buffer_size 64k;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            return 204;
        }}
    }}
}}
"""


class Nginx:
    """A private nginx answering 204 to everything, on a free 127.0.0.1 port.

    Use as a context manager; ``url(path)`` gives a URL on it; ``cpu_seconds()`` the CPU
    used so far by its master and worker.
    """

    def __init__(self) -> None:
        self.binary = nginx_binary()
        self.port = 0
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Nginx:
        self._tmp = tempfile.TemporaryDirectory(prefix="hookadmin-bench-nginx-")
        prefix = Path(self._tmp.name)
        os.chmod(prefix, 0o755)
        self.port = free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=prefix, port=self.port))
        self._proc = subprocess.Popen(
            [self.binary, "-c", str(conf), "-p", str(prefix), "-e", str(prefix / "error.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_port(self.port, proc=self._proc)
        except RuntimeError:
            err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
            self.__exit__()
            raise RuntimeError(f"nginx did not start: {err.strip()}") from None
        log(f"nginx {self.version()} listening on 127.0.0.1:{self.port} (pid {self._proc.pid})")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            stop_process(self._proc, signal.SIGQUIT)
            self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def pids(self) -> list[int]:
        if self._proc is None:
            return []
        return [self._proc.pid, *child_pids(self._proc.pid)]

    def cpu_seconds(self) -> float:
        return sum(proc_cpu_seconds(p) for p in self.pids())

    def version(self) -> str:
        out = subprocess.run([self.binary, "-v"], capture_output=True, text=True, check=False)
        return (out.stderr or out.stdout).strip().split("/")[-1]


def wrk_ceiling(nginx: Nginx, body: bytes, *, connections: int = 64,
                seconds: float = 3.0) -> float | None:
    """Requests/s wrk (C, one thread) gets from this nginx with the same POST body, or
    None when wrk is not installed."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    with tempfile.TemporaryDirectory(prefix="hookadmin-bench-wrk-") as tmp:
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(body)
        script = Path(tmp) / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'local f = io.open("{body_file}", "rb")\nwrk.body = f:read("*a")\nf:close()\n')
        out = subprocess.run(
            [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script),
             nginx.url("/hook/1")], capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    log(f"wrk gave no figure: {out.stdout.strip()} {out.stderr.strip()}")
    return None


# -- CPU accounting --------------------------------------------------------------------------

def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    total = sum(parts[:8])
    return total - idle, total


def self_cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


@dataclass
class CpuMeter:
    """CPU used during one phase: this process, nginx, extra pids, and the machine.

    With ``bookkeepers`` set, the CPU of the bookkeeping processes among this process's
    descendants counts as extra too: an in-process engine's bookkeeping process
    (``hookadmin.delivery.bookkeeping``) is part of the engine."""

    nginx: Nginx | None = None
    extra_pids: Sequence[int] = ()
    bookkeepers: bool = False
    wall: float = 0.0
    self_cpu: float = 0.0
    nginx_cpu: float = 0.0
    extra_cpu: float = 0.0
    machine_busy_cores: float = 0.0
    load1_end: float = 0.0
    _start: dict[str, float] = field(default_factory=dict)

    def _sample(self) -> dict[str, float]:
        busy, total = _machine_jiffies()
        extra = sum(proc_cpu_seconds(p) for p in self.extra_pids)
        if self.bookkeepers:
            extra += sum(proc_cpu_seconds(p) for p in bookkeeper_pids(os.getpid()))
        return {"wall": time.perf_counter(), "self": self_cpu_seconds(),
                "nginx": self.nginx.cpu_seconds() if self.nginx else 0.0,
                "extra": extra, "busy": float(busy), "total": float(total)}

    def __enter__(self) -> CpuMeter:
        self._start = self._sample()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._sample()
        s = self._start
        self.wall = end["wall"] - s["wall"]
        self.self_cpu = end["self"] - s["self"]
        self.nginx_cpu = end["nginx"] - s["nginx"]
        self.extra_cpu = end["extra"] - s["extra"]
        jiffies = end["total"] - s["total"]
        ncpu = os.cpu_count() or 1
        self.machine_busy_cores = (end["busy"] - s["busy"]) / jiffies * ncpu if jiffies else 0.0
        self.load1_end = os.getloadavg()[0]

    def as_dict(self, requests: int, *, client_extra: float = 0.0) -> dict[str, Any]:
        """The phase's CPU figures; ``client_extra`` adds CPU of helper processes (e.g.
        a publisher) to the client's share."""
        client = self.self_cpu + self.extra_cpu + client_extra
        ours = client + self.nginx_cpu
        return {
            "client_cpu_s": round(client, 3),
            "nginx_cpu_s": round(self.nginx_cpu, 3),
            "client_cpu_us_per_req": round(client / requests * 1e6, 1) if requests else None,
            "nginx_cpu_us_per_req": round(self.nginx_cpu / requests * 1e6, 1) if requests else None,
            "machine_busy_cores": round(self.machine_busy_cores, 2),
            "others_busy_cores": round(max(0.0, self.machine_busy_cores - ours / self.wall), 2)
            if self.wall else None,
            "load1_end": round(self.load1_end, 2),
        }


# -- inputs ------------------------------------------------------------------------------------

def bare_session(concurrency: int) -> aiohttp.ClientSession:
    """The bare aiohttp loops' session, set up as the engine's
    (:func:`hookadmin.delivery.http.make_session`) is, so a ratio compares the same
    per-request work: ``concurrency`` connections, no cookie jar (``DummyCookieJar``:
    the default jar filters and stores cookies on every request), no proxy from the
    environment, the engine's default timeouts (seconds). Create it on the running
    event loop."""
    settings = DeliverySettings()
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency), trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=settings.attempt_timeout,
                                      connect=settings.connect_timeout,
                                      sock_connect=settings.connect_timeout))


def job_bodies(count: int, *, first_id: int = 10_000_000) -> list[bytes]:
    """``count`` copies of the real ``job-completed.json`` bytes, each with its own job id
    (the formatting is kept byte for byte; only the top-level id changes)."""
    raw = JOB_FIXTURE.read_bytes()
    if JOB_FIXTURE_ID not in raw:
        raise RuntimeError(f"{JOB_FIXTURE} no longer has {JOB_FIXTURE_ID!r}; update benchlib")
    head, tail = raw.split(JOB_FIXTURE_ID, 1)
    return [b"%s\"id\": %d,%s" % (head, first_id + i, tail) for i in range(count)]


# -- report --------------------------------------------------------------------------------------

def _first_line(path: Path, prefix: str) -> str:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip() if ":" in line else line
    except OSError:
        pass
    return "?"


def git_state() -> dict[str, Any]:
    """The commit the code under test is at, which files outside benchmarks/ differ from
    it, and a fingerprint of hookadmin/*.py as run (the tree is edited by others while
    benchmarks run, so the commit alone does not say what was measured)."""
    def git(*args: str) -> str:
        out = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                             check=False)
        return out.stdout
    changed = [line[3:] for line in git("status", "--porcelain").splitlines()
               if line[3:] and not line[3:].startswith("benchmarks/")]
    digest = hashlib.sha256()
    for path in sorted((REPO / "hookadmin").rglob("*.py")):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "changed_files": changed,
            "hookadmin_sha256": digest.hexdigest()[:12]}


def machine_info() -> dict[str, Any]:
    """nproc, CPU model, memory, Python, OS, library versions, load."""
    from importlib.metadata import version

    mem_kb = int(_first_line(Path("/proc/meminfo"), "MemTotal").split()[0] or 0)
    os_name = "?"
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    libs = {}
    for name in ("httpx", "httpx-aiohttp", "aiohttp", "keyring"):
        try:
            libs[name] = version(name)
        except Exception:  # noqa: BLE001 - a report line, not a failure
            libs[name] = "?"
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _first_line(Path("/proc/cpuinfo"), "model name"),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "os": f"{os_name}, Linux {platform.release()}",
        "sqlite": __import__("sqlite3").sqlite_version,
        "libraries": libs,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "git": git_state(),
    }


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain aligned text table on stdout."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                        enumerate(zip(row, widths, strict=True))).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def emit(as_json: str | None, result: dict[str, Any],
         human: Callable[[dict[str, Any]], None]) -> None:
    """Print the result: ``--json`` alone prints JSON on stdout; ``--json FILE`` writes it
    to FILE and prints the human report; without ``--json`` only the human report.

    The hookadmin source is fingerprinted again here: others edit the tree while
    benchmarks run, and a result measured across a change is flagged."""
    start = result.get("machine", {}).get("git", {}).get("hookadmin_sha256")
    end = git_state()
    result["git_at_end"] = end
    result["source_changed_during_run"] = start is not None and start != end["hookadmin_sha256"]
    if result["source_changed_during_run"]:
        log(f"warning: hookadmin's source changed during this run ({start} -> "
            f"{end['hookadmin_sha256']}, commit {end['commit']}); figures may mix versions")
    if as_json == "-":
        print(json.dumps(result, indent=2))
        return
    if as_json:
        Path(as_json).write_text(json.dumps(result, indent=2) + "\n")
    human(result)


def print_machine(info: dict[str, Any], result: dict[str, Any] | None = None) -> None:
    git = info["git"]
    dirty = f", local changes outside benchmarks/: {len(git['changed_files'])} files" \
        if git["changed_files"] else ""
    print(f"machine: {info['nproc']} cores ({info['cpu_model']}), {info['memory_gib']} GiB, "
          f"Python {info['python']}, {info['os']}, SQLite {info['sqlite']}")
    print("libraries: " + ", ".join(f"{k} {v}" for k, v in info["libraries"].items())
          + f"; hookadmin at {git['commit']}{dirty} (source sha256 {git['hookadmin_sha256']});"
          f" load at start {info['loadavg_at_start']}")
    if result and result.get("source_changed_during_run"):
        end = result["git_at_end"]
        print(f"WARNING: hookadmin's source changed during the run (now {end['commit']}, "
              f"source sha256 {end['hookadmin_sha256']}); figures may mix versions")


def ratio(a: float | None, b: float | None) -> float | None:
    if not a or not b:
        return None
    return round(a / b, 3)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list (p in 0..100)."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100.0 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]
