"""The glob patterns of inbound filters, in Sentry's syntax (reference §4.1): case-insensitive,
`*` any run of characters (slashes and line breaks included), `?` one character, `\\` makes the
next character literal, `[...]` one of a class (`[!...]` none of it), and `{a,b}` one of the
alternatives (Sentry's health-check globs use `{/,}`: an optional trailing slash). A `[` or `{`
without its closing bracket, or a class a regular expression cannot hold (`[z-a]`), is literal.

Matching never backtracks. A pattern typed into a form runs on every event, and a regular
expression made of `*a*a*a*…` needs time exponential in the stars on a long value that almost
matches. So each pattern is cut at its stars into fixed-length pieces, and a value matches when the
first piece matches its start, the last its end, and each middle piece is found, leftmost, after
the one before: with fixed-length pieces the leftmost place is never a wrong choice. That is one
scan of the value per piece. Alternatives are expanded first, at most MAX_EXPANSIONS per pattern
(`glob_error` says so when saving; a pattern with more matches nothing).

Not the grouping rules' globs (shoal/digest/grouping/globs.py): those have paths, `**`, and no
alternatives.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

MAX_EXPANSIONS = 64
_FLAGS = re.IGNORECASE | re.DOTALL
# One token matches one character (a regular expression of fixed length 1), or is a `*`.
_STAR = "*"


@dataclass(frozen=True)
class _Glob:
    """One expansion of a pattern: its pieces between stars, each matching a fixed length."""

    pieces: tuple[re.Pattern[str], ...]
    lengths: tuple[int, ...]

    def matches(self, value: str) -> bool:
        if len(self.pieces) == 1:
            return self.pieces[0].fullmatch(value) is not None
        found = self.pieces[0].match(value)
        if found is None:
            return False
        position = found.end()
        for piece in self.pieces[1:-1]:
            found = piece.search(value, position)
            if found is None:
                return False
            position = found.end()
        last_start = len(value) - self.lengths[-1]
        return last_start >= position and self.pieces[-1].fullmatch(value, last_start) is not None


def glob_match(value: str, pattern: str) -> bool:
    return any(glob.matches(value) for glob in _compiled(pattern))


def any_match(values: Iterable[str], patterns: Iterable[str]) -> bool:
    """Whether any value matches any pattern."""
    globs = [glob for pattern in patterns for glob in _compiled(pattern)]
    return any(glob.matches(value) for value in values for glob in globs)


def glob_error(pattern: str) -> str | None:
    """Why a pattern cannot be used, or None."""
    if _expansions(pattern) is None:
        return f"A pattern has at most {MAX_EXPANSIONS} combinations of {{…,…}} alternatives."
    return None


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> tuple[_Glob, ...]:
    return tuple(_glob(_tokens(text)) for text in _expansions(pattern) or ())


def _glob(tokens: list[str]) -> _Glob:
    pieces: list[list[str]] = [[]]
    for token in tokens:
        if token == _STAR:
            pieces.append([])
        else:
            pieces[-1].append(token)
    return _Glob(tuple(re.compile("".join(piece), _FLAGS) for piece in pieces), tuple(len(p) for p in pieces))


def _tokens(text: str) -> list[str]:
    """The tokens of a pattern without alternatives; a run of stars is one star."""
    tokens: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "*":
            if not tokens or tokens[-1] != _STAR:
                tokens.append(_STAR)
        elif char == "?":
            tokens.append(".")
        elif char == "\\" and index + 1 < len(text):
            index += 1
            tokens.append(re.escape(text[index]))
        elif char == "[" and (end := _class_end(text, index)) != -1:
            tokens.append(_char_class(text[index + 1 : end]))
            index = end
        else:
            tokens.append(re.escape(char))
        index += 1
    return tokens


def _class_end(text: str, start: int) -> int:
    """The index of the `]` closing the class at `start` (a `]` right after `[` or `[!` is part of
    it), or -1 when there is none or the class is not one a regular expression can hold."""
    first = start + 2 if text.startswith("[!", start) else start + 1
    end = text.find("]", first + 1)
    if end == -1:
        return -1
    try:
        re.compile(_char_class(text[start + 1 : end]))
    except re.error:  # a reversed range such as [z-a]
        return -1
    return end


def _char_class(body: str) -> str:
    negated = body.startswith("!")
    inner = body[1:] if negated else body
    escaped = inner.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    if not negated and escaped.startswith("^"):
        escaped = "\\" + escaped
    return "[" + ("^" if negated else "") + escaped + "]"


# ------------------------------------------------------------------------- alternatives


def _expansions(pattern: str) -> list[str] | None:
    """The pattern with each `{a,b}` replaced by each of its alternatives in turn (`x{a,b}` →
    `xa`, `xb`), or None when there would be more than MAX_EXPANSIONS."""
    parts = _split_braces(pattern)
    choices = [part if isinstance(part, tuple) else (part,) for part in parts]
    if math.prod(len(options) for options in choices) > MAX_EXPANSIONS:
        return None
    return ["".join(combination) for combination in itertools.product(*choices)]


def _split_braces(pattern: str) -> list[str | tuple[str, ...]]:
    """Text, and `{…}` groups as their alternatives; escapes and classes are kept as they are."""
    parts: list[str | tuple[str, ...]] = []
    current = ""
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            current += pattern[index : index + 2]
            index += 2
            continue
        if char == "[" and (end := _class_end(pattern, index)) != -1:
            current += pattern[index : end + 1]
            index = end + 1
            continue
        if char == "{" and (end := _closing_brace(pattern, index)) != -1:
            parts.extend((current, tuple(_split_alternatives(pattern[index + 1 : end]))))
            current = ""
            index = end + 1
            continue
        current += char
        index += 1
    parts.append(current)
    return parts


def _closing_brace(pattern: str, start: int) -> int:
    """The index of the `}` that closes the `{` at `start` (alternatives do not nest), or -1."""
    index = start + 1
    while index < len(pattern):
        if pattern[index] == "\\":
            index += 2
            continue
        if pattern[index] == "{":
            return -1
        if pattern[index] == "}":
            return index
        index += 1
    return -1


def _split_alternatives(body: str) -> list[str]:
    """`a,b\\,c` → ["a", "b\\,c"]: commas separate, escaped ones do not."""
    alternatives, current, index = [], "", 0
    while index < len(body):
        if body[index] == "\\" and index + 1 < len(body):
            current += body[index : index + 2]
            index += 2
            continue
        if body[index] == ",":
            alternatives.append(current)
            current = ""
        else:
            current += body[index]
        index += 1
    alternatives.append(current)
    return alternatives
