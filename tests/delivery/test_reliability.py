"""Reliability of the delivery engine: what the store records for every fault a
receiver can throw at it.

Product issue "Delivery engine: at-least-once, isolated, retried by policy". Every
fault comes from a real receiver in its own process (:mod:`tests.receiver`, raw
socket faults included), never from a mock; settings are shortened (``FAST``) so the
file runs in seconds, with generous margins because the suite shares a small machine.
The crash (``kill -9``) test is in ``tests/e2e/test_crash_recovery.py``.
"""

from __future__ import annotations

import dataclasses
import email.utils
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hookadmin.core.hooks import Hook
from hookadmin.core.service import HookService
from hookadmin.core.store import Attempt, Delivery, Store
from tests import receiver as rx
from tests.helpers import (
    FAST,
    body,
    db_rows,
    drain,
    run_cli,
    run_until_idle,
    running_engine,
    wait_until,
)

Make = Callable[..., rx.Receiver]
ONE_TRY = dataclasses.replace(FAST, retry_schedule=(0,))


# -- helpers ------------------------------------------------------------------------------

def _hook(service: HookService, receiver: rx.Receiver, *, path: str = "/hook",
          label: str = "hook") -> Hook:
    """A hook on every job event, pointing at ``receiver``, which learns its secret."""
    hook = service.create_hook(url=receiver.url_for(path), events=["job"])
    receiver.set_secrets({label: service.reveal_secret(hook.id)})
    return hook


def _only_delivery(service: HookService, hook: Hook) -> tuple[Delivery, list[Attempt]]:
    (delivery,) = service.store.list_deliveries(hook_id=hook.id)
    return delivery, service.store.list_attempts(delivery.seq)


def _response_header(attempt: Attempt, name: str) -> str | None:
    return next((v for k, v in attempt.response_headers or [] if k.lower() == name.lower()),
                None)


def _ended_at(attempt: Attempt) -> float:
    """Unix seconds when the attempt ended (and was recorded, give or take ms)."""
    assert attempt.duration_ms is not None
    return attempt.started_at + attempt.duration_ms / 1000


def _status_kib(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    assert match is not None, field
    return int(match.group(1))


@contextmanager
def _peak_rss_growth() -> Iterator[list[int]]:
    """Yields a list that receives, after the block, how many bytes the process's
    resident set grew by at its peak inside the block (Linux /proc)."""
    result: list[int] = []
    before = _status_kib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    except OSError:
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.002):
                peak[0] = max(peak[0], _status_kib("VmRSS"))

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            yield result
        finally:
            done.set()
            sampler.join()
        result.append((peak[0] - before) * 1024)
        return
    yield result
    result.append((_status_kib("VmHWM") - before) * 1024)


# -- HTTP errors and the retry schedule ---------------------------------------------------

@pytest.mark.slow
def test_a_500_is_retried_on_the_schedule_then_fails(service: HookService, home: Path,
                                                    make_receiver: Make) -> None:
    settings = dataclasses.replace(FAST, retry_schedule=(0, 0.3, 0.6))
    receiver = make_receiver(rx.status(500))
    hook = _hook(service, receiver)
    service.publish("job.failed", body("job.failed"))
    assert drain(home, settings) == 3

    first, second, third = receiver.requests()
    assert first.header("X-Hook-Delivery") == second.header("X-Hook-Delivery") \
        == third.header("X-Hook-Delivery")
    assert first.body == second.body == third.body == body("job.failed")
    assert second.received_at - first.received_at >= 0.3 * 0.9
    assert third.received_at - second.received_at >= 0.6 * 0.9

    delivery, attempts = _only_delivery(service, hook)
    assert (delivery.status, delivery.attempts, delivery.last_status_code,
            delivery.last_error_kind, delivery.next_attempt_at) \
        == ("failed", 3, 500, "http_status", None)
    for attempt, delay in zip(attempts, (0.3, 0.6, None), strict=True):
        assert (attempt.status_code, attempt.error_kind) == (500, "http_status")
        assert attempt.response_body == b'{"status": 500}'
        assert _response_header(attempt, "Content-Type") == "application/json"
        if delay is None:
            assert attempt.next_attempt_at is None
        else:
            assert attempt.next_attempt_at is not None
            assert attempt.duration_ms is not None
            answered = attempt.started_at + attempt.duration_ms / 1000
            assert delay - 0.05 <= attempt.next_attempt_at - answered <= delay + 0.5


@pytest.mark.slow
@pytest.mark.parametrize(("code", "retry_after", "expected_delay"), [
    pytest.param(503, "1", 1.0, id="503-seconds-outlast-a-shorter-schedule-delay"),
    pytest.param(429, "0", 1.0, id="429-zero-is-raised-to-one-second"),
    pytest.param(503, "86400", 2.0, id="503-huge-is-clamped-to-retry_after_max"),
    pytest.param(500, "30", 0.2, id="500-ignores-it-and-follows-the-schedule"),
])
def test_retry_after_sets_the_next_attempt(service: HookService, home: Path,
                                           make_receiver: Make, code: int, retry_after: str,
                                           expected_delay: float) -> None:
    settings = dataclasses.replace(FAST, retry_after_max=2.0)
    receiver = make_receiver({"script": [{"status": code, "headers": {"Retry-After": retry_after},
                                          "body": "busy"}]})  # then 200
    hook = _hook(service, receiver)
    service.publish("job.failed", body("job.failed"))
    assert run_until_idle(home, settings) == 1

    delivery, (attempt,) = _only_delivery(service, hook)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) \
        == ("pending", 1, code)
    assert _response_header(attempt, "Retry-After") == retry_after
    assert attempt.next_attempt_at == delivery.next_attempt_at
    assert attempt.next_attempt_at is not None
    assert attempt.duration_ms is not None
    answered = attempt.started_at + attempt.duration_ms / 1000
    assert expected_delay - 0.05 <= attempt.next_attempt_at - answered <= expected_delay + 0.5

    assert drain(home, settings) == 1
    first, second = receiver.requests()
    assert second.received_at - first.received_at >= expected_delay - 0.05
    assert first.header("X-Hook-Delivery") == second.header("X-Hook-Delivery") == delivery.id
    delivery, _ = _only_delivery(service, hook)
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)


@pytest.fixture
def local_time_not_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is UTC-5 (a POSIX TZ rule, no tz database needed),
    so a date read as local time instead of GMT is five hours off."""
    monkeypatch.setenv("TZ", "EST+5")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# RFC 9110 §5.6.7: a recipient must accept all three forms, every one of them in GMT.
HTTP_DATE_FORMS = {
    "imf-fixdate": lambda t: email.utils.formatdate(t, usegmt=True),
    "rfc850": lambda t: time.strftime("%A, %d-%b-%y %H:%M:%S GMT", time.gmtime(t)),
    "asctime": lambda t: time.asctime(time.gmtime(t)),
}


@pytest.mark.usefixtures("local_time_not_utc")
@pytest.mark.parametrize("form", list(HTTP_DATE_FORMS))
def test_retry_after_as_an_http_date(service: HookService, home: Path,
                                     make_receiver: Make, form: str) -> None:
    when = int(time.time()) + 5
    receiver = make_receiver({"script": [{"status": 429, "headers": {
        "Retry-After": HTTP_DATE_FORMS[form](when)}}]})
    hook = _hook(service, receiver)
    service.publish("job.failed", body("job.failed"))
    assert run_until_idle(home) == 1

    delivery, (attempt,) = _only_delivery(service, hook)
    assert (delivery.status, delivery.last_status_code) == ("pending", 429)
    assert delivery.next_attempt_at is not None
    assert abs(delivery.next_attempt_at - when) < 0.5  # not the schedule's 0.2 s
    assert attempt.next_attempt_at == delivery.next_attempt_at
    # Not retried before the date.
    assert run_until_idle(home) == 0
    assert len(receiver.requests()) == 1


# -- redirects ----------------------------------------------------------------------------

@pytest.mark.parametrize("code", [301, 302, 303, 307])
def test_a_redirect_is_recorded_with_its_location_and_never_followed(
        service: HookService, home: Path, make_receiver: Make, code: int) -> None:
    target = make_receiver()
    location = target.url_for("/elsewhere")
    receiver = make_receiver(rx.status(code, Location=location))
    hook = _hook(service, receiver)
    service.publish("job.failed", body("job.failed"))
    assert run_until_idle(home, ONE_TRY) == 1

    (req,) = receiver.requests()
    assert (req.method, req.path) == ("POST", "/hook")
    assert target.requests() == []
    delivery, (attempt,) = _only_delivery(service, hook)
    assert (delivery.status, delivery.last_status_code, delivery.last_error_kind) \
        == ("failed", code, "redirect")
    assert _response_header(attempt, "Location") == location
    assert location in (attempt.error_message or "")


# -- network faults -----------------------------------------------------------------------

@pytest.mark.slow
def test_a_receiver_that_never_answers_times_out(service: HookService, home: Path,
                                                 make_receiver: Make) -> None:
    settings = dataclasses.replace(FAST, retry_schedule=(0, 0.2), attempt_timeout=1.0)
    receiver = make_receiver(rx.never_answer())
    hook = _hook(service, receiver)
    service.publish("job.failed", body("job.failed"))
    started = time.monotonic()
    assert drain(home, settings) == 2
    assert time.monotonic() - started < 10

    first, second = receiver.requests()
    assert first.header("X-Hook-Delivery") == second.header("X-Hook-Delivery")
    delivery, attempts = _only_delivery(service, hook)
    assert (delivery.status, delivery.last_error_kind, delivery.last_status_code) \
        == ("failed", "timeout", None)
    for attempt in attempts:
        assert (attempt.error_kind, attempt.status_code) == ("timeout", None)
        assert attempt.response_headers is None
        assert attempt.response_body is None
        assert attempt.duration_ms is not None
        assert 900 <= attempt.duration_ms < 4000
        assert "1 s" in (attempt.error_message or "")


def test_a_receiver_that_goes_down_is_refused_then_delivered_to_when_back(
        service: HookService, home: Path, make_receiver: Make, tmp_path: Path) -> None:
    # One engine throughout, so its keep-alive connection to the receiver outlives it.
    settings = dataclasses.replace(FAST, retry_schedule=(0, *[0.3] * 30))
    receiver = make_receiver()
    hook = _hook(service, receiver)
    secret = service.reveal_secret(hook.id)

    def delivery_of(event_id: str) -> Delivery | None:
        return next((d for d in service.store.list_deliveries(hook_id=hook.id)
                     if d.event_id == event_id), None)

    def attempts_of(event_id: str) -> int:
        delivery = delivery_of(event_id)
        return 0 if delivery is None else delivery.attempts

    def succeeded(event_id: str) -> bool:
        delivery = delivery_of(event_id)
        return delivery is not None and delivery.status == "succeeded"

    with running_engine(home, settings):
        up = service.publish("job.failed", body("job.failed", 1))
        wait_until(lambda: succeeded(up), "the first delivery")
        receiver.stop()  # nothing listens on its port any more
        down = service.publish("job.failed", body("job.failed", 2))
        wait_until(lambda: attempts_of(down) >= 2, "two refused attempts")
        # The receiver comes back at the same URL: a retry gets through.
        back = rx.Receiver(tmp_path / "back", secrets={"hook": secret}, port=receiver.port)
        back.start()
        try:
            wait_until(lambda: succeeded(down), "the delivery once the receiver is back")
            (req,) = back.requests()
        finally:
            back.stop()

    delivery = delivery_of(down)
    assert delivery is not None
    assert req.header("X-Hook-Delivery") == delivery.id
    assert req.body == body("job.failed", 2)
    assert req.verified_by == ("hook",)
    *refused, ok = service.store.list_attempts(delivery.seq)
    assert len(refused) >= 2
    for attempt in refused:
        assert (attempt.error_kind, attempt.status_code) == ("connect", None)
        assert attempt.response_headers is None
        assert attempt.duration_ms is not None
        assert attempt.duration_ms < settings.connect_timeout * 1000  # refused, not timed out
        assert attempt.next_attempt_at is not None
    assert (ok.error_kind, ok.status_code) == (None, 200)


@pytest.mark.parametrize(("sent", "status_code"), [
    pytest.param("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", None,
                 id="inside-the-headers"),
    pytest.param("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 "Content-Length: 1000\r\n\r\n{\"ok\": tr", 200, id="inside-the-body"),
])
def test_a_reset_mid_response_is_a_protocol_error_and_retried(
        service: HookService, home: Path, make_receiver: Make, sent: str,
        status_code: int | None) -> None:
    receiver = make_receiver({"script": [rx.raw(sent, "reset")]})  # then 200
    hook = _hook(service, receiver)
    service.publish("job.failed", body("job.failed"))
    assert drain(home) == 2

    first, second = receiver.requests()
    assert first.header("X-Hook-Delivery") == second.header("X-Hook-Delivery")
    assert first.body == second.body == body("job.failed")
    delivery, (failed, ok) = _only_delivery(service, hook)
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    assert (failed.error_kind, failed.status_code) == ("protocol", status_code)
    assert "reset" in (failed.error_message or "").lower()
    assert failed.next_attempt_at is not None
    if status_code is not None:
        assert failed.response_body is not None
        assert b'{"ok": tr'.startswith(failed.response_body)
    assert (ok.error_kind, ok.status_code) == (None, 200)


@pytest.mark.parametrize("behaviour", [
    pytest.param(rx.stream_body(50_000_000), id="50-MB-body"),
    pytest.param(rx.endless_body(), id="endless-chunked-body"),
])
def test_a_huge_response_is_capped_quickly_and_not_buffered(
        service: HookService, home: Path, make_receiver: Make,
        behaviour: dict[str, object]) -> None:
    settings = dataclasses.replace(FAST, attempt_timeout=10.0)
    receiver = make_receiver(behaviour)
    hook = _hook(service, receiver)
    service.publish("job.failed", body("job.failed"))
    with _peak_rss_growth() as growth:
        assert run_until_idle(home, settings) == 1

    assert growth[0] < 30 * 2**20, f"the engine's memory grew by {growth[0] / 2**20:.0f} MiB"
    delivery, (attempt,) = _only_delivery(service, hook)
    assert (delivery.status, delivery.last_status_code) == ("succeeded", 200)
    assert attempt.response_truncated is True
    assert attempt.response_body == rx.pattern_bytes(settings.response_cap)
    assert attempt.duration_ms is not None
    assert attempt.duration_ms < 3000  # the rest is not read, even until the timeout


@pytest.mark.slow
def test_a_dripping_body_is_ended_by_the_attempt_timeout(service: HookService, home: Path,
                                                         make_receiver: Make) -> None:
    # A few bytes every 0.2 s: the read timeout never fires, only the whole-attempt one.
    settings = dataclasses.replace(ONE_TRY, attempt_timeout=1.5)
    receiver = make_receiver(rx.drip(0.2, 2))
    hook = _hook(service, receiver)
    service.publish("job.failed", body("job.failed"))
    assert run_until_idle(home, settings) == 1

    delivery, (attempt,) = _only_delivery(service, hook)
    assert (delivery.status, delivery.last_error_kind) == ("failed", "timeout")
    assert attempt.status_code == 200  # the status line came; the body never finished
    assert attempt.duration_ms is not None
    assert 1400 <= attempt.duration_ms < 4500
    assert attempt.response_body is not None
    assert len(attempt.response_body) >= 4  # it kept dripping past the first read
    assert rx.pattern_bytes(len(attempt.response_body)) == attempt.response_body


# -- isolation and deactivation -----------------------------------------------------------

def test_a_hanging_hook_does_not_hold_up_a_healthy_one(service: HookService, home: Path,
                                                       make_receiver: Make) -> None:
    settings = dataclasses.replace(FAST, attempt_timeout=15.0, max_in_flight=6,
                                   per_hook_in_flight=3)
    hanging = make_receiver(rx.never_answer())
    healthy = make_receiver()
    slow = _hook(service, hanging, path="/slow", label="slow")
    fast = _hook(service, healthy, path="/fast", label="fast")
    events = 20  # each hook alone could fill every slot
    service.publish_many([("job.failed", body("job.failed", i)) for i in range(events)])

    def healthy_done() -> bool:
        return len(service.store.list_deliveries(hook_id=fast.id, status="succeeded")) \
            == events

    with running_engine(home, settings):
        took = wait_until(healthy_done, "the healthy hook's deliveries")
        assert took < settings.attempt_timeout / 4
        hanging.wait_for_requests(settings.per_hook_in_flight)
        # Only the hook's share of the slots went to the hanging receiver; none of its
        # attempts has ended yet.
        assert len(hanging.requests()) == settings.per_hook_in_flight
        slow_rows = service.store.list_deliveries(hook_id=slow.id)
        assert len(slow_rows) == events
        assert {(d.status, d.attempts) for d in slow_rows} == {("pending", 0)}

    got = healthy.requests()
    assert sorted(r.body for r in got) == sorted(body("job.failed", i) for i in range(events))
    assert all(r.verified_by == ("fast",) for r in got)
    assert len({r.header("X-Hook-Delivery") for r in got}) == events
    # Stopping released the hanging hook's leases; nothing was recorded for it.
    assert db_rows(home, "SELECT count(*) FROM deliveries WHERE hook_id = ?"
                         " AND (status != 'pending' OR attempts != 0 OR lease_until IS NOT NULL)",
                   (slow.id,)) == [(0,)]


def test_a_hook_failing_for_deactivate_after_is_deactivated(service: HookService, home: Path,
                                                            make_receiver: Make) -> None:
    settings = dataclasses.replace(FAST, retry_schedule=(0, 0.3, 0.3, 0.3, 0.3, 0.3),
                                   deactivate_after=0.5)
    receiver = make_receiver(rx.status(500))
    hook = _hook(service, receiver)
    service.publish("job.failed", body("job.failed"))
    with running_engine(home, settings):
        wait_until(lambda: not service.hook(hook.id).active, "deactivation")

    delivery, attempts = _only_delivery(service, hook)
    assert len(attempts) >= 2  # the first failure alone does not deactivate
    assert delivery.status == "pending"  # deactivated before the schedule ran out
    assert delivery.attempts < len(settings.retry_schedule)
    assert _ended_at(attempts[-1]) - _ended_at(attempts[0]) >= settings.deactivate_after - 0.05
    off = service.hook(hook.id)
    assert off.deactivated_reason is not None
    assert "failed" in off.deactivated_reason
    assert "HTTP 500" in off.deactivated_reason
    assert service.store.failing_since(hook.id) == pytest.approx(_ended_at(attempts[0]),
                                                                 abs=0.5)
    # Nothing more is sent to it; switched on again, its failure clock starts afresh.
    assert run_until_idle(home, settings) == 0
    assert len(receiver.requests()) == len(attempts)
    assert service.edit_hook(hook.id, active=True).deactivated_reason is None
    assert service.store.failing_since(hook.id) is None


@pytest.mark.slow
def test_a_success_in_between_resets_the_failing_clock(service: HookService, home: Path,
                                                       make_receiver: Make) -> None:
    settings = dataclasses.replace(FAST, retry_schedule=(0, 0.7), deactivate_after=0.5)
    # 500, then 200, then 500 for every later request.
    receiver = make_receiver({"status": 500, "body": "down",
                              "script": [{}, {"status": 200, "body": "up"}]})
    hook = _hook(service, receiver)
    service.publish("job.failed", body("job.failed", 1))
    assert run_until_idle(home, settings) == 1
    (first,) = service.store.list_deliveries(hook_id=hook.id)
    (failed,) = service.store.list_attempts(first.seq)
    assert service.store.failing_since(hook.id) == pytest.approx(_ended_at(failed), abs=0.5)

    assert drain(home, settings) == 1  # the retry, 0.7 s later, succeeds
    assert service.store.failing_since(hook.id) is None

    # More than deactivate_after after the first failure, another one: the success
    # in between restarted the clock, so the hook stays on.
    service.publish("job.failed", body("job.failed", 2))
    assert run_until_idle(home, settings) == 1
    assert time.time() - _ended_at(failed) > settings.deactivate_after
    second, _ = service.store.list_deliveries(hook_id=hook.id)
    (again,) = service.store.list_attempts(second.seq)
    assert again.status_code == 500
    hook_now = service.hook(hook.id)
    assert (hook_now.active, hook_now.deactivated_reason) == (True, None)
    assert service.store.failing_since(hook.id) == pytest.approx(_ended_at(again), abs=0.5)


@pytest.mark.slow
def test_a_failure_that_began_before_a_success_does_not_restart_the_clock_early(
        service: HookService, home: Path, make_receiver: Make) -> None:
    # Two deliveries to one hook at once: one hangs until it times out, the other
    # succeeds at once. The only failure ends after the success, so the hook has not
    # been failing for deactivate_after, however early that failed attempt began.
    settings = dataclasses.replace(ONE_TRY, attempt_timeout=2.0, deactivate_after=1.0)
    receiver = make_receiver({"script": [rx.never_answer()]})  # then 200
    hook = _hook(service, receiver)
    service.publish_many([("job.failed", body("job.failed", i)) for i in range(2)])
    assert run_until_idle(home, settings) == 2

    seqs = [d.seq for d in service.store.list_deliveries(hook_id=hook.id)]
    (ok,), (timed_out,) = sorted((service.store.list_attempts(s) for s in seqs),
                                 key=lambda a: a[0].error_kind or "")
    assert (ok.error_kind, timed_out.error_kind) == (None, "timeout")
    assert timed_out.started_at < _ended_at(ok)  # overlapping
    hook_now = service.hook(hook.id)
    assert (hook_now.active, hook_now.deactivated_reason) == (True, None)
    since = service.store.failing_since(hook.id)
    assert since is not None
    assert since >= _ended_at(ok)  # after the success


# -- leases and shutdown ------------------------------------------------------------------

@pytest.mark.slow
def test_the_lease_is_renewed_while_a_slow_attempt_runs(service: HookService, home: Path,
                                                        make_receiver: Make) -> None:
    settings = dataclasses.replace(FAST, lease_seconds=0.6, attempt_timeout=6.0)
    receiver = make_receiver(rx.delay(2.0))
    hook = _hook(service, receiver)
    service.publish("job.failed", body("job.failed"))
    stolen = []
    with Store.in_home(home) as other, running_engine(home, settings):
        receiver.wait_for_requests(1)
        while service.store.list_deliveries(hook_id=hook.id)[0].status == "pending":
            # Another engine's claim, many lease lengths into the attempt.
            stolen += other.claim_due(now=time.time(), lease_seconds=settings.lease_seconds,
                                      limit=10)
            time.sleep(0.05)
    assert stolen == []
    assert len(receiver.requests()) == 1
    delivery, (attempt,) = _only_delivery(service, hook)
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)
    assert attempt.duration_ms is not None
    assert attempt.duration_ms >= 3 * settings.lease_seconds * 1000


@pytest.mark.slow
def test_sigint_stops_the_worker_and_the_next_one_delivers(
        service: HookService, home: Path, make_receiver: Make, tmp_path: Path) -> None:
    hanging = make_receiver(rx.never_answer())
    hook = _hook(service, hanging)
    sent = [body("job.failed", i) for i in range(3)]
    service.publish_many([("job.failed", b) for b in sent])
    stderr_path = tmp_path / "worker.stderr"
    with stderr_path.open("wb") as stderr:
        worker = subprocess.Popen([sys.executable, "-m", "hookadmin", "--home", str(home),
                                   "worker"], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        in_flight = hanging.wait_for_requests(len(sent), timeout=30)
        assert db_rows(home, "SELECT count(*) FROM deliveries WHERE lease_until IS NOT NULL") \
            == [(len(sent),)]
        worker.send_signal(signal.SIGINT)
        signalled = time.monotonic()
        worker.wait(timeout=15)
        took = time.monotonic() - signalled
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    stderr_text = stderr_path.read_text("utf-8", "replace")
    assert worker.returncode == 0, stderr_text
    assert took < 3
    assert "KeyboardInterrupt" not in stderr_text
    assert "CancelledError" not in stderr_text
    assert stderr_text.rstrip().endswith("hookadmin worker: 0 attempts made.")
    assert db_rows(home, "SELECT status, attempts, lease_until FROM deliveries") \
        == [("pending", 0, None)] * len(sent)
    assert db_rows(home, "SELECT count(*) FROM attempts") == [(0,)]

    healthy = make_receiver()
    healthy.set_secrets({"hook": service.reveal_secret(hook.id)})
    edit = run_cli("hooks", "edit", str(hook.id), "--url", healthy.url, home=home)
    assert edit.returncode == 0, edit.stderr
    done = run_cli("worker", "--until-idle", home=home)
    assert done.returncode == 0, done.stderr

    delivered = healthy.requests()
    assert sorted(r.body for r in delivered) == sorted(sent)
    assert {r.body: r.header("X-Hook-Delivery") for r in delivered} \
        == {r.body: r.header("X-Hook-Delivery") for r in in_flight}
    assert all(r.verified_by == ("hook",) for r in delivered)
    assert db_rows(home, "SELECT status, attempts FROM deliveries") \
        == [("succeeded", 1)] * len(sent)
