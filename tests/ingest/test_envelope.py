"""Envelope parsing: both SDK styles, and every way an envelope can be malformed."""

from __future__ import annotations

import pytest

from shoal.ingest.envelope import EnvelopeError, parse_envelope

EVENT = b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","message":"hi"}'


def test_it_parses_python_style_with_lengths_and_trailing_newline() -> None:
    body = (
        b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","sent_at":"2026-11-24T17:12:16.847536Z"}\n'
        + b'{"type":"event","content_type":"application/json","length":%d}\n' % len(EVENT)
        + EVENT
        + b"\n"
        + b'{"type":"attachment","filename":"a.txt","length":5}\n'
        + b"a\nb\rc\n"[:5]
        + b"\n"
    )
    envelope = parse_envelope(body)
    assert envelope.headers["event_id"] == "9ec79c33ec9942ab8353589fcb2e04dc"
    assert [item.type for item in envelope.items] == ["event", "attachment"]
    assert envelope.items[0].payload == EVENT
    assert envelope.items[1].payload == b"a\nb\rc"


def test_it_parses_js_style_without_lengths_or_trailing_newline() -> None:
    body = b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","sdk":{"name":"sentry.javascript.node"}}\n'
    body += b'{"type":"event"}\n' + EVENT + b'\n{"type":"session"}\n{"status":"ok"}'
    envelope = parse_envelope(body)
    assert [item.type for item in envelope.items] == ["event", "session"]
    assert envelope.items[0].payload == EVENT
    assert envelope.items[1].payload == b'{"status":"ok"}'


def test_it_keeps_a_carriage_return_inside_a_payload_without_length() -> None:
    envelope = parse_envelope(b'{}\n{"type":"x"}\nab\r\n')
    assert envelope.items[0].payload == b"ab\r"


@pytest.mark.parametrize("body", [b"{}", b"{}\n"])
def test_it_accepts_an_envelope_with_only_a_header(body: bytes) -> None:
    assert parse_envelope(body).items == []


def test_it_keeps_unknown_item_types_and_header_fields() -> None:
    envelope = parse_envelope(b'{"future":1}\n{"type":"hologram","shape":"cube","length":2}\nok\n')
    assert envelope.headers == {"future": 1}
    assert envelope.items[0].type == "hologram"
    assert envelope.items[0].headers["shape"] == "cube"


def test_it_accepts_an_item_header_at_the_very_end_as_an_empty_payload() -> None:
    envelope = parse_envelope(b'{}\n{"type":"event"}')
    assert envelope.items[0].payload == b""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json\n", "envelope header is not valid JSON"),
        (b"[1,2]\n", "envelope header is not a JSON object"),
        (b'{}\r\n{"type":"event"}\n{}', "envelope header ends with a carriage return"),
        (b'{}\n{"length":2}\nab', "item 1 header has no type"),
        (b'{}\n{"type":""}\nab', "item 1 header has no type"),
        (b'{}\n{"type":"event","length":10}\nabc', "item 1 is shorter than its length 10"),
        (b'{}\n{"type":"event","length":2}\nabc\n', "item 1 is longer than its length 2"),
        (b'{}\n{"type":"event","length":-1}\nabc', "item 1 has an invalid length -1"),
        (b'{}\n{"type":"event","length":"2"}\nab', "item 1 has an invalid length '2'"),
        (b'{}\n{"type":"event","length":true}\nab', "item 1 has an invalid length True"),
        (b'{}\n{"type":"event","length":2}\nab\n\n', "item 2 header is missing"),
        (b'{}\n{"type":"ev\xffent"}\nab', "item 1 header is not valid JSON"),
        (b'{}\n{"type":"event"', "item 1 header is not valid JSON"),
    ],
)
def test_it_refuses_a_malformed_envelope_with_a_message_that_says_where(body: bytes, message: str) -> None:
    with pytest.raises(EnvelopeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_envelope(body)
