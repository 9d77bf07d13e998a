"""The text syntax shared by fingerprint rules and stack-trace rules (grouping.md §10.1, §11.1):
one rule a line, `#` comments, matchers `!key:argument` with an optional caller `[ m ] |` before
and callee `| [ m ]` after; what follows the matchers is each rule kind's own.

Errors name the line and column (both from 1), because users meet them when saving rules in the UI.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

_KEY = re.compile(r"[A-Za-z0-9_.-]+")
_QUOTED_KEY = re.compile(r'"([A-Za-z0-9_.:-]+)"')


class RuleSyntaxError(ValueError):
    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Matcher:
    key: str  # canonical: "error.type", "stack.function", "tags.shard", …
    pattern: str
    negated: bool = False

    def text(self) -> str:
        """As Sentry writes a matcher back: the pattern quoted when it needs to be."""
        pattern = self.pattern
        if not pattern or re.search(r'[\s"\\]', pattern):
            pattern = '"' + pattern.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{'!' if self.negated else ''}{self.key}:{pattern}"


@dataclass(frozen=True)
class MatcherLine:
    caller: Matcher | None
    matchers: tuple[Matcher, ...]
    callee: Matcher | None

    def text(self) -> str:
        parts = [f"[ {self.caller.text()} ] |"] if self.caller else []
        parts.extend(m.text() for m in self.matchers)
        if self.callee:
            parts.append(f"| [ {self.callee.text()} ]")
        return " ".join(parts)


def rule_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for every line that holds a rule."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, line


class LineScanner:
    """A cursor over one rule line."""

    def __init__(self, line: str, number: int) -> None:
        self.line = line
        self.number = number
        self.pos = 0

    def error(self, message: str, pos: int | None = None) -> RuleSyntaxError:
        return RuleSyntaxError(self.number, (self.pos if pos is None else pos) + 1, message)

    def skip_spaces(self) -> None:
        while self.pos < len(self.line) and self.line[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_spaces()
        return self.pos >= len(self.line)

    def startswith(self, text: str) -> bool:
        self.skip_spaces()
        return self.line.startswith(text, self.pos)

    def expect(self, text: str, what: str) -> None:
        if not self.startswith(text):
            raise self.error(f"expected {what}")
        self.pos += len(text)

    def read_quoted(self) -> str:
        """A double-quoted string with backslash escapes; the cursor is on the opening quote."""
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.line):
            char = self.line[self.pos]
            if char == "\\" and self.pos + 1 < len(self.line):
                chars.append(self.line[self.pos + 1])
                self.pos += 2
                continue
            if char == '"':
                self.pos += 1
                return "".join(chars)
            chars.append(char)
            self.pos += 1
        raise self.error("unterminated quoted string", start)

    def read_word(self) -> str:
        start = self.pos
        while self.pos < len(self.line) and not self.line[self.pos].isspace():
            self.pos += 1
        return self.line[start : self.pos]


def read_matchers(
    scanner: LineScanner, keys: Mapping[str, str], is_end: Callable[[LineScanner], bool]
) -> MatcherLine:
    """The caller, matchers and callee at the cursor, up to where `is_end(scanner)` says the
    matchers stop. `keys` maps every accepted key and alias to its canonical name."""
    caller = None
    if scanner.startswith("["):
        caller = _bracketed(scanner, keys)
        scanner.expect("|", '"|" after the caller matcher')
    matchers: list[Matcher] = []
    callee = None
    while not scanner.at_end() and not is_end(scanner):
        if scanner.startswith("|"):
            scanner.pos += 1
            callee = _bracketed(scanner, keys)
            break
        matchers.append(read_matcher(scanner, keys))
    if not matchers:
        raise scanner.error("expected a matcher such as type:ValueError")
    return MatcherLine(caller, tuple(matchers), callee)


def _bracketed(scanner: LineScanner, keys: Mapping[str, str]) -> Matcher:
    scanner.expect("[", '"["')
    scanner.skip_spaces()
    matcher = read_matcher(scanner, keys)
    scanner.expect("]", '"]"')
    return matcher


def read_matcher(scanner: LineScanner, keys: Mapping[str, str]) -> Matcher:
    scanner.skip_spaces()
    start = scanner.pos
    negated = scanner.line.startswith("!", scanner.pos)
    if negated:
        scanner.pos += 1
    key = _read_key(scanner)
    canonical = keys.get(key) or (f"tags.{key[5:]}" if key.startswith("tags.") and len(key) > 5 else None)
    if canonical is None:
        raise scanner.error(f"unknown matcher {key!r}", start)
    if not scanner.line.startswith(":", scanner.pos):
        raise scanner.error(f'expected ":" after {key!r}')
    scanner.pos += 1
    if scanner.line.startswith('"', scanner.pos):
        pattern = scanner.read_quoted()
    else:
        pattern = _read_bare_argument(scanner)
    if not pattern:
        raise scanner.error(f"expected a value after {key}:")
    return Matcher(canonical, pattern, negated)


def _read_key(scanner: LineScanner) -> str:
    for regex in (_QUOTED_KEY, _KEY):
        found = regex.match(scanner.line, scanner.pos)
        if found:
            scanner.pos = found.end()
            return found.group(1) if found.groups() else found.group(0)
    raise scanner.error("expected a matcher such as type:ValueError")


def _read_bare_argument(scanner: LineScanner) -> str:
    # A bare argument runs to the next space; a closing "]" ends it inside a caller or callee.
    start = scanner.pos
    while scanner.pos < len(scanner.line) and not scanner.line[scanner.pos].isspace():
        if scanner.line[scanner.pos] == "]":
            break
        scanner.pos += 1
    return scanner.line[start : scanner.pos]
