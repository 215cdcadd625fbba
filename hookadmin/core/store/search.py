"""The search and status-class conditions of the delivery list, as SQL fragments both
store backends share (they differ only in their placeholder)."""

from __future__ import annotations

from hookadmin.core.errors import InputError
from hookadmin.core.store.ports import SEARCH_SCAN, STATUS_CLASSES, is_uuid

_CLASS_SQL = {"2xx": "d.last_status_code BETWEEN 200 AND 299",
              "3xx": "d.last_status_code BETWEEN 300 AND 399",
              "4xx": "d.last_status_code BETWEEN 400 AND 499",
              "5xx": "d.last_status_code BETWEEN 500 AND 599",
              "none": "d.last_status_code IS NULL AND d.attempts > 0"}


def search_conditions(search: str | None, status_class: str | None, mark: str,
                      params: list[object]) -> list[str]:
    """SQL conditions on ``deliveries d JOIN events e`` for a search text and a status
    class, their values appended to ``params`` (``mark`` is the placeholder: ``?`` or
    ``%s``). A UUID matches the delivery or event id by their unique indexes; other
    text is looked for in the body bytes (UTF-8, case-sensitive), in the event type and
    in the hook's name (both in any case) among the newest :data:`SEARCH_SCAN`
    deliveries.

    Raises:
        InputError: ``status_class`` is not one of :data:`STATUS_CLASSES`.
    """
    out = []
    if status_class is not None:
        if status_class not in _CLASS_SQL:
            raise InputError(f"Unknown status class {status_class!r}; use one of "
                             f"{', '.join(STATUS_CLASSES)}.", field="status_class")
        out.append(_CLASS_SQL[status_class])
    text = (search or "").strip()
    if not text:
        return out
    if is_uuid(text):
        # Both sides indexed: one delivery, or every delivery of one event.
        out.append(f"(d.id = {mark} OR d.event_seq = (SELECT seq FROM events"  # noqa: S608 - placeholders only
                   f" WHERE id = {mark}))")
        params += [text.lower(), text.lower()]
    else:
        out.append(f"d.seq > (SELECT coalesce(max(seq), 0) FROM deliveries) - {mark}")  # noqa: S608 - placeholders only
        params.append(SEARCH_SCAN)
        folded = text.lower()
        hooks = f"SELECT id FROM hooks WHERE {_text_contains('name', mark)}"  # noqa: S608 - placeholders only
        out.append(f"({_contains(mark)} OR {_text_contains('d.event_type', mark)}"
                   f" OR d.hook_id IN ({hooks}))")
        params += [text.encode(), folded, folded]
    return out


def _contains(mark: str) -> str:
    """The body-contains test: ``instr`` in SQLite, ``position`` in PostgreSQL."""
    return f"instr(e.body, {mark}) > 0" if mark == "?" else f"position({mark} in e.body) > 0"


def _text_contains(column: str, mark: str) -> str:
    """The test that a text ``column`` contains a lower-case value, in any case."""
    return (f"instr(lower({column}), {mark}) > 0" if mark == "?"
            else f"position({mark} in lower({column})) > 0")
