"""Where an ingest request says which project key it uses (protocol.md §1).

The key can come from the `X-Sentry-Auth` header, an `Authorization: Sentry …` header, the query
string (browser and Node SDKs, to avoid a CORS preflight), or, for envelopes only, the `dsn` in the
envelope header (the JS SDK's tunnel). Giving it two ways at once is an error, as in Relay.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

# The protocol version Shoal speaks; Relay refuses anything newer (protocol.md §1).
PROTOCOL_VERSION = 7
_KEY_LENGTH = 32


class AuthError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True)
class SentryAuth:
    public_key: str
    client: str | None
    # Set when the key came from a DSN: the project id at the end of its path.
    dsn_project_id: int | None = None


def auth_from_request(
    x_sentry_auth: str | None, authorization: str | None, query: bytes
) -> SentryAuth | None:
    """The auth a request carries in its headers or query string; None if it carries none."""
    sources = []
    if x_sentry_auth and _is_sentry_scheme(x_sentry_auth):
        sources.append(_pairs_from_header(x_sentry_auth))
    if authorization and _is_sentry_scheme(authorization):
        sources.append(_pairs_from_header(authorization))
    if b"sentry_" in query:
        sources.append(dict(parse_qsl(query.decode("latin-1"))))
    if len(sources) > 1:
        raise AuthError(401, "multiple authorization payloads detected")
    return _auth_from_pairs(sources[0]) if sources else None


def auth_from_dsn(dsn: object) -> SentryAuth:
    """The auth in an envelope header's `dsn` (e.g. http://KEY@host/PROJECT)."""
    if not isinstance(dsn, str):
        raise AuthError(401, "missing authorization information")
    try:
        parts = urlsplit(dsn)
        project = parts.path.rstrip("/").rsplit("/", 1)[-1]
    except ValueError as exc:
        raise AuthError(401, "bad DSN in envelope header") from exc
    if not parts.username or not project.isdigit():
        raise AuthError(401, "bad DSN in envelope header")
    return SentryAuth(public_key=_valid_key(parts.username), client=None, dsn_project_id=int(project))


def _is_sentry_scheme(value: str) -> bool:
    return value[:7].lower() == "sentry "


def _pairs_from_header(value: str) -> dict[str, str]:
    pairs = {}
    for part in value[7:].split(","):
        key, _, val = part.partition("=")
        pairs[key.strip()] = val.strip()
    return pairs


def _auth_from_pairs(pairs: dict[str, str]) -> SentryAuth:
    key = pairs.get("sentry_key")
    if not key:
        raise AuthError(401, "missing sentry_key in authorization")
    _check_version(pairs.get("sentry_version"))
    return SentryAuth(public_key=_valid_key(key), client=pairs.get("sentry_client"))


def _check_version(version: str | None) -> None:
    if version is None:
        return
    major = version.split(".", 1)[0]
    if not major.isdigit():
        raise AuthError(401, f"bad sentry_version {version!r}")
    if int(major) > PROTOCOL_VERSION:
        raise AuthError(400, f"unsupported protocol version {version!r}")


def _valid_key(key: str) -> str:
    # Relay splits off flags such as "KEY.no-cache" and wants exactly 32 ASCII characters.
    key = key.split(".", 1)[0]
    if len(key) != _KEY_LENGTH or not key.isascii():
        raise AuthError(400, "bad sentry DSN public key")
    return key
