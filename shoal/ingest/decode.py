"""Content-Encoding of request bodies: gzip, deflate, br and zstd, never inflating past a limit.

Every decoder stops as soon as its output would pass `limit`, so a 1 GB gzip bomb costs at most
`limit` bytes of memory and the time to inflate them, not a gigabyte (Relay caps its decoders the
same way, protocol.md §2). The digest decodes spooled bodies with the same function.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import brotli
import zstandard

# Relay drops an empty Content-Encoding (sentry-ruby 5.x) and the value "UTF-8" (sentry-java
# android 2.0) before decoding (protocol.md §2).
_NO_ENCODING = frozenset({"", "identity", "utf-8"})
_READ_CHUNK = 64 * 1024


class BodyTooLarge(Exception):
    """The decoded body would be larger than the limit."""


class UndecodableBody(Exception):
    """The body does not decode with the encoding it claims (the message says why)."""


def decode_body(body: bytes, content_encoding: str, limit: int) -> bytes:
    """Undo every encoding listed in `content_encoding` (last applied, first undone)."""
    data = body
    for name in reversed(content_encoding.lower().split(",")):
        encoding = name.strip()
        if encoding in _NO_ENCODING:
            continue
        decoder = _DECODERS.get(encoding)
        if decoder is None:
            raise UndecodableBody(f"unsupported Content-Encoding {encoding!r}")
        data = decoder(data, limit)
    if len(data) > limit:
        raise BodyTooLarge()
    return data


def normalize_encoding(content_encoding: str) -> str:
    """The encoding as the spool records it: lower-case, "" when nothing needs undoing."""
    names = [name.strip() for name in content_encoding.lower().split(",")]
    return ",".join(name for name in names if name not in _NO_ENCODING)


def _gunzip(data: bytes, limit: int) -> bytes:
    return _inflate(data, limit, wbits=16 + zlib.MAX_WBITS, name="gzip")


def _inflate_deflate(data: bytes, limit: int) -> bytes:
    # HTTP's "deflate" is zlib-wrapped (RFC 1950), but some clients send a raw deflate stream.
    try:
        return _inflate(data, limit, wbits=zlib.MAX_WBITS, name="deflate")
    except UndecodableBody:
        return _inflate(data, limit, wbits=-zlib.MAX_WBITS, name="deflate")


def _inflate(data: bytes, limit: int, wbits: int, name: str) -> bytes:
    out = bytearray()
    remaining = data
    # A gzip body may hold several members one after another; decode them all.
    while True:
        decompressor = zlib.decompressobj(wbits)
        try:
            out += decompressor.decompress(remaining, limit + 1 - len(out))
        except zlib.error as exc:
            raise UndecodableBody(f"invalid {name} body: {exc}") from exc
        if len(out) > limit or decompressor.unconsumed_tail:
            raise BodyTooLarge()
        if not decompressor.eof:
            raise UndecodableBody(f"truncated {name} body")
        remaining = decompressor.unused_data
        if not remaining:
            return bytes(out)


def _unbrotli(data: bytes, limit: int) -> bytes:
    decompressor = brotli.Decompressor()
    try:
        out: bytes = decompressor.process(data, output_buffer_limit=limit + 1)
    except brotli.error as exc:
        raise UndecodableBody(f"invalid br body: {exc}") from exc
    if len(out) > limit:
        raise BodyTooLarge()
    if not decompressor.is_finished():
        raise UndecodableBody("truncated br body")
    return out


def _unzstd(data: bytes, limit: int) -> bytes:
    out = bytearray()
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True)
        while chunk := reader.read(_READ_CHUNK):
            out += chunk
            if len(out) > limit:
                raise BodyTooLarge()
        # The bounded reader returns what it has at a truncated end without complaint; the output
        # is known to fit now, so an unbounded decoder can tell whether the last frame was whole.
        _check_zstd_frames_complete(data)
    except zstandard.ZstdError as exc:
        raise UndecodableBody(f"invalid zstd body: {exc}") from exc
    return bytes(out)


def _check_zstd_frames_complete(data: bytes) -> None:
    remaining = data
    while remaining:
        checker = zstandard.ZstdDecompressor().decompressobj()
        checker.decompress(remaining)
        if not checker.eof:
            raise UndecodableBody("truncated zstd body")
        remaining = checker.unused_data


_DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": _gunzip,
    "x-gzip": _gunzip,
    "deflate": _inflate_deflate,
    "br": _unbrotli,
    "zstd": _unzstd,
}
