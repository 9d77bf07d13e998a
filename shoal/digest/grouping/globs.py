"""The glob patterns grouping rules match with (grouping.md §10.2, §11.2), compiled once.

Two flavours: a plain glob, where `*` matches anything, and a path glob, where `*` and `?` stop at
`/`, `**` crosses it, backslashes count as slashes and a path without a leading slash is tried with
one too (so `**/vendor/**` matches `vendor/x.js`). `[...]` classes and `\\` escapes work in both.
"""

from __future__ import annotations

import re
from functools import lru_cache


def glob_match(value: str, pattern: str, ignore_case: bool = False) -> bool:
    return _compiled(pattern, False, ignore_case).fullmatch(value) is not None


def path_match(value: str, pattern: str) -> bool:
    """Case-insensitive path glob (rules on `path:` and `package:`)."""
    regex = _compiled(pattern.replace("\\", "/"), True, True)
    path = value.replace("\\", "/")
    return regex.fullmatch(path) is not None or (
        not path.startswith("/") and regex.fullmatch("/" + path) is not None
    )


@lru_cache(maxsize=4096)
def _compiled(pattern: str, path: bool, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(_translate(pattern, path), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _translate(pattern: str, path: bool) -> str:
    one_char = "[^/]" if path else "."
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "*" and pattern.startswith("**", index):
            parts.append(".*")
            index += 2
            continue
        if char == "*":
            parts.append(f"{one_char}*")
        elif char == "?":
            parts.append(one_char)
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            parts.append(re.escape(pattern[index]))
        elif char == "[" and (end := pattern.find("]", index + 2)) != -1:
            parts.append(_char_class(pattern[index + 1 : end]))
            index = end
        else:
            parts.append(re.escape(char))
        index += 1
    return "".join(parts)


def _char_class(body: str) -> str:
    negated = body.startswith("!")
    inner = body[1:] if negated else body
    return "[" + ("^" if negated else "") + inner.replace("\\", "\\\\").replace("[", "\\[") + "]"
