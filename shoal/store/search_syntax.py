"""Sentry's issue search syntax, read into a small typed query (docs/search.md).

A query is `key:value` tokens and free text, all ANDed (Sentry's issue search has no OR and no
parentheses, reference §9.6). `!key:value` negates a token, `*` in a value is a wildcard,
`"quoted values"` may hold spaces, `key:[a, b]` matches any of a list, numbers and times compare
with `> >= < <= =`, and times may be relative (`-24h`: within the last 24 hours, `+7d`: longer
ago than 7 days). Keys Shoal does not reserve are tag keys; `tags[key]:value` reaches a tag whose
key is reserved.

Nothing here touches the database: `shoal.store.search` turns a `Query` into SQL. A query that
cannot be read raises `SearchError` with a sentence for the person who typed it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

MAX_QUERY_CHARS = 2000

STATUSES = (
    "unresolved",
    "resolved",
    "ignored",
    "archived",
    "regressed",
    "escalating",
    "new",
    "ongoing",
    "assigned",
    "unassigned",
)

# The keys Shoal reserves, each spelling Sentry accepts mapped to one name.
_FIELDS = {
    "is": "is",
    "level": "level",
    "release": "release",
    "firstRelease": "first_release",
    "first-release": "first_release",
    "first_release": "first_release",
    "environment": "environment",
    "assigned": "assigned",
    "firstSeen": "first_seen",
    "first_seen": "first_seen",
    "age": "first_seen",
    "lastSeen": "last_seen",
    "last_seen": "last_seen",
    "timesSeen": "times_seen",
    "times_seen": "times_seen",
    "users_seen": "users_seen",
    "user.count": "users_seen",
    "issue": "issue",
    "has": "has",
}

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_RELATIVE = re.compile(r"([+-])(\d{1,6})([mhdw])")
_COMPARISON = re.compile(r"(>=|<=|>|<|=)?(.*)", re.DOTALL)
# A token is key:value when it starts with a key and a colon; anything else is free text.
_KEY = re.compile(r"(!?)(tags\[([^\]\s]+)\]|[A-Za-z0-9_.\-]+):")


class SearchError(ValueError):
    """The query cannot be read; the message says why, for the person who typed it."""


# ----------------------------------------------------------------------------------- the query


@dataclass(frozen=True)
class Status:
    """`is:`: a status, substatus or assignment state, any of `values`."""

    values: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class FieldMatch:
    """`level:` or `firstRelease:`, a column of the issue; a value with `*` is a pattern."""

    field: str  # level | first_release
    values: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class TagMatch:
    """An event of the issue had tag `key` with one of `values` (release and environment are tags)."""

    key: str
    values: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class HasTag:
    """An event of the issue had tag `key`, any of `keys`, with any value."""

    keys: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class Assigned:
    """`assigned:`: `me`, `none` or an email address, any of `values`."""

    values: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class TimeBound:
    """`first_seen` or `last_seen` compared with `op` to a moment: a timestamp (`at`) or so many
    seconds before the time the query runs (`ago`)."""

    field: str  # first_seen | last_seen
    op: str  # > >= < <=
    at: float | None = None
    ago: int | None = None
    negated: bool = False


@dataclass(frozen=True)
class CountBound:
    field: str  # times_seen | users_seen
    op: str  # > >= < <= =
    value: int
    negated: bool = False


@dataclass(frozen=True)
class ShortId:
    """`issue:SHOP-12`: a project slug (lower-cased) and the number, any of `ids`."""

    ids: tuple[tuple[str, int], ...]
    negated: bool = False


Filter = Status | FieldMatch | TagMatch | HasTag | Assigned | TimeBound | CountBound | ShortId


@dataclass(frozen=True)
class Query:
    filters: tuple[Filter, ...] = ()
    text: tuple[str, ...] = ()  # free-text terms, each to be found in the title or the culprit
    source: str = field(default="", compare=False)


# ---------------------------------------------------------------------------------- the reader


def parse_query(source: str) -> Query:
    """The query `source` says; SearchError when it cannot be read."""
    if len(source) > MAX_QUERY_CHARS:
        raise SearchError(f"A search has at most {MAX_QUERY_CHARS:,} characters.")
    if "\x00" in source:
        # Nothing stored holds one (the digest replaces them), and PostgreSQL refuses to compare.
        raise SearchError("A search cannot contain a NUL character.")
    reader = _Reader(source)
    filters: list[Filter] = []
    text: list[str] = []
    while reader.skip_spaces():
        token = reader.token()
        if isinstance(token, str):
            text.append(token)
        else:
            filters.extend(_filters(*token))
    return Query(tuple(filters), tuple(text), source)


class _Reader:
    """Walks the query text a token at a time."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.at = 0

    def skip_spaces(self) -> bool:
        """Past the spaces; False at the end."""
        while self.at < len(self.source) and self.source[self.at].isspace():
            self.at += 1
        return self.at < len(self.source)

    def token(self) -> str | tuple[_Token, str | None]:
        """Free text, or a key:value token with the tag key of `tags[key]:` (else None)."""
        match = _KEY.match(self.source, self.at)
        if match is None:
            return self._free_text()
        self.at = match.end()
        negated, key, tag_key = match[1] == "!", match[2], match[3]
        if self.at >= len(self.source) or self.source[self.at].isspace():
            raise SearchError(f"“{match[0]}” needs a value after the colon, e.g. {_example(key)}.")
        if self.source[self.at] == "[":
            return _Token(key, self._list(key), negated, is_list=True), tag_key
        return _Token(key, (self._value(),), negated, is_list=False), tag_key

    def _free_text(self) -> str:
        if self.source[self.at] == '"':
            return self._quoted()
        return self._bare()

    def _value(self) -> str:
        # A comparison may come before a quoted value: firstSeen:>"2026-11-01 12:00".
        op = re.match(r"(>=|<=|>|<|=)?", self.source[self.at :])
        prefix = op[0] if op else ""
        if self.source.startswith('"', self.at + len(prefix)):
            self.at += len(prefix)
            return prefix + self._quoted()
        return self._bare()

    def _bare(self) -> str:
        start = self.at
        while self.at < len(self.source) and not self.source[self.at].isspace():
            self.at += 1
        return self.source[start : self.at]

    def _quoted(self) -> str:
        start = self.at
        self.at += 1
        chars: list[str] = []
        while self.at < len(self.source):
            char = self.source[self.at]
            if char == "\\" and self.at + 1 < len(self.source):
                chars.append(self.source[self.at + 1])
                self.at += 2
                continue
            self.at += 1
            if char == '"':
                return "".join(chars)
            chars.append(char)
        raise SearchError(f'A quote opened at character {start + 1} is never closed: add a closing ".')

    def _list(self, key: str) -> tuple[str, ...]:
        start = self.at
        self.at += 1
        values: list[str] = []
        while True:
            self.skip_spaces()
            if self.at >= len(self.source):
                raise SearchError(f"The list of {key}: opened at character {start + 1} needs a closing ].")
            if self.source[self.at] == '"':
                values.append(self._quoted())
            else:
                item = re.match(r"[^,\]]*", self.source[self.at :])
                text = item[0] if item else ""
                self.at += len(text)
                values.append(text.strip())
            self.skip_spaces()
            if self.at < len(self.source) and self.source[self.at] == ",":
                self.at += 1
                continue
            if self.at < len(self.source) and self.source[self.at] == "]":
                self.at += 1
                break
            raise SearchError(f"The list of {key}: opened at character {start + 1} needs a closing ].")
        if any(not value for value in values):
            raise SearchError(f"The list of {key}: has an empty item; separate values with commas.")
        return tuple(values)


def _example(key: str) -> str:
    examples = {"is": "is:unresolved", "level": "level:error", "first_seen": "firstSeen:-24h"}
    return examples.get(_FIELDS.get(key, ""), f"{key}:value")


# ------------------------------------------------------------------------- tokens into filters


@dataclass(frozen=True)
class _Token:
    """A key:value token as read."""

    key: str  # as typed
    values: tuple[str, ...]
    negated: bool
    is_list: bool


def _filters(token: _Token, tag_key: str | None) -> list[Filter]:
    if tag_key is not None:
        return [TagMatch(tag_key, token.values, token.negated)]
    name = _FIELDS.get(token.key)
    if name is None:
        return [TagMatch(token.key, token.values, token.negated)]
    if token.is_list and name in _SINGLE_VALUED:
        raise SearchError(f"{token.key}: compares with one value, not a list; write e.g. {token.key}:>10.")
    return _BUILDERS[name](token, name)


def _is(token: _Token, _name: str) -> list[Filter]:
    return [Status(tuple(_status(value.lower()) for value in token.values), token.negated)]


def _field(token: _Token, name: str) -> list[Filter]:
    values = tuple(v.lower() for v in token.values) if name == "level" else token.values
    return [FieldMatch(name, values, token.negated)]


def _tag(token: _Token, name: str) -> list[Filter]:
    _no_latest(token.key, token.values)
    return [TagMatch(name, token.values, token.negated)]


def _assigned(token: _Token, _name: str) -> list[Filter]:
    return [Assigned(tuple(_assignee(value) for value in token.values), token.negated)]


def _times(token: _Token, name: str) -> list[Filter]:
    return _time_bounds(token.key, name, token.values[0], token.negated)


def _counts(token: _Token, name: str) -> list[Filter]:
    return [_count_bound(token.key, name, token.values[0], token.negated)]


def _issue(token: _Token, _name: str) -> list[Filter]:
    return [ShortId(tuple(_short_id(value) for value in token.values), token.negated)]


def _has(token: _Token, _name: str) -> list[Filter]:
    return [HasTag(token.values, token.negated)]


_SINGLE_VALUED = frozenset({"first_seen", "last_seen", "times_seen", "users_seen"})
_BUILDERS: dict[str, Callable[[_Token, str], list[Filter]]] = {
    "is": _is,
    "level": _field,
    "first_release": _field,
    "release": _tag,
    "environment": _tag,
    "assigned": _assigned,
    "first_seen": _times,
    "last_seen": _times,
    "times_seen": _counts,
    "users_seen": _counts,
    "issue": _issue,
    "has": _has,
}


def _status(value: str) -> str:
    if value not in STATUSES:
        raise SearchError(f"is:{value} is not a status Shoal knows; use one of: {', '.join(STATUSES)}.")
    return value


def _no_latest(key: str, values: tuple[str, ...]) -> None:
    # Sentry resolves "latest" to the newest release; Shoal does not track releases on their own
    # yet, so it says so instead of matching a release literally named "latest".
    if "latest" in values:
        raise SearchError(f"{key}:latest is not supported yet; name the release, e.g. {key}:1.2.3.")


def _assignee(value: str) -> str:
    if value in ("me", "none"):
        return value
    if "@" in value:
        return value.lower()  # emails are stored lower-cased
    if value == "my_teams" or value.startswith("#"):
        raise SearchError(f"assigned:{value} is not supported: Shoal assigns issues to people, not teams.")
    raise SearchError(f"assigned:{value} is not a person: use assigned:me, assigned:none or an email.")


def _short_id(value: str) -> tuple[str, int]:
    slug, dash, number = value.rpartition("-")
    if not dash or not slug or not number.isdigit() or len(number) > 15:
        raise SearchError(f"issue:{value} is not a short id; write it as on the issue, e.g. issue:SHOP-12.")
    return slug.lower(), int(number)


def _count_bound(key: str, name: str, value: str, negated: bool) -> CountBound:
    op, number = _comparison(value)
    op = op or "="
    if not number.isdigit() or len(number) > 15:
        raise SearchError(
            f"{key}:{value} needs a whole number, optionally after > >= < <= =, e.g. {key}:>100."
        )
    return CountBound(name, op, int(number), negated)


def _time_bounds(key: str, name: str, value: str, negated: bool) -> list[Filter]:
    relative = _RELATIVE.fullmatch(value)
    if relative:
        seconds = int(relative[2]) * _UNITS[relative[3]]
        # "-24h": seen within the last 24 hours; "+7d": seen longer ago than 7 days.
        return [TimeBound(name, ">=" if relative[1] == "-" else "<", ago=seconds, negated=negated)]
    op, moment = _comparison(value)
    at, whole_day = _moment(key, value, moment)
    if op not in (None, "="):
        return [TimeBound(name, op, at=at, negated=negated)]
    if not whole_day:
        raise SearchError(f"{key}:{value}: compare a time with > or <, e.g. {key}:>{moment}.")
    if negated:
        raise SearchError(f"!{key}:{value}: write the days you want instead, e.g. {key}:<{moment}.")
    # A date alone is that whole day (UTC).
    return [TimeBound(name, ">=", at=at), TimeBound(name, "<", at=at + 86400)]


def _comparison(value: str) -> tuple[str | None, str]:
    """The operator in front of a value (None without one) and the rest."""
    match = _COMPARISON.fullmatch(value)
    assert match is not None  # the pattern matches any text
    return match[1], match[2]


def _moment(key: str, value: str, moment: str) -> tuple[float, bool]:
    """The UTC timestamp a date or date-time stands for, and whether it was a date alone."""
    try:
        parsed = datetime.fromisoformat(moment.replace(" ", "T", 1))
    except ValueError:
        raise SearchError(
            f"{key}:{value} is neither a relative time (-24h, +7d; units m, h, d, w) "
            "nor a date (2026-11-01 or 2026-11-01T12:00, UTC)."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp(), re.fullmatch(r"\d{4}-\d{2}-\d{2}", moment) is not None
