"""Parameterization: what varies in a message becomes a placeholder, pattern by pattern, in order
(grouping.md §6); and trimming to two lines."""

from __future__ import annotations

import random
import re

import pytest

from shoal.digest.grouping.parameterize import _PATTERNS, normalize_message, parameterize, trim_message

CASES = [
    # int: up to seven digits between word boundaries; a minus only when it does not join words
    ("retry 3 of 5", "retry <int> of <int>"),
    ("queue depth 1234567 exceeded", "queue depth <int> exceeded"),
    ("balance -250 below zero", "balance <int> below zero"),
    ("rate-limit-5 hit", "rate-limit-<int> hit"),
    ("utf-16 decoding failed", "utf-<int> decoding failed"),
    ("user42 logged out", "user42 logged out"),
    ("line 7: unexpected indent", "line <int>: unexpected indent"),
    ("year 2026 is not a leap year", "year <int> is not a leap year"),
    ("count=5", "count=<int>"),
    # eight digits and more are hex, not int
    ("invoice 12345678 missing", "invoice <hex> missing"),
    ("phone 0612345678 unreachable", "phone <hex> unreachable"),
    # hex: 0x-prefixed, or 8+ digits of one case containing a digit
    ("segfault at 0x7ffd3a2b1c40", "segfault at <hex>"),
    ("flags 0XFF set", "flags <hex> set"),
    ("hash a3f9c2e18b7d unexpected", "hash <hex> unexpected"),
    ("TOKEN 9F3A2C1B7E revoked", "TOKEN <hex> revoked"),
    ("mixed 9f3A2c1B7e stays", "mixed 9f3A2c1B7e stays"),
    ("word cafebabe has no digit", "word cafebabe has no digit"),
    # git sha: exactly seven lowercase hex digits with a digit and a letter
    ("built from 3f2a9c1", "built from <git_sha>"),
    ("release 1234567 done", "release <int> done"),
    ("tag abcdef1x", "tag abcdef1x"),
    ("not a sha abcdefa", "not a sha abcdefa"),
    # float
    ("took 0.25 of the budget", "took <float> of the budget"),
    ("temperature -3.5 degrees", "temperature <float> degrees"),
    ("ratio 1.5x too high", "ratio <int>.5x too high"),
    # duration: "<n>ms", or "<n>s" / "<n.n>s" ending a word
    ("request took 850ms", "request took <duration>"),
    ("retry in 2.5s", "retry in <duration>"),
    ("timeout 30s exceeded", "timeout <duration> exceeded"),
    ("waited 12 seconds", "waited <int> seconds"),
    ("took 3.5ms", "took <int>.<duration>"),
    # email, also with an IP for a domain (email comes first)
    ("could not notify jane.doe+billing@shop.example", "could not notify <email>"),
    ("sender <ops@mail.example.org> bounced", "sender <<email>> bounced"),
    ("mail to root@localhost failed", "mail to <email> failed"),
    ("smtp abc@10.1.2.3", "smtp <email>"),
    # url: an address inside a URL stays part of the URL, which starts earlier
    ("GET http://api.internal/v1/orders?id=9 returned 500", "GET <url> returned <int>"),
    ("fetch https://user@cdn.example.com/x failed", "fetch <url> failed"),
    ("socket wss://stream.example.io/feed closed", "socket <url> closed"),
    ("download ftp://mirror.example.net/pub/file.tar.gz", "download <url>"),
    ("see http:// for details", "see http:// for details"),
    # hostname: dotted names ending in a common top-level domain, written in one case
    ("lookup failed for payments.stripe.com", "lookup failed for <hostname>"),
    ("CDN.EXAMPLE.NET unreachable", "<hostname> unreachable"),
    ("host db.local refused", "host db.local refused"),
    ("Api.Example.Com is mixed case", "Api.Example.Com is mixed case"),
    ("file settings.py missing", "file settings.py missing"),
    ("module config.io failed", "module <hostname> failed"),
    # ip: v4 and v6, and how they meet versions and the other patterns
    ("connect to 192.168.0.17 refused", "connect to <ip> refused"),
    ("listening on 0.0.0.0:8000", "listening on <ip>:<int>"),
    ("bad address 300.1.2.3", "bad address <float>.<float>"),
    ("version 1.2.3.4", "version <ip>"),
    ("python 3.11.7 required", "python <float>.<int> required"),
    ("bind ::1 failed", "bind <ip> failed"),
    ("route fd00:ab:12:0:0:0:0:1 dropped", "route <ip> dropped"),
    # The abbreviated forms come before the v4-mapped one, and the first that matches wins.
    ("peer ::ffff:10.0.0.1 reset", "peer <ip>.<float>.<int> reset"),
    ("2001:db8::8a2e:370:7334 down", "<ip>:<int>:<int> down"),
    ("Cart::total() failed", "Cart::total() failed"),
    # traceparent, and a W3C header with an unknown flag, which falls apart
    ("span 00-0f1e2d3c4b5a69788796a5b4c3d2e1f0-1a2b3c4d5e6f7081-01 dropped", "span <traceparent> dropped"),
    ("xray 1-65f0a1b2-0123456789abcdef01234567 lost", "xray <traceparent> lost"),
    ("00-0f1e2d3c4b5a69788796a5b4c3d2e1f0-1a2b3c4d5e6f7081-02", "<int>-<md5>-<hex>-<int>"),
    # uuid, sha1, md5 (each before hex)
    ("order 3b1f8e2a-9c4d-4e7f-a6b5-0d2c1e9f8a7b not found", "order <uuid> not found"),
    ("ORDER 3B1F8E2A-9C4D-4E7F-A6B5-0D2C1E9F8A7B", "ORDER <uuid>"),
    ("object 2db0973f709d9f0f5f0aaf61f4061d2570e776f8 missing", "object <sha1> missing"),
    ("etag 87cf2bdb6a4e42faef6c1728e0c888ca changed", "etag <md5> changed"),
    ("blob 87cf2bdb6a4e42faef6c1728e0c888ca1 changed", "blob <hex> changed"),
    # date, one case per family
    ("sent Tue, 17 Mar 2026 09:41:07 +0100", "sent <date>"),
    ("sent Wed, 4 Feb 2026 23:05 GMT", "sent <date>"),
    ("due Feb 14, 2026", "due <date>"),
    ("due Sat Feb 14, 2026", "due <date>"),
    ("at Thursday, 19-Mar-26 08:15:00 EST", "at <date>"),
    ("at Thursday, 19-Mar-26 08:15:00 UTC", "at <date>C"),
    ("at 2026-03-19T08:15:00Z", "at <date>"),
    ("at 2026-03-19T08:15:00.123456+01:00", "at <date>"),
    ("at Thu Mar 19 2026 08:15:00 GMT+0100 (Central European Standard Time)", "at <date>"),
    ("at 2026-03-19 08:15:00", "at <date>"),
    ("at 20260319T081500Z", "at <date>"),
    ("at 2026-03-19 08:15", "at <date>"),
    ("backup 2026-03-19 failed", "backup <date> failed"),
    ("elapsed 25:30:00", "elapsed <date>"),
    ("at 9:05am", "at <date>"),
    ("at 11:59:59 PM", "at <date>"),
    ("at 23:59", "at <date>"),
    ("booted Thu Mar  5 08:15:00 2026", "booted <date>"),
    ("logged 05 Mar 2026 08:15 +0100", "logged <date>"),
    ("datetime.datetime(2026, 3, 19, 8, 15) is naive", "<date> is naive"),
    # OpenStack Swift transaction ids
    ("swift tx5f3a9b2c1d4e6f7a8b9c0-0d1e2f3a4b-eu failed", "swift <swift_txn_id> failed"),
    # quoted strings and booleans, only as the value of key=value
    ("key='abc'", "key=<quoted_str>"),
    ('path="/tmp/x y" missing', "path=<quoted_str> missing"),
    ("id='12' twice", "id=<quoted_str> twice"),
    ("name='' empty", "name='' empty"),
    ("KeyError: 'sku'", "KeyError: 'sku'"),
    ("flag=True set", "flag=<bool> set"),
    ("enabled=false", "enabled=<bool>"),
    ("flag = true", "flag = true"),
    ("debug=TRUE", "debug=TRUE"),
    ("enabled=trueish", "enabled=<bool>ish"),
    # several in one message
    (
        "user 42 at 10.1.2.3 via https://x.example/a at 12:30 took 40ms",
        "user <int> at <ip> via <url> at <date> took <duration>",
    ),
    (
        "Card declined for order 452903: insufficient_funds",
        "Card declined for order <int>: insufficient_funds",
    ),
    ("invalid literal for int() with base 10: 'N/A'", "invalid literal for int() with base <int>: 'N/A'"),
    ("[Errno 111] Connection refused", "[Errno <int>] Connection refused"),
    ("nothing varies here", "nothing varies here"),
    ("", ""),
    ("straße 12 geschlossen", "straße <int> geschlossen"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_it_replaces_what_varies(text: str, expected: str) -> None:
    assert parameterize(text) == expected


def test_the_table_covers_at_least_eighty_cases() -> None:
    assert len(CASES) >= 80


def test_every_pattern_is_exercised_by_the_table() -> None:
    placeholders = {f"<{name}>" for name, _ in _PATTERNS}
    used = {p for p in placeholders if any(p in expected for _, expected in CASES)}
    assert used == placeholders


_PLAIN = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _PATTERNS))
_TOKENS = [
    *"aZé_-.:=@/'\" \t\n%,()",
    *["0", "7", "12", "2026", "0x1F", "deadbeef12", "ABC1234", "3f2a9c1", "Mon", "Jan", "Sunday"],
    *["datetime", "datetime.datetime(", "T", "Z", "PM", "ms", "s", "tx", "http://", "wss://", "www"],
    *["com", "ORG", "fe80", "ffff", "255", "256", "true", "False", "user", "3.14", "00-", "1-", "GMT"],
    *["-0700", "+02:00", "é1", "ß", "Sat,", "::", "a-b"],
]


def test_the_start_guard_never_changes_a_result() -> None:
    # The combined pattern is guarded by a lookahead that skips positions where no pattern can
    # start; on any text it must give what the bare alternatives give.
    rng = random.Random(20260120)
    for _ in range(3000):
        text = "".join(rng.choice(_TOKENS) for _ in range(rng.randint(1, 14)))
        assert parameterize(text) == _PLAIN.sub(lambda m: f"<{m.lastgroup}>", text), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("one line", "one line"),
        ("", ""),
        ("first\nsecond", "first\nsecond"),
        ("first\nsecond\nthird", "first\nsecond..."),
        ("\n\nfirst\n   \nsecond\nthird", "first\nsecond..."),
        ("  indented\n  kept as is", "  indented\n  kept as is"),
        ("trailing newline\n", "trailing newline..."),
        ("windows\r\nline ends", "windows\nline ends..."),
        ("   ", "..."),
    ],
)
def test_it_keeps_the_first_two_non_blank_lines(text: str, expected: str) -> None:
    assert trim_message(text) == expected


def test_normalizing_trims_then_parameterizes() -> None:
    assert (
        normalize_message("retry 3 failed\ncaused by 5\nand 7 more")
        == "retry <int> failed\ncaused by <int>..."
    )
