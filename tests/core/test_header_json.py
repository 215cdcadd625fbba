"""The attempt's header text both stores keep is json.dumps's, character for character."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookadmin.core.store.header_json import request_headers_json, response_headers_json

# Any text: quotes, backslashes, control characters, non-ASCII, lone surrogates.
TEXT = st.text(st.characters(codec=None, min_codepoint=0), max_size=40)


@given(st.dictionaries(TEXT, TEXT, max_size=12))
def test_request_headers_text_is_json_dumps(headers: dict[str, str]) -> None:
    text = request_headers_json(headers)
    assert text == json.dumps(headers)
    assert json.loads(text) == headers


@given(st.lists(st.tuples(TEXT, TEXT), max_size=12))
def test_response_headers_text_is_json_dumps(headers: list[tuple[str, str]]) -> None:
    text = response_headers_json(headers)
    assert text == json.dumps(headers)
    assert [tuple(pair) for pair in json.loads(text)] == headers


def test_the_headers_an_engine_sends_and_gets() -> None:
    sent = {"Content-Type": "application/json", "X-Hook-Signature": "ab" * 32,
            "webhook-signature": "v1,A+b/=", "X-Name": "Zoë \"q\" \\ \n"}
    got = [("Server", "nginx"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    assert request_headers_json(sent) == json.dumps(sent)
    assert response_headers_json(got) == json.dumps(got)


def test_other_value_types_fall_back_to_json_dumps() -> None:
    assert request_headers_json({"X-Count": 3}) == '{"X-Count": 3}'  # type: ignore[dict-item]
    assert response_headers_json([["Server", "nginx"]]) == '[["Server", "nginx"]]'  # type: ignore[list-item]
    assert response_headers_json([("a", "b", "c")]) == '[["a", "b", "c"]]'  # type: ignore[list-item]
    with pytest.raises(TypeError):
        request_headers_json({"X-Obj": object()})  # type: ignore[dict-item]
