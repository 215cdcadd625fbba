"""Hook URL and name rules, and the §4 JSON representation."""

from __future__ import annotations

import json
import re

import pytest

from hookadmin.core.errors import InputError
from hookadmin.core.hooks import MAX_NAME_LENGTH, MAX_URL_LENGTH, Hook, validate_name, validate_url
from hookadmin.core.service import HookService

ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture
def service(service_in_memory: HookService) -> HookService:
    """These tests are not about secrets: they keep theirs in an in-process keyring."""
    return service_in_memory


@pytest.mark.parametrize(("given", "canonical"), [
    ("https://example.com/hooks", "https://example.com/hooks"),
    ("http://example.com/hooks", "http://example.com/hooks"),
    ("  https://example.com/hooks\n", "https://example.com/hooks"),  # surrounding space
    ("HTTPS://Ops.Example.COM/Hooks/ETL", "https://ops.example.com/Hooks/ETL"),  # path kept
    ("https://example.com", "https://example.com/"),
    ("http://127.0.0.1:8080/x?a=1&b=%20", "http://127.0.0.1:8080/x?a=1&b=%20"),
    ("http://[::1]:9000/h", "http://[::1]:9000/h"),
    ("http://[2001:DB8::1]/h", "http://[2001:db8::1]/h"),
    ("https://example.com:1/", "https://example.com:1/"),
    ("https://example.com:65535/", "https://example.com:65535/"),
    ("https://example.com./x", "https://example.com/x"),  # the root dot is dropped
    ("https://bücher.example/hook", "https://xn--bcher-kva.example/hook"),  # IDN → punycode
    ("https://BÜCHER.example/hook", "https://xn--bcher-kva.example/hook"),
    ("https://東京.example/h", "https://xn--1lqs71d.example/h"),
    ("https://xn--bcher-kva.example/hook", "https://xn--bcher-kva.example/hook"),
    ("https://hooks_internal.example/", "https://hooks_internal.example/"),
    ("https://example.com/" + "a" * (MAX_URL_LENGTH - 20), None),  # just under the limit
])
def test_accepted_urls_are_canonicalised(given: str, canonical: str | None) -> None:
    assert validate_url(given) == (canonical or given)


def test_canonical_url_is_stable() -> None:
    once = validate_url("HTTPS://Bücher.Example:8443/a?b=c")
    assert once == "https://xn--bcher-kva.example:8443/a?b=c"
    assert validate_url(once) == once


@pytest.mark.parametrize(("given", "fragment"), [
    ("", "Enter the URL"),
    ("   ", "Enter the URL"),
    ("ftp://example.com/x", "scheme 'ftp' is not supported"),
    ("file:///etc/passwd", "scheme 'file' is not supported"),
    ("ws://example.com/x", "scheme 'ws' is not supported"),
    ("example.com/hooks", "must start with https:// or http://"),
    ("javascript:alert(1)", "must start with https:// or http://"),
    ("mailto:ops@example.com", "must start with https:// or http://"),
    ("https:/example.com/x", "must start with https:// or http://"),
    ("http://", "has no host"),
    ("http:///path", "has no host"),
    ("http://:8080/x", "has no host"),
    ("https://exa mple.com/", "contains spaces"),
    ("https://example.com/a b", "contains spaces"),
    ("https://example.com/a\u00a0b", "contains spaces"),  # a no-break space
    ("https://example.com/\x00", "control characters"),
    ("https://user:pass@example.com/", "user name or password"),
    ("https://user@example.com/", "user name or password"),
    ("https://:pass@example.com/", "user name or password"),
    ("https://example.com:0/", "port is not valid"),
    ("https://example.com:65536/", "port is not valid"),
    ("https://example.com:99999999/", "port is not valid"),
    ("https://example.com:http/", "port is not valid"),
    ("https://example.com/hooks#section", "#fragment"),
    ("http://[::1/x", "cannot be parsed"),
    ("https://a..b/", "not a valid domain name"),
    ("https://ex%41mple.com/", "not a valid domain name"),
    ("https://exa!mple.com/", "not a valid domain name"),
    ("https://" + "a" * 64 + ".com/", "not a valid domain name"),  # label over 63
    ("https://example.com/" + "a" * MAX_URL_LENGTH, f"longer than {MAX_URL_LENGTH}"),
])
def test_rejected_urls_name_the_broken_rule(given: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        validate_url(given)
    message = str(info.value)
    assert fragment in message
    assert info.value.field == "url"
    assert "\n" not in message
    if "pass" in given:
        assert "pass@example" not in message  # credentials are not echoed back


@pytest.mark.parametrize(("given", "expected"), [
    ("ops monitor", "ops monitor"),
    ("  padded  ", "padded"),
    ("", ""),
    ("Zoë's 東京 alerts 🚀", "Zoë's 東京 alerts 🚀"),
    ("x" * MAX_NAME_LENGTH, "x" * MAX_NAME_LENGTH),
])
def test_valid_names(given: str, expected: str) -> None:
    assert validate_name(given) == expected


@pytest.mark.parametrize(("given", "fragment"), [
    ("x" * (MAX_NAME_LENGTH + 1), f"keep it to {MAX_NAME_LENGTH} characters"),
    ("two\nlines", "control characters"),
    ("bell\x07", "control characters"),
])
def test_invalid_names(given: str, fragment: str) -> None:
    with pytest.raises(InputError, match=re.escape(fragment)) as info:
        validate_name(given)
    assert info.value.field == "name"


def test_to_json_has_exactly_the_design_shape() -> None:
    hook = Hook(id=7, name="ops monitor", url="https://ops.example.com/hooks/etl",
                events=("job.failed", "cluster"), active=True, insecure_ssl=False,
                created_at="2026-11-29T10:00:00Z", updated_at="2026-11-29T10:00:00Z")
    # DESIGN.md §4, verbatim.
    assert hook.to_json() == json.loads("""
        {"id": 7, "name": "ops monitor", "type": "web", "active": true,
         "settings": {"url": "https://ops.example.com/hooks/etl", "insecure_ssl": false},
         "events": ["job.failed", "cluster"], "created_at": "2026-11-29T10:00:00Z",
         "updated_at": "2026-11-29T10:00:00Z"}""")


def test_display_name_falls_back_to_the_host() -> None:
    assert Hook(1, "", "https://ops.example.com:8443/x", ("job",)).display_name \
        == "ops.example.com"
    assert Hook(1, "named", "https://ops.example.com/x", ("job",)).display_name == "named"


def test_new_hook_json_never_contains_its_secret(service: HookService) -> None:
    hook = service.create_hook(url="https://ops.example.com/hooks", events=["job", "cluster"],
                               name="ops")
    secret = service.reveal_secret(hook.id)
    data = hook.to_json()
    text = json.dumps(data)
    assert secret not in text
    assert set(data) == {"id", "name", "type", "active", "settings", "events", "created_at",
                         "updated_at"}
    assert set(data["settings"]) == {"url", "insecure_ssl"}
    assert ISO_Z.fullmatch(data["created_at"])
    assert ISO_Z.fullmatch(data["updated_at"])
    assert data["events"] == ["job", "cluster"]
    assert service.hook(hook.id).to_json() == data
