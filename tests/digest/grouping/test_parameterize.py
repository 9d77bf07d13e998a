"""Parameterization: what varies in a message becomes a placeholder, pattern by pattern, in order."""

from __future__ import annotations

import pytest

from shoal.digest.grouping.parameterize import normalize_message, parameterize, trim_message

CASES = [
    # int: up to seven digits, with word boundaries; a minus only when not joining words
    ("testing testing 1, 2, 3", "testing testing <int>, <int>, <int>"),
    ("Test 2", "Test <int>"),
    ("Charlie didn't bring 2 balls back!", "Charlie didn't bring <int> balls back!"),
    ("retry 1234567 failed", "retry <int> failed"),
    ("offset -42 is negative", "offset <int> is negative"),
    ("order-42 and utf-8", "order-<int> and utf-<int>"),
    ("room101", "room101"),
    # eight or more digits are hex, not int
    ("id 12345678", "id <hex>"),
    ("phone 0123456789", "phone <hex>"),
    # float
    ("took 3.14 of 2.0", "took <float> of <float>"),
    ("delta -0.5 now", "delta <float> now"),
    # duration
    ("request took 250ms", "request took <duration>"),
    ("timeout after 30s", "timeout after <duration>"),
    ("timeout after 1.5s", "timeout after <duration>"),
    (
        "Payment provider did not answer within 12s (attempt 3)",
        "Payment provider did not answer within <duration> (attempt <int>)",
    ),
    # email
    ("user a.b+c@example.com not found", "user <email> not found"),
    ("mail x@localhost failed", "mail <email> failed"),
    # url (an email inside a URL stays part of the URL)
    ("GET https://shop.example/cart?id=1 failed", "GET <url> failed"),
    ("ws://host:8080/socket closed", "<url> closed"),
    ("see ftp://files.example.org/a", "see <url>"),
    # hostname, by common top-level domain, in one case
    ("api.stripe.com timed out", "<hostname> timed out"),
    ("DB.EXAMPLE.ORG is down", "<hostname> is down"),
    ("cannot reach db.internal", "cannot reach db.internal"),
    ("Foo.Com mixed case", "Foo.Com mixed case"),
    # ip
    ("connect to 10.0.0.12 refused", "connect to <ip> refused"),
    ("redis 192.168.1.20:6379 READONLY", "redis <ip>:<int> READONLY"),
    ("bind ::1 failed", "bind <ip> failed"),
    # Alternatives are tried in order and the abbreviated "h::h" form comes first, so a longer
    # link-local address is only partly replaced (the same order gives Sentry the same result).
    ("from fe80::1ff:fe23:4567:890a", "from <ip>:fe23:<int>:890a"),
    ("2001:db8:85a3:0:0:8a2e:370:7334 unreachable", "<ip> unreachable"),
    ("SomeClass::someMethod() failed", "SomeClass::someMethod() failed"),
    ("octet 256.1.1.1", "octet <float>.<float>"),
    # traceparent
    ("trace 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 lost", "trace <traceparent> lost"),
    ("aws 1-5759e988-bd862e3fe1be46a994272793", "aws <traceparent>"),
    # uuid, sha1, md5
    ("Refund 123e4567-e89b-12d3-a456-426614174000 stuck", "Refund <uuid> stuck"),
    ("UPPER 123E4567-E89B-12D3-A456-426614174000", "UPPER <uuid>"),
    ("commit da39a3ee5e6b4b0d3255bfef95601890afd80709 missing", "commit <sha1> missing"),
    ("etag d41d8cd98f00b204e9800998ecf8427e changed", "etag <md5> changed"),
    # dates of every family
    ("at 2026-11-24T17:12:16.847536Z", "at <date>"),
    ("at 2026-11-24T17:12:16+02:00", "at <date>"),
    ("at 2026-11-24 17:12:16", "at <date>"),
    ("at 2026-11-24 17:12", "at <date>"),
    ("on 2026-11-24 only", "on <date> only"),
    ("Mon, 02 Jan 2006 15:04:05 -0700 bad", "<date> bad"),
    ("Mon, 2 Jan 2006 15:04 GMT", "<date>"),
    ("Jan 02, 1999 report", "<date> report"),
    ("Monday, 02-Jan-06 15:04:05 MST x", "<date> x"),
    ("Mon Jan 02 2006 15:04:05 GMT-0700 (Mountain Standard Time)", "<date>"),
    ("Mon Jan  2 15:04:05 2006 boot", "<date> boot"),
    ("at 3:04 PM", "at <date>"),
    ("at 3:04:05pm", "at <date>"),
    ("at 15:04", "at <date>"),
    ("at 07:04:05", "at <date>"),
    ("datetime.datetime(2026, 11, 24, 17, 12) is naive", "<date> is naive"),
    # swift transaction ids
    ("tx0123456789abcdef01234-0123456789 failed", "<swift_txn_id> failed"),
    # hex
    ("pointer 0x7fff5fbff8a8 invalid", "pointer <hex> invalid"),
    ("flag 0XFF set", "flag <hex> set"),
    ("token deadbeef12 expired", "token <hex> expired"),
    ("TOKEN DEADBEEF12", "TOKEN <hex>"),
    ("mixed DeadBeef12 stays", "mixed DeadBeef12 stays"),
    ("word deadbeefcafe has no digit", "word deadbeefcafe has no digit"),
    # git sha: seven lower-case hex with a digit and a letter
    ("deployed abc1234 today", "deployed <git_sha> today"),
    ("not a sha: abcdefa", "not a sha: abcdefa"),
    # quoted strings and booleans only after '='
    ("key='abc' other='x y'", "key=<quoted_str> other=<quoted_str>"),
    ('name="bob" ok', "name=<quoted_str> ok"),
    ("KeyError: 'SKU1234'", "KeyError: 'SKU1234'"),
    ("enabled=true visible=False", "enabled=<bool> visible=<bool>"),
    ("it is true", "it is true"),
    # several patterns in one message, and ordering between them
    ("Card declined for order 4711: insufficient_funds", "Card declined for order <int>: insufficient_funds"),
    ("invalid literal for int() with base 10: 'XKQ'", "invalid literal for int() with base <int>: 'XKQ'"),
    ("[Errno 104] Connection reset by peer", "[Errno <int>] Connection reset by peer"),
    ("unknown encoding: utf8", "unknown encoding: utf8"),
    ("version 1.2.3 not supported", "version <float>.<int> not supported"),
    ("user 42 at 10.1.2.3 via https://x.example/a at 12:30", "user <int> at <ip> via <url> at <date>"),
    ("nothing to replace here", "nothing to replace here"),
    ("port 8080 closed", "port <int> closed"),
    ("limit=100 exceeded", "limit=<int> exceeded"),
    ("ratio=0.75 too high", "ratio=<float> too high"),
    ("items: [1, 2]", "items: [<int>, <int>]"),
    ("Expected 3 arguments, got 4", "Expected <int> arguments, got <int>"),
    ("", ""),
    ("unicode ünïcödé 5", "unicode ünïcödé <int>"),
    ("Slow checkout: 2345 ms for cart with 3 items", "Slow checkout: <int> ms for cart with <int> items"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_it_replaces_what_varies(text: str, expected: str) -> None:
    assert parameterize(text) == expected


def test_the_table_covers_at_least_eighty_cases() -> None:
    assert len(CASES) >= 80


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("one line", "one line"),
        ("first\nsecond", "first\nsecond"),
        ("first\nsecond\nthird", "first\nsecond..."),
        ("\n\nfirst\n   \nsecond\nthird", "first\nsecond..."),
        ("  indented\n  kept as is", "  indented\n  kept as is"),
        ("trailing newline\n", "trailing newline..."),
    ],
)
def test_it_keeps_the_first_two_non_blank_lines(text: str, expected: str) -> None:
    assert trim_message(text) == expected


def test_normalizing_trims_then_parameterizes() -> None:
    assert (
        normalize_message("retry 3 failed\ncaused by 5\nand 7 more")
        == "retry <int> failed\ncaused by <int>..."
    )
