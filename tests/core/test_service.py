"""The service layer: hook validation and publishing to the outbox."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hookadmin.core.errors import InputError, NotFoundError
from hookadmin.core.service import MAX_BODY_BYTES, HookService
from tests.helpers import body, db_rows, event_type_for, fixture_files, resource


@pytest.fixture
def service(service_in_memory: HookService) -> HookService:
    """These tests are not about secrets: they keep theirs in an in-process keyring."""
    return service_in_memory


def _queued(home: Path) -> list[tuple[object, ...]]:
    return db_rows(home, "SELECT type, body FROM events ORDER BY seq")


@pytest.mark.parametrize(("event_type", "resource", "fragment"), [
    ("job.exploded", b'{"id": 1}', "Unknown event type 'job.exploded'"),
    ("job", b'{"id": 1}', "Unknown event type 'job'"),
    ("ping", b'{"id": 1}', "hookadmin ping ID"),
    ("job.failed", b'{"id": 1', "not valid JSON"),
    ("job.failed", b"", "not valid JSON"),
    ("job.failed", b'{"id": 1} {"id": 2}', "not valid JSON"),
    ("job.failed", b'[{"id": 1}]', "not a list"),
    ("job.failed", b'"a string"', "not a string"),
    ("job.failed", b"42", "not a number"),
    ("job.failed", b"null", "not a null"),
    ("job.failed", b'{"name": "Soci\xe9t\xe9"}', "not UTF-8"),  # Latin-1 bytes
    ("job.failed", b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}', "limit is 1,048,576 bytes"),
    ("job.failed", {"x": "a" * MAX_BODY_BYTES}, "limit is 1,048,576 bytes"),
], ids=["unknown-type", "group-id", "ping", "truncated", "empty", "two-objects", "array",
        "string", "number", "null", "latin-1", "over-1-MiB", "dict-over-1-MiB"])
def test_publish_rejects_bad_input_and_queues_nothing(
        service: HookService, home: Path, event_type: str, resource: bytes | dict[str, str],
        fragment: str) -> None:
    with pytest.raises(InputError) as info:
        service.publish(event_type, resource)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert _queued(home) == []
    assert service.store.outbox_waiting() == 0


def test_publish_accepts_exactly_one_mib(service: HookService, home: Path) -> None:
    empty = body("job.failed", errors="")
    padded = body("job.failed", errors="a" * (MAX_BODY_BYTES - len(empty)))
    assert len(padded) == MAX_BODY_BYTES
    service.publish("job.failed", padded)
    assert _queued(home) == [("job.failed", padded)]


@pytest.mark.parametrize("fixture", fixture_files(), ids=lambda p: p.name)
def test_publish_stores_the_bytes_exactly(service: HookService, home: Path,
                                          fixture: Path) -> None:
    body = fixture.read_bytes()
    event_id = service.publish(event_type_for(fixture), body)
    assert _queued(home) == [(event_type_for(fixture), body)]
    assert db_rows(home, "SELECT id FROM events") == [(event_id,)]


def test_publish_text_and_dict(service: HookService, home: Path) -> None:
    text = json.dumps(resource("job.failed", errors="Zoë"), ensure_ascii=False, indent=1)
    cluster = resource("cluster.error", name="Zoë", nodes=3)
    service.publish("job.failed", text)
    service.publish("cluster.error", cluster)
    compact = ('{"id":1,"status":"error","created_at":"2026-11-29T06:00:00Z",'
               '"updated_at":"2026-11-29T06:05:00Z",'
               '"url":"https://api.etl.example.com/acme/api/clusters/1",'
               '"html_url":"https://etl.example.com/acme/clusters/1","name":"Zoë","nodes":3}')
    assert _queued(home) == [
        ("job.failed", text.encode()),  # as given, spaces and all
        ("cluster.error", compact.encode()),  # compact UTF-8, once
    ]


def test_publish_many_is_all_or_nothing(service: HookService, home: Path) -> None:
    with pytest.raises(InputError, match=r"^Event 2: The resource is not valid JSON"):
        service.publish_many([("job.failed", body("job.failed")), ("job.failed", b"{"),
                              ("job.started", body("job.started"))])
    assert _queued(home) == []
    ids = service.publish_many([("job.failed", body("job.failed")),
                                ("cluster.idled", body("cluster.idled", 2))])
    assert len(set(ids)) == 2
    assert _queued(home) == [("job.failed", body("job.failed")),
                             ("cluster.idled", body("cluster.idled", 2))]


def _lines(*objs: object) -> list[bytes]:
    return [o if isinstance(o, bytes) else json.dumps(o).encode() for o in objs]


def test_publish_batch_queues_every_line_in_order(service: HookService, home: Path) -> None:
    job, cluster = resource("job.started", 1), resource("cluster.error", 2, name="東京")
    lines = _lines({"type": "job.started", "resource": job}, b"   ",
                   {"type": "cluster.error", "resource": cluster})
    ids = service.publish_batch(lines)
    assert len(ids) == 2
    assert [(t, json.loads(b)) for t, b in _queued(home)] == [  # type: ignore[arg-type]
        ("job.started", job), ("cluster.error", cluster)]


@pytest.mark.parametrize(("bad_line", "fragment"), [
    (b'{"type": "job.failed", "resource": {', "Line 3 is not valid JSON"),
    (b'{"type": "job.failed", "resource": [1]}', "Line 3 must be an object"),
    (b'["job.failed", {}]', "Line 3 must be an object"),
    (b'{"resource": {}}', "Line 3 must be an object"),
    (b'{"type": "job.exploded", "resource": {}}', "Line 3: Unknown event type"),
    (b'{"type": "ping", "resource": {}}', "Line 3: 'ping' events"),
    (b'{"type": "job.failed", "resource": {"n": "\xff"}}', "Line 3 is not UTF-8 text"),
])
def test_publish_batch_names_the_bad_line_and_queues_nothing(
        service: HookService, home: Path, bad_line: bytes, fragment: str) -> None:
    lines = _lines({"type": "job.started", "resource": resource("job.started", 1)}, b"",
                   bad_line, {"type": "job.failed", "resource": resource("job.failed", 4)})
    with pytest.raises(InputError) as info:
        service.publish_batch(lines)
    assert fragment in str(info.value)
    assert _queued(home) == []


def test_empty_batch_is_refused(service: HookService, home: Path) -> None:
    with pytest.raises(InputError, match="no events"):
        service.publish_batch([b"", b"  "])
    assert _queued(home) == []


def test_create_hook_validates_every_field_and_creates_nothing_when_invalid(
        service: HookService) -> None:
    cases = [
        ({"url": "ftp://example.com", "events": ["job"]}, "url"),
        ({"url": "https://example.com", "events": ["nope"]}, "events"),
        ({"url": "https://example.com", "events": []}, "events"),
        ({"url": "https://example.com", "events": ["job"], "name": "a\x00b"}, "name"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InputError) as info:
            service.create_hook(**kwargs)  # type: ignore[arg-type]
        assert info.value.field == field
    assert service.hooks() == []


def test_create_and_edit_hook(service: HookService) -> None:
    hook = service.create_hook(url=" HTTPS://Example.com/h ", events=["job.failed", "job"],
                               name=" ops ", active=False)
    assert (hook.url, hook.events, hook.name, hook.active) == (
        "https://example.com/h", ("job",), "ops", False)
    edited = service.edit_hook(hook.id, events=["cluster.error"], active=True)
    assert (edited.events, edited.active, edited.url, edited.name) == (
        ("cluster.error",), True, "https://example.com/h", "ops")
    with pytest.raises(InputError, match="scheme"):
        service.edit_hook(hook.id, url="gopher://example.com")
    assert service.hook(hook.id) == edited
    with pytest.raises(NotFoundError):
        service.edit_hook(999, name="x")
    with pytest.raises(NotFoundError):
        service.delete_hook(999)


@pytest.mark.parametrize(("text", "fragment"), [
    ('{"id": 5, "status": "failed", "x": NaN}', "NaN, which is not JSON"),
    ('{"id": 5, "status": "failed", "x": -Infinity}', "-Infinity, which is not JSON"),
    ('{"id": 5, "status": "failed", "id": 6}', "the key 'id' twice"),
    ('{"id": 5, "status": "failed", "e": "\\ud800"}', "unpaired surrogate"),
    ("[" * 5000 + "]" * 5000, "nested 5000 levels deep"),
    ('{"id": 5, "status": "failed", "a": ' + "[" * 201 + "]" * 201 + "}",
     "nested 202 levels deep"),
])
def test_publish_refuses_json_that_strict_receivers_refuse(
        service: HookService, text: str, fragment: str) -> None:
    with pytest.raises(InputError, match=re.escape(fragment)):
        service.publish("job.failed", text.encode())
    assert service.store.outbox_waiting() == 0


def test_brackets_inside_strings_do_not_count_as_nesting(service: HookService) -> None:
    text = '{"id": 5, "status": "failed", "errors": "' + "[{" * 300 + '\\"]"}'
    service.publish("job.failed", text.encode())
    assert service.store.outbox_waiting() == 1
