"""A corpus of hook URLs and their verdicts (the URL rules of hookadmin.core.hooks).

Accepted URLs map to their canonical stored form; rejected ones to a fragment of the
one-sentence message. tests/core/test_hooks.py has the basic table; this corpus adds
the hostile and unusual spellings: IDNA 2008 / UTS #46 hosts, legacy IPv4 forms,
IPv6 literals, brackets, invisible characters, user info tricks, lengths.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from hookadmin.core.errors import InputError
from hookadmin.core.hooks import MAX_URL_LENGTH, validate_url
from tests.helpers import db_rows
from tests.security.support import one_line_error, run_main

LONGEST_PATH = "x" * (MAX_URL_LENGTH - len("https://example.com/"))

ACCEPTED: list[tuple[str, str]] = [
    # IDN hosts: IDNA 2008 with UTS #46 mapping, stored as punycode.
    ("https://straße.de/h", "https://xn--strae-oqa.de/h"),  # ß is kept (IDNA 2003: ss)
    ("https://faß.de/", "https://xn--fa-hia.de/"),
    ("https://STRASSE.de/h", "https://strasse.de/h"),
    ("https://münchen.de:8443/a?b=c", "https://xn--mnchen-3ya.de:8443/a?b=c"),
    ("https://MÜNCHEN.DE/", "https://xn--mnchen-3ya.de/"),  # UTS #46 lower-cases
    ("https://παράδειγμα.δοκιμή/", "https://xn--hxajbheg2az3al.xn--jxalpdlp/"),
    ("https://пример.рф/", "https://xn--e1afmkfd.xn--p1ai/"),
    ("https://例え.テスト/", "https://xn--r8jz45g.xn--zckzah/"),
    ("https://例え。テスト/", "https://xn--r8jz45g.xn--zckzah/"),  # ideographic full stop
    ("https://مثال.إختبار/", "https://xn--mgbh0fb.xn--kgbechtv/"),
    ("https://ＥＸＡＭＰＬＥ.com/", "https://example.com/"),  # full-width letters map
    ("https://ﬁle.example/", "https://file.example/"),  # the fi ligature maps to "fi"
    ("https://xn--strae-oqa.de/", "https://xn--strae-oqa.de/"),
    ("https://Xn--Strae-Oqa.DE/", "https://xn--strae-oqa.de/"),
    # Trailing dot (the DNS root) is dropped.
    ("https://straße.de./", "https://xn--strae-oqa.de/"),
    ("https://Example.COM./hooks", "https://example.com/hooks"),
    # IP literals (the network policy judges them at connect time, not here).
    ("http://192.0.2.10:8080/x", "http://192.0.2.10:8080/x"),
    ("http://10.0.0.1/", "http://10.0.0.1/"),
    ("http://0.0.0.0/", "http://0.0.0.0/"),
    ("https://[::1]/", "https://[::1]/"),
    ("http://[2001:0DB8:0000:0000:0000:0000:0000:0001]/", "http://[2001:db8::1]/"),
    ("http://[2001:db8::]:443/h", "http://[2001:db8::]:443/h"),
    # Internal addresses (NAT64, 6to4) are allowed on a workstation: strict mode refuses
    # them at connect time.
    ("http://[64:ff9b::7f00:1]/", "http://[64:ff9b::7f00:1]/"),
    ("http://[2002:c0a8:101::1]:8080/", "http://[2002:c0a8:101::1]:8080/"),
    ("http://[64:ff9b::808:808]/", "http://[64:ff9b::808:808]/"),
    # Ports.
    ("https://example.com:08080/", "https://example.com:8080/"),
    ("https://example.com:/", "https://example.com/"),  # empty port: the default
    ("https://localhost:65535/h", "https://localhost:65535/h"),
    # Scheme and host are lower-cased; path and query are kept byte for byte.
    ("HTTP://EXAMPLE.COM/Path", "http://example.com/Path"),
    ("https://example.com/a/../b", "https://example.com/a/../b"),
    ("https://example.com//double//slashes", "https://example.com//double//slashes"),
    ("https://example.com/%7Efoo?x=%2F", "https://example.com/%7Efoo?x=%2F"),
    ("https://example.com/ü?ä=ö", "https://example.com/ü?ä=ö"),
    ("https://hooks.example.com/in?token=abc&x=1", "https://hooks.example.com/in?token=abc&x=1"),
    ("https://example.com/?", "https://example.com/"),  # an empty query is dropped
    ("https://example.com/#", "https://example.com/"),  # so is an empty fragment
    # Plain http is accepted (the CLI and the window warn about it).
    ("http://plain.example/hook", "http://plain.example/hook"),
    # Host names: single labels, digits, the 63-character label limit.
    ("https://example", "https://example/"),
    ("https://1.com/", "https://1.com/"),
    ("https://example.123abc/", "https://example.123abc/"),
    ("https://" + "a" * 63 + ".com/", "https://" + "a" * 63 + ".com/"),
    # Surrounding whitespace is stripped.
    ("\t https://example.com/x \n", "https://example.com/x"),
    ("https://example.com/x\u3000", "https://example.com/x"),  # ideographic space
    # Exactly the maximum length.
    ("https://example.com/" + LONGEST_PATH, "https://example.com/" + LONGEST_PATH),
]

LEGACY_IPV4 = "IPv4 address in a legacy form"
NOT_A_NUMBER_HOST = "neither an IP address nor a domain name"
BRACKETS = "must be an IPv6 address"
SPACES = "contains spaces"
CONTROL = "control characters"
USERINFO = "must not contain a user name or password"
START = "must start with https:// or http://"
NO_HOST = "has no host"
PORT = "port is not valid"
DOMAIN = "not a valid domain name"

REJECTED: list[tuple[str, str]] = [
    # never deliverable, so refused when entered (the connect-time policy refuses
    # names that resolve there)
    ("http://169.254.169.254/latest/meta-data/", "link-local or a cloud metadata"),
    ("http://[FE80::1]:80/", "link-local or a cloud metadata"),
    ("http://[fd00:ec2::254]/", "link-local or a cloud metadata"),
    ("http://[::ffff:169.254.169.254]:8080/x", "link-local or a cloud metadata"),
    ("http://100.100.100.200/latest/meta-data/", "link-local or a cloud metadata"),
    ("http://[64:ff9b::a9fe:a9fe]/", "link-local or a cloud metadata"),  # NAT64
    ("http://[64:ff9b::169.254.169.254]/", "link-local or a cloud metadata"),
    ("http://[64:ff9b:1::a9fe:a9fe]/", "link-local or a cloud metadata"),
    ("http://[::169.254.169.254]/", "link-local or a cloud metadata"),  # IPv4-compatible
    ("http://[2002:a9fe:a9fe::]/", "link-local or a cloud metadata"),  # 6to4
    # Legacy IPv4 spellings that resolvers still honour (all of them are 127.0.0.1).
    ("http://127.1/", LEGACY_IPV4),
    ("http://127.0.1/", LEGACY_IPV4),
    ("http://2130706433/", LEGACY_IPV4),
    ("http://0x7f000001/", LEGACY_IPV4),
    ("http://0x7f.0.0.1/", LEGACY_IPV4),
    ("http://0177.0.0.1/", LEGACY_IPV4),
    ("http://017700000001/", LEGACY_IPV4),
    ("http://01.02.03.04/", LEGACY_IPV4),
    ("https://123/", LEGACY_IPV4),
    ("http://256.1.1.1/", NOT_A_NUMBER_HOST),
    ("http://1.2.3.4.5/", NOT_A_NUMBER_HOST),
    ("https://a.123/", NOT_A_NUMBER_HOST),
    # Brackets hold an IPv6 address and nothing else.
    ("http://[127.0.0.1]/", "cannot be parsed"),
    ("http://[v1.fe]/", BRACKETS),  # an IPvFuture literal, not the host "v1.fe"
    ("http://[::1]x/", BRACKETS),  # text after the bracket is not silently dropped
    ("http://[::1]]/", BRACKETS),
    ("http://::1/", NO_HOST),
    # Ports.
    ("http://[::1]:0/", PORT),
    ("http://[::1]:65536/", PORT),
    ("https://example.com:+80/", PORT),
    ("https://example.com:-1/", PORT),
    # Spaces and control characters, wherever they are.
    ("https://example.com: 80/", SPACES),
    ("https://exa\tmple.com/", SPACES),
    ("https://example.com/\r\nX-Injected: 1", SPACES),  # header injection attempt
    ("https://example.com/a\u2028b", SPACES),  # line separator
    ("https://example.com/a\u3000b", SPACES),
    ("https://exa\u00a0mple.com/", SPACES),
    ("https://example.com/\x7f", CONTROL),
    ("https://example.com/\x1b[31m", CONTROL),
    # Invisible format characters: a right-to-left override makes the URL display
    # differently from where it points; zero-width characters hide in plain sight.
    ("https://example.com/a\u202eb", CONTROL),
    ("https://example.com/a\u200bb", CONTROL),
    ("https://ex\u00adample.com/", CONTROL),  # soft hyphen
    ("https://a\u200db.com/", CONTROL),  # zero-width joiner
    ("\ufeffhttps://example.com/", CONTROL),  # a byte-order mark pasted in front
    # User info, including the spellings that fool parsers about the real host.
    ("https://@example.com/", USERINFO),
    ("https://user@/", USERINFO),
    ("https://example.com@evil.example/", USERINFO),
    ("https://evil.example\\@example.com/", USERINFO),
    ("https://a:b@c:d@example.com/", USERINFO),
    # Fragments are never sent.
    ("https://example.com/a?x=1#frag", "#fragment"),
    ("https://straße.de/#top", "#fragment"),
    # Schemes.
    ("https:example.com/", START),
    ("//example.com/x", START),
    ("http//example.com", START),
    ("data:text/plain,hi", START),
    ("gopher://x/", "scheme 'gopher' is not supported"),
    ("httpss://example.com", "scheme 'httpss' is not supported"),
    ("HTTPS+xyz://a/", "scheme 'https+xyz' is not supported"),
    ("javascript://example.com/%0aalert(1)", "scheme 'javascript' is not supported"),
    ("ftp://user:pass@example.com/", "scheme 'ftp' is not supported"),
    ("https:///example.com", NO_HOST),
    # Host names IDNA 2008 refuses, and broken labels.
    ("https://☃.net/", DOMAIN),  # symbols were IDNA 2003 only
    ("https://.example.com/", DOMAIN),
    ("https://example.com\\path", DOMAIN),
    # Very long URLs.
    ("https://example.com/" + LONGEST_PATH + "x", f"longer than {MAX_URL_LENGTH}"),
    ("https://" + "a" * 2100 + ".com/", f"longer than {MAX_URL_LENGTH}"),
]


def test_the_corpus_is_big_enough() -> None:
    assert len(ACCEPTED) + len(REJECTED) >= 60
    given = [u for u, _ in ACCEPTED] + [u for u, _ in REJECTED]
    assert len(set(given)) == len(given)


@pytest.mark.parametrize(("given", "canonical"), ACCEPTED)
def test_accepted_url_is_stored_in_canonical_form(given: str, canonical: str) -> None:
    assert validate_url(given) == canonical
    assert validate_url(canonical) == canonical  # canonical forms are stable
    host = urlsplit(canonical).hostname
    assert host is not None
    assert host.isascii()  # IDN hosts are stored as punycode


@pytest.mark.parametrize(("given", "fragment"), REJECTED)
def test_rejected_url_gets_one_sentence_naming_the_rule(given: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        validate_url(given)
    message = str(info.value)
    assert fragment in message
    assert info.value.field == "url"
    assert "\n" not in message
    assert message.endswith(".")
    netloc = given.strip().split("//", 1)[-1].split("/", 1)[0]
    if "@" in netloc:
        assert netloc not in message  # credentials are never echoed back


@pytest.mark.parametrize("given", ["http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
                                   "http://[::ffff:10.1.2.3]:8080/x"])
def test_ipv4_mapped_ipv6_literals_are_kept_as_the_same_address(given: str) -> None:
    # The text form of a mapped address differs between Python versions, so compare
    # addresses; the network policy unwraps them at connect time.
    canonical = validate_url(given)
    inside = canonical.split("[", 1)[1].split("]", 1)[0]
    assert ipaddress.ip_address(inside) == ipaddress.ip_address(given.split("[")[1].split("]")[0])
    assert validate_url(canonical) == canonical


def test_cli_stores_an_idn_host_in_punycode_and_warns_about_plain_http(home: Path) -> None:
    added = run_main("hooks", "add", "--url", "http://Straße.de/hook", "--event", "job",
                    home=home)
    assert added.returncode == 0, added.stderr
    assert "  URL:      http://xn--strae-oqa.de/hook" in added.stdout
    assert "Warning:  plain http: deliveries travel unencrypted" in added.stdout
    assert db_rows(home, "SELECT url FROM hooks") == [("http://xn--strae-oqa.de/hook",)]
    shown = run_main("hooks", "show", "1", home=home)
    assert shown.returncode == 0
    assert "Warning:  plain http: deliveries travel unencrypted" in shown.stdout
    secure = run_main("hooks", "add", "--url", "https://straße.de/hook", "--event", "job",
                     home=home)
    assert secure.returncode == 0
    assert "Warning" not in secure.stdout
    assert "Warning" not in run_main("hooks", "show", "2", home=home).stdout


def test_cli_rejects_bad_urls_with_exit_2_and_one_line(home: Path) -> None:
    for given, fragment in [("http://2130706433/", LEGACY_IPV4),
                            ("https://user:pass@example.com/", USERINFO)]:
        result = run_main("hooks", "add", "--url", given, "--event", "job", home=home)
        assert result.returncode == 2
        assert fragment in one_line_error(result.stderr)
        assert "user:pass@example" not in result.stderr
        assert result.stdout == ""
    assert db_rows(home, "SELECT count(*) FROM hooks") == [(0,)]
    assert run_main("hooks", "add", "--url", "https://ok.example/h", home=home).returncode == 0
    edited = run_main("hooks", "edit", "1", "--url", "http://[v1.fe]/", home=home)
    assert edited.returncode == 2
    assert BRACKETS in one_line_error(edited.stderr)
    assert db_rows(home, "SELECT url FROM hooks") == [("https://ok.example/h",)]
