"""A test webhook receiver: an independent HTTP peer that runs in its own process.

It uses only the standard library (``http.server``), never hookadmin's code, so what
it records is what really went over the wire.

Server side (run as a process)::

    python tests/receiver.py --log FILE [--behaviour JSON] [--secrets-file FILE]

* binds ``127.0.0.1`` on a free port and prints that port, alone, as the first line
  of standard output;
* appends one JSON object per request to ``--log`` (JSON Lines), written when the
  request has been read and *before* the answer (so a request that is still being
  answered, e.g. during a delay, is already visible);
* recomputes ``HMAC-SHA256(key=secret.encode("ascii"), msg=raw body bytes)`` for every
  secret in ``--secrets-file`` (a JSON object ``{label: secret}``, re-read on every
  request so secrets can be added after start) and records which labels match the
  ``X-Hook-Signature`` header exactly (64 lowercase hex characters), and which match
  the Standard Webhooks ``webhook-signature`` header;
* answers as ``--behaviour`` says (see :func:`step_for`).

Behaviour (a JSON object; every key optional)::

    {"status": 200,                  # the HTTP status
     "headers": {"Location": "..."}, # extra response headers
     "body": "text",                 # the response body (default {"ok": true})
     "body_size": 100000,            # instead of "body": this many bytes of PATTERN
     "delay": 0.0,                   # seconds to wait before answering
     "script": [{...}, {...}]}       # request i (0-based) uses script[i] over the
                                     # defaults above; later requests the defaults

Faults (also per request, through ``script``); each replaces the normal answer and
ends the connection::

    {"hang": true}                   # read and log the request, never answer; the
                                     # handler ends when the client hangs up
    {"raw": "HTTP/1.1 200 OK\\r\\n",  # send these bytes (latin-1) verbatim
     "then": "reset"}                # then "reset" (RST: SO_LINGER 0), "close" (FIN)
                                     # or "hang" (until the client hangs up)
    {"stream_size": 50000000}        # 200 with Content-Length and that many bytes of
                                     # PATTERN, written in pieces (never held whole)
    {"endless": true}                # 200, chunked, PATTERN chunks until the client
                                     # hangs up
    {"drip": [1.0, 2]}               # 200 with a huge Content-Length, then 2 bytes of
                                     # PATTERN every 1.0 s until the client hangs up

``--port N`` binds that port instead of a free one (to bring a receiver back where a
stopped one listened).

``--cert FILE --key FILE`` serve HTTPS instead of HTTP with that PEM certificate chain
and key (the TLS handshake of each connection runs in its handler thread; a client
that rejects the certificate leaves no request in the log). ``--client-ca FILE``
requires every client to present a certificate signed by that CA (mTLS): a client
without one leaves no request in the log either.

Client side (used by the ``make_receiver`` fixture in ``tests/conftest.py``):
:class:`Receiver` starts the process and reads its log back as
:class:`ReceivedRequest` objects.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import selectors
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PATTERN = b"0123456789abcdef"
DEFAULT_BODY = '{"ok": true}'


# -- behaviours ---------------------------------------------------------------------------

def ok() -> dict[str, Any]:
    """Always 200 with a small JSON body."""
    return {}


def status(code: int, **headers: str) -> dict[str, Any]:
    """Always ``code`` (with extra response headers, e.g. ``Location=...``)."""
    return {"status": code, "headers": dict(headers), "body": json.dumps({"status": code})}


def delay(seconds: float) -> dict[str, Any]:
    """Wait ``seconds`` before answering 200."""
    return {"delay": seconds}


def fail_first(n: int, code: int = 500) -> dict[str, Any]:
    """Answer the first ``n`` requests with ``code``, then 200."""
    return {"script": [{"status": code, "body": json.dumps({"error": code})}] * n}


def big_body(size: int) -> dict[str, Any]:
    """200 with a body of ``size`` bytes of :data:`PATTERN` (see :func:`pattern_bytes`)."""
    return {"body_size": size}


def never_answer() -> dict[str, Any]:
    """Read and log the request, then never answer (until the client hangs up)."""
    return {"hang": True}


def raw(data: str, then: str = "reset") -> dict[str, Any]:
    """Send ``data`` (latin-1 text, e.g. a status line and some headers) verbatim, then
    ``then``: ``reset`` (close with RST), ``close`` (normal close) or ``hang``."""
    return {"raw": data, "then": then}


def stream_body(size: int) -> dict[str, Any]:
    """200 with ``Content-Length: size`` and ``size`` bytes of :data:`PATTERN`, written
    in pieces so even a huge body costs the receiver no memory."""
    return {"stream_size": size}


def endless_body() -> dict[str, Any]:
    """200 with a chunked body of :data:`PATTERN` chunks that never ends."""
    return {"endless": True}


def drip(interval: float, size: int = 1) -> dict[str, Any]:
    """200 with a huge ``Content-Length``, then ``size`` bytes every ``interval`` seconds,
    never finishing."""
    return {"drip": [interval, size]}


def pattern_bytes(size: int) -> bytes:
    """The first ``size`` bytes of :data:`PATTERN` repeated (what ``body_size`` sends)."""
    return (PATTERN * (size // len(PATTERN) + 1))[:size]


def step_for(behaviour: dict[str, Any], index: int) -> dict[str, Any]:
    """The answer to request number ``index`` (0-based): ``status``, ``headers``,
    ``body`` (bytes) and ``delay`` (seconds), plus ``fault``: None for a normal answer,
    else the fault's behaviour keys (see the module docstring)."""
    step = {k: v for k, v in behaviour.items() if k != "script"}
    script = behaviour.get("script") or []
    if index < len(script):
        step.update(script[index])
    if "body_size" in step:
        body = pattern_bytes(int(step["body_size"]))
    else:
        body = str(step.get("body", DEFAULT_BODY)).encode("utf-8")
    fault = {k: step[k] for k in FAULT_KEYS if k in step} or None
    if fault is not None and "raw" in fault:
        fault.setdefault("then", step.get("then", "reset"))
    return {"status": int(step.get("status", 200)), "headers": dict(step.get("headers", {})),
            "body": body, "delay": float(step.get("delay", 0.0)), "fault": fault}


FAULT_KEYS = ("hang", "raw", "stream_size", "endless", "drip")
PIECE = PATTERN * 4096  # 64 KiB


def _wait_for_hang_up(sock: socket.socket) -> None:
    """Block until the peer closes the connection (whatever it still sends is dropped)."""
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass


# -- the server ---------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, log_path: Path, behaviour: dict[str, Any],
                 secrets_path: Path | None, port: int = 0,
                 tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.log_path = log_path
        self.behaviour = behaviour
        self.secrets_path = secrets_path
        self.lock = threading.Lock()
        self.count = 0
        self.tls = tls

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.tls is not None:  # handshake later, in the handler thread
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ssl.SSLError | ConnectionError):
            return  # a client that refused our certificate or hung up in the handshake
        super().handle_error(request, client_address)

    def secrets(self) -> dict[str, str]:
        if self.secrets_path is None or not self.secrets_path.exists():
            return {}
        return dict(json.loads(self.secrets_path.read_text("utf-8")))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10.0)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._read_body()
        with self.server.lock:
            index = self.server.count
            self.server.count += 1
        step = step_for(self.server.behaviour, index)
        record = {
            "index": index,
            "received_at": time.time(),
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_b64": base64.b64encode(body).decode("ascii"),
            **_verify(self.headers, body, self.server.secrets()),
            "response_status": step["status"],
        }
        with self.server.lock, self.server.log_path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
            log.flush()
        if step["delay"]:
            time.sleep(step["delay"])
        if step["fault"] is not None:
            self._fault(step["fault"], step)
            return
        self.send_response(step["status"])
        headers = {"Content-Type": "application/json", **step["headers"]}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(step["body"])))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(step["body"])

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    def _fault(self, fault: dict[str, Any], step: dict[str, Any]) -> None:
        """Answer badly, as ``fault`` says; the connection is never reused afterwards."""
        self.close_connection = True
        sock = self.connection
        try:
            if fault.get("hang"):
                _wait_for_hang_up(sock)
            elif "raw" in fault:
                sock.sendall(str(fault["raw"]).encode("latin-1"))
                if fault["then"] == "reset":
                    self._reset()
                elif fault["then"] == "hang":
                    _wait_for_hang_up(sock)
            elif "stream_size" in fault:
                size = int(fault["stream_size"])
                sock.sendall(self._head(step["status"], {"Content-Length": str(size)}))
                while size > 0:
                    piece = PIECE[:size]
                    sock.sendall(piece)
                    size -= len(piece)
            elif fault.get("endless"):
                sock.sendall(self._head(step["status"], {"Transfer-Encoding": "chunked"}))
                chunk = f"{len(PIECE):x}\r\n".encode("ascii") + PIECE + b"\r\n"
                while True:
                    sock.sendall(chunk)
            elif "drip" in fault:
                interval, size = float(fault["drip"][0]), int(fault["drip"][1])
                sock.sendall(self._head(step["status"], {"Content-Length": str(10**12)}))
                sent = 0
                while True:
                    sock.sendall(pattern_bytes(sent + size)[sent:])
                    sent += size
                    time.sleep(interval)
        except OSError:
            pass  # the client hung up: that is how these answers end

    def _head(self, code: int, headers: dict[str, str]) -> bytes:
        lines = [f"HTTP/1.1 {code} {self.responses.get(code, ('',))[0]}",
                 "Content-Type: application/octet-stream",
                 *(f"{k}: {v}" for k, v in headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _reset(self) -> None:
        """Close the connection with a TCP RST (SO_LINGER on, 0 s) instead of a FIN."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        # Every file object on the socket must go before the descriptor really closes.
        self.rfile.close()
        self.wfile.close()
        self.connection.close()


def _verify(headers: Any, body: bytes, secrets: dict[str, str]) -> dict[str, Any]:
    """Recompute both signatures over the raw ``body`` for every known secret."""
    given = headers.get("X-Hook-Signature")
    verified_by = []
    expected = {}
    for label, secret in secrets.items():
        digest = hmac.new(secret.encode("ascii"), body, hashlib.sha256).hexdigest()
        expected[label] = digest
        if given is not None and hmac.compare_digest(digest, given):
            verified_by.append(label)
    standard_by = []
    msg_id, stamp = headers.get("webhook-id"), headers.get("webhook-timestamp")
    std_given = (headers.get("webhook-signature") or "").split()
    if msg_id is not None and stamp is not None:
        signed = f"{msg_id}.{stamp}.".encode() + body
        for label, secret in secrets.items():
            # What a Standard Webhooks library does with "whsec_" + base64(secret).
            whsec = "whsec_" + base64.b64encode(secret.encode("ascii")).decode("ascii")
            key = base64.b64decode(whsec.removeprefix("whsec_"))
            sig = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
            if any(hmac.compare_digest(f"v1,{sig}", g) for g in std_given):
                standard_by.append(label)
    return {
        "signature": given,
        "expected_signatures": expected,
        "verified_by": sorted(verified_by),
        "signature_valid": bool(verified_by),
        "standard_verified_by": sorted(standard_by),
    }


def serve(argv: list[str] | None = None) -> None:
    """Run the receiver until it is terminated (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--log", required=True, type=Path)
    parser.add_argument("--behaviour", default="{}")
    parser.add_argument("--secrets-file", type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert", type=Path, help="PEM certificate chain: serve HTTPS")
    parser.add_argument("--key", type=Path, help="PEM private key of --cert")
    parser.add_argument("--client-ca", type=Path, help="require client certificates of this CA")
    args = parser.parse_args(argv)
    tls = None
    if args.cert is not None:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
        if args.client_ca is not None:
            tls.verify_mode = ssl.CERT_REQUIRED
            tls.load_verify_locations(cafile=args.client_ca)
    server = _Server(args.log, json.loads(args.behaviour), args.secrets_file, args.port, tls)
    args.log.touch()
    sys.stdout.write(f"{server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


# -- the client side ----------------------------------------------------------------------

@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the receiver recorded it.

    Attributes:
        index: 0-based arrival number.
        received_at: Unix seconds when the body had been read.
        method, path: of the request line.
        headers: every (name, value) pair, in order, as received.
        body: the raw body bytes.
        signature: the ``X-Hook-Signature`` header or None.
        verified_by: labels of the known secrets whose HMAC equals ``signature``.
        signature_valid: ``verified_by`` is not empty.
        standard_verified_by: labels whose Standard Webhooks signature matched.
        expected_signatures: label → the hex HMAC the receiver computed.
        response_status: the status the receiver answered with.
    """

    index: int
    received_at: float
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    signature: str | None
    verified_by: tuple[str, ...]
    signature_valid: bool
    standard_verified_by: tuple[str, ...]
    expected_signatures: dict[str, str]
    response_status: int

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive)."""
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class Receiver:
    """A receiver process and its log (see the module docstring).

    Args:
        workdir: a folder for the log, the secrets file and the process's stderr.
        behaviour: how to answer (see :func:`step_for` and the helpers :func:`ok`,
            :func:`status`, :func:`delay`, :func:`fail_first`, :func:`big_body`).
        secrets: label → secret, to verify signatures with (more via :meth:`set_secrets`).
        port: the port to listen on; 0 (the default) picks a free one. Give a stopped
            receiver's port to bring a receiver back at the same URL.
        tls: (certificate chain PEM file, private key PEM file) to serve HTTPS instead
            of HTTP.

    Attributes:
        port: the port it listens on (after :meth:`start`).
        url: ``http://127.0.0.1:<port>/hook`` (``https://`` with ``tls``).
    """

    def __init__(self, workdir: Path, behaviour: dict[str, Any] | None = None,
                 secrets: dict[str, str] | None = None, port: int = 0,
                 tls: tuple[Path, Path] | None = None,
                 client_ca: Path | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.client_ca = client_ca
        self.workdir = workdir
        self.log_path = workdir / "requests.jsonl"
        self.secrets_path = workdir / "secrets.json"
        self.stderr_path = workdir / "stderr.txt"
        self.behaviour = behaviour or {}
        self._secrets: dict[str, str] = {}
        self.set_secrets(secrets or {})
        self._proc: subprocess.Popen[str] | None = None
        self.port = port
        self.tls = tls

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (``https://`` with ``tls``)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/hook``: the default URL to point a hook at."""
        return self.url_for("/hook")

    def url_for(self, path: str) -> str:
        """A URL on this receiver with the given path (e.g. ``/ops``)."""
        return self.base_url + path

    def start(self, timeout: float = 15.0) -> Receiver:
        """Start the process and wait until it listens.

        Raises:
            RuntimeError: it exited or did not report its port within ``timeout``.
        """
        with self.stderr_path.open("w") as err:
            self._proc = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--log", str(self.log_path),
                 "--behaviour", json.dumps(self.behaviour),
                 "--secrets-file", str(self.secrets_path), "--port", str(self.port),
                 *(["--cert", str(self.tls[0]), "--key", str(self.tls[1])] if self.tls
                   else []),
                 *(["--client-ca", str(self.client_ca)] if self.client_ca else [])],
                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True)
        assert self._proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            ready = sel.select(timeout)
        line = self._proc.stdout.readline() if ready else ""
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"the receiver did not start: {self.stderr_path.read_text()}")
        self.port = int(line)
        return self

    def set_secrets(self, secrets: dict[str, str]) -> None:
        """Add secrets (label → secret) the receiver verifies signatures with; takes
        effect from the next request."""
        self._secrets.update(secrets)
        fd, tmp = tempfile.mkstemp(dir=self.workdir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self._secrets, f)
        Path(tmp).replace(self.secrets_path)

    def requests(self) -> list[ReceivedRequest]:
        """Every request recorded so far, in arrival order."""
        if not self.log_path.exists():
            return []
        out = []
        for line in self.log_path.read_text("utf-8").splitlines():
            if not line.endswith("}"):
                continue  # a line still being written
            r = json.loads(line)
            out.append(ReceivedRequest(
                index=r["index"], received_at=r["received_at"], method=r["method"],
                path=r["path"], headers=tuple((k, v) for k, v in r["headers"]),
                body=base64.b64decode(r["body_b64"]), signature=r["signature"],
                verified_by=tuple(r["verified_by"]), signature_valid=r["signature_valid"],
                standard_verified_by=tuple(r["standard_verified_by"]),
                expected_signatures=r["expected_signatures"],
                response_status=r["response_status"]))
        return sorted(out, key=lambda q: q.index)

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        """Wait until at least ``count`` requests arrived; returns them all.

        Raises:
            TimeoutError: fewer arrived within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            got = self.requests()
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} requests, got {len(got)}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Terminate the process (idempotent)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


if __name__ == "__main__":
    serve()
