"""Content-Encoding: every encoding the SDKs use, and a hard cap on what a body may inflate to."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable

import brotli
import pytest
import zstandard

from shoal.ingest.decode import BodyTooLarge, UndecodableBody, decode_body, normalize_encoding

DATA = b'{"message":"hello"}' * 200

ENCODED = {
    "gzip": gzip.compress(DATA),
    "x-gzip": gzip.compress(DATA),
    "deflate": zlib.compress(DATA),
    "br": brotli.compress(DATA),
    "zstd": zstandard.ZstdCompressor().compress(DATA),
}


@pytest.mark.parametrize("encoding", sorted(ENCODED))
def test_it_decodes_each_encoding(encoding: str) -> None:
    assert decode_body(ENCODED[encoding], encoding, 10**6) == DATA


@pytest.mark.parametrize("encoding", ["", "identity", "UTF-8", "utf-8"])
def test_it_ignores_the_encodings_relay_ignores(encoding: str) -> None:
    assert decode_body(DATA, encoding, 10**6) == DATA


def test_it_decodes_raw_deflate_which_some_clients_send_as_deflate() -> None:
    raw = zlib.compressobj(wbits=-15)
    body = raw.compress(DATA) + raw.flush()
    assert decode_body(body, "deflate", 10**6) == DATA


def test_it_undoes_stacked_encodings_last_first() -> None:
    body = brotli.compress(gzip.compress(DATA))
    assert decode_body(body, "gzip, br", 10**6) == DATA


def test_it_decodes_a_gzip_body_of_several_members() -> None:
    assert decode_body(gzip.compress(b"ab") + gzip.compress(b"cd"), "gzip", 100) == b"abcd"


@pytest.mark.parametrize("encoding", sorted(ENCODED))
def test_it_refuses_output_past_the_limit(encoding: str) -> None:
    with pytest.raises(BodyTooLarge):
        decode_body(ENCODED[encoding], encoding, len(DATA) - 1)


def test_it_refuses_an_identity_body_past_the_limit() -> None:
    with pytest.raises(BodyTooLarge):
        decode_body(DATA, "", len(DATA) - 1)


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda data: gzip.compress(data, 1),
    "deflate": lambda data: zlib.compress(data, 1),
    "br": lambda data: brotli.compress(data, quality=1),
    "zstd": lambda data: zstandard.ZstdCompressor(level=1).compress(data),
}


@pytest.mark.parametrize("encoding", sorted(COMPRESSORS))
def test_it_stops_a_bomb_without_inflating_it(encoding: str) -> None:
    zeros = b"\0" * (64 * 1024 * 1024)
    bomb = COMPRESSORS[encoding](zeros)
    assert len(bomb) < len(zeros) // 100
    with pytest.raises(BodyTooLarge):
        decode_body(bomb, encoding, 1024 * 1024)


@pytest.mark.parametrize("encoding", sorted(ENCODED))
def test_it_refuses_a_truncated_body(encoding: str) -> None:
    with pytest.raises(UndecodableBody):
        decode_body(ENCODED[encoding][:-8], encoding, 10**6)


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd", "deflate"])
def test_it_refuses_garbage(encoding: str) -> None:
    with pytest.raises(UndecodableBody):
        decode_body(b"this is not compressed at all", encoding, 10**6)


def test_it_refuses_an_encoding_it_does_not_know() -> None:
    with pytest.raises(UndecodableBody, match="unsupported Content-Encoding 'compress'"):
        decode_body(DATA, "compress", 10**6)


def test_it_records_the_encoding_in_canonical_form() -> None:
    assert normalize_encoding("GZIP") == "gzip"
    assert normalize_encoding("UTF-8") == ""
    assert normalize_encoding("gzip, identity, br") == "gzip,br"
