"""Server-side fingerprint rules (grouping.md §10): the text syntax, its JSON form, and matching an
event against a project's rules and the built-in ones.

`type:ReadTimeout path:**/requests/adapters.py -> timeout-in-requests` matches when some exception
is a ReadTimeout *and* some frame comes from that file: matchers are grouped by what they look at
(exceptions, frames, messages, the event itself), and each group needs one single item on which all
of its matchers hold. The first matching rule wins, the project's before the built-in ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from shoal.digest.grouping.event_access import (
    all_frames,
    family_of,
    frames_of,
    messages,
    stacktraces,
    tag_value,
)
from shoal.digest.grouping.globs import glob_match, path_match
from shoal.digest.grouping.rule_syntax import (
    LineScanner,
    Matcher,
    MatcherLine,
    RuleSyntaxError,
    read_matchers,
    rule_lines,
)
from shoal.eventdata import as_dict, text, values_of


@dataclass(frozen=True)
class MatchedRule:
    """The first fingerprint rule that matched an event (grouping.md §10.2)."""

    # The rule as text, as Sentry shows it: `type:"SoftTimeLimitExceeded" -> "soft-timelimit-exceeded"`.
    text: str
    # The rule's fingerprint entries, variables unresolved: ("{{ default }}", "timeout").
    fingerprint: tuple[str, ...]
    # The rule's `title="…"` attribute, variables unresolved, or None.
    title: str | None
    # One of Shoal's built-in rules (JavaScript ChunkLoadError, hydration errors), not the project's.
    is_builtin: bool


# Every key a fingerprint rule may use, and the canonical name it stands for (§10.2).
KEYS = {
    "type": "error.type",
    "error.type": "error.type",
    "value": "error.value",
    "error.value": "error.value",
    "message": "message",
    "logger": "logger",
    "level": "level",
    "function": "stack.function",
    "stack.function": "stack.function",
    "module": "stack.module",
    "stack.module": "stack.module",
    "path": "stack.abs_path",
    "stack.abs_path": "stack.abs_path",
    "package": "stack.package",
    "stack.package": "stack.package",
    "app": "app",
    "family": "family",
    "sdk": "sdk",
    "release": "release",
}
_VARIABLE = re.compile(r"\{\{\s*(\S+?)\s*\}\}")
_BARE_ENTRY = re.compile(r"\{\{\s*\S+?\s*\}\}|[^\s{,]+")


@dataclass(frozen=True)
class FingerprintRule:
    matchers: MatcherLine
    fingerprint: tuple[str, ...]
    title: str | None = None

    def allows_family(self, family: str) -> bool:
        """A quick first test: every built-in rule, and many a project's, names a family."""
        return all(
            _comma_list(family, m.pattern) != m.negated for m in self.matchers.matchers if m.key == "family"
        )

    @cached_property
    def matchers_by_group(self) -> list[tuple[str, list[Matcher]]]:
        """The matchers by the data they look at, the event's own fields first: they are the
        cheapest to test and the most often false (`family:javascript` on a Python event)."""
        by_group: dict[str, list[Matcher]] = {}
        if self.matchers.caller or self.matchers.callee:
            by_group["frames"] = []  # a frame between such neighbours must exist, matchers or not
        for matcher in self.matchers.matchers:
            by_group.setdefault(_group_of(matcher.key), []).append(matcher)
        return sorted(by_group.items(), key=lambda item: item[0] != "event")

    def text(self) -> str:
        entries = ", ".join(_quoted_entry(entry) for entry in self.fingerprint)
        title = f' title="{_escaped(self.title)}"' if self.title is not None else ""
        return f"{self.matchers.text()} -> {entries}{title}"


@dataclass(frozen=True)
class FingerprintRules:
    rules: tuple[FingerprintRule, ...] = ()

    def text(self) -> str:
        return "\n".join(rule.text() for rule in self.rules)


@lru_cache(maxsize=256)
def parse_fingerprint_rules(source: str) -> FingerprintRules:
    """Rules from their text form; raises RuleSyntaxError naming the line and column."""
    return FingerprintRules(
        tuple(_parse_rule(LineScanner(line, number)) for number, line in rule_lines(source))
    )


def fingerprint_rules_from_json(rules: object) -> FingerprintRules:
    """Rules from Sentry's stored JSON form: `[{"matchers": [[key, pattern], …], "fingerprint":
    […], "attributes": {"title": …}}]`, negation written as `"!key"`."""
    parsed = []
    for index, stored in enumerate(rules if isinstance(rules, list) else [], start=1):
        rule = as_dict(stored)
        matchers = []
        for pair in rule.get("matchers") or []:
            key, pattern = str(pair[0]), str(pair[1])
            name = key.lstrip("!")
            canonical = KEYS.get(name) or (name if name.startswith("tags.") else None)
            if canonical is None:
                raise RuleSyntaxError(index, 1, f"unknown matcher {name!r}")
            matchers.append(Matcher(canonical, pattern, key.startswith("!")))
        fingerprint = tuple(normalized_entry(str(entry)) for entry in rule.get("fingerprint") or [])
        title = as_dict(rule.get("attributes")).get("title")
        parsed.append(FingerprintRule(MatcherLine(None, tuple(matchers), None), fingerprint, title))
    return FingerprintRules(tuple(parsed))


# Built-in rules for JavaScript (Sentry's `javascript@2024-02-02` set, grouping.md §10.2), written
# here: a failed chunk load and React's hydration errors are each one issue, not one per stack.
_HYDRATION_MESSAGES = (
    "Text content does not match server-rendered HTML.",
    "Hydration failed because the initial UI does not match what was rendered on the server.",
    "There was an error while hydrating. Because the error happened outside of a Suspense boundary, "
    "the entire root will switch to client rendering.",
    "There was an error while hydrating this Suspense boundary. Switched to client rendering.",
    "The server could not finish this Suspense boundary, likely due to an error during server "
    "rendering. Switched to client rendering.",
)
BUILT_IN_RULES_TEXT = "\n".join(
    [
        'family:javascript type:"ChunkLoadError" -> chunkloaderror',
        'family:javascript value:"ChunkLoadError*" -> chunkloaderror',
        *(
            f'family:javascript tags.transaction:"*" message:"{message}"'
            " -> hydrationerror, {{ tags.transaction }}"
            for message in _HYDRATION_MESSAGES
        ),
    ]
)


def match_fingerprint_rules(event: Mapping[str, Any], rules: FingerprintRules) -> MatchedRule | None:
    """The first of the project's rules, then of the built-in ones, that matches the event."""
    family = family_of(text(event.get("platform")))
    for candidates, builtin in ((rules, False), (parse_fingerprint_rules(BUILT_IN_RULES_TEXT), True)):
        for rule in candidates.rules:
            if rule.allows_family(family) and rule_matches(rule, event):
                return MatchedRule(rule.text(), rule.fingerprint, rule.title, builtin)
    return None


def rule_matches(rule: FingerprintRule, event: Mapping[str, Any]) -> bool:
    """Each group of matchers holds on one single item of its kind: one exception, one frame…"""
    return all(_group_holds(rule.matchers, name, group, event) for name, group in rule.matchers_by_group)


def _group_holds(line: MatcherLine, name: str, group: list[Matcher], event: Mapping[str, Any]) -> bool:
    if name == "frames" and (line.caller or line.callee):
        return any(
            _holds_at(line, group, frames, index)
            for frames in (frames_of(stacktrace) for stacktrace, _ in stacktraces(event))
            for index in range(len(frames))
        )
    return any(all(_holds(m, item) for m in group) for item in _items(name, event))


def _holds_at(line: MatcherLine, group: list[Matcher], frames: list[dict[str, Any]], index: int) -> bool:
    """The frame matchers hold on frames[index], the caller on the frame before it in the same
    stack (towards the entry point), the callee on the frame after it (towards the crash), as in
    stack-trace rules (grouping.md §10.1, §11.1)."""
    if not all(_holds(m, frames[index]) for m in group):
        return False
    if line.caller and (index == 0 or not _holds(line.caller, frames[index - 1])):
        return False
    return not line.callee or (index + 1 < len(frames) and _holds(line.callee, frames[index + 1]))


def _group_of(key: str) -> str:
    if key.startswith("error."):
        return "exceptions"
    if key.startswith("stack.") or key == "app":
        return "frames"
    if key == "message":
        return "messages"
    return "event"


def _items(group: str, event: Mapping[str, Any]) -> list[Any]:
    if group == "exceptions":
        return values_of(event.get("exception"))
    if group == "frames":
        return all_frames(event)
    if group == "messages":
        return messages(event)
    return [event]


def _holds(matcher: Matcher, item: Any) -> bool:
    return _MATCHERS.get(matcher.key, _tag_matches)(matcher, item) != matcher.negated


def _tag_matches(matcher: Matcher, event: Any) -> bool:
    value = tag_value(event, matcher.key[5:])
    return value is not None and glob_match(value, matcher.pattern)


def _field_glob(field: str, ignore_case: bool = False, default: str = "") -> Callable[[Matcher, Any], bool]:
    def matches(matcher: Matcher, item: Any) -> bool:
        value = text(item.get(field)) or default
        return glob_match(value.strip(), matcher.pattern, ignore_case)

    return matches


def _path(matcher: Matcher, frame: Any) -> bool:
    paths = [p for p in (text(frame.get("abs_path")), text(frame.get("filename"))) if p]
    return any(path_match(path, matcher.pattern) for path in paths)


def _package(matcher: Matcher, frame: Any) -> bool:
    package = text(frame.get("package"))
    return package is not None and path_match(package, matcher.pattern)


def _app(matcher: Matcher, frame: Any) -> bool:
    wanted = matcher.pattern.lower() in ("1", "true", "yes")
    return frame.get("in_app") is True if wanted else frame.get("in_app") is not True


def _message(matcher: Matcher, message: Any) -> bool:
    return glob_match(str(message), matcher.pattern, ignore_case=True)


def _comma_list(value: str, pattern: str) -> bool:
    accepted = {part.strip() for part in pattern.split(",")}
    return "all" in accepted or value in accepted


def _family(matcher: Matcher, event: Any) -> bool:
    return _comma_list(family_of(text(event.get("platform"))), matcher.pattern)


def _sdk(matcher: Matcher, event: Any) -> bool:
    return _comma_list(text(as_dict(event.get("sdk")).get("name")) or "", matcher.pattern)


def _release(matcher: Matcher, event: Any) -> bool:
    release = text(event.get("release"))
    return release is not None and path_match(release.strip(), matcher.pattern)


_MATCHERS: dict[str, Callable[[Matcher, Any], bool]] = {
    "error.type": _field_glob("type"),
    "error.value": _field_glob("value", ignore_case=True),
    "message": _message,
    "logger": _field_glob("logger"),
    "level": _field_glob("level", ignore_case=True),
    "stack.function": _field_glob("function", default="<unknown>"),
    "stack.module": _field_glob("module"),
    "stack.abs_path": _path,
    "stack.package": _package,
    "app": _app,
    "family": _family,
    "sdk": _sdk,
    "release": _release,
}


# ----------------------------------------------------------------------------------- parsing


def _parse_rule(scanner: LineScanner) -> FingerprintRule:
    matchers = read_matchers(scanner, KEYS, lambda s: s.startswith("->"))
    scanner.expect("->", '"->" after the matchers')
    fingerprint: list[str] = []
    title = None
    while not scanner.at_end():
        if scanner.startswith(","):
            scanner.pos += 1
            continue
        if scanner.line.startswith("title=", scanner.pos):
            scanner.pos += len("title=")
            if not scanner.line.startswith('"', scanner.pos):
                raise scanner.error('expected a quoted title: title="…"')
            title = scanner.read_quoted()
        elif scanner.line.startswith('"', scanner.pos):
            fingerprint.append(normalized_entry(scanner.read_quoted()))
        else:
            fingerprint.extend(_bare_entries(scanner))
    if not fingerprint:
        raise scanner.error("expected a fingerprint after ->")
    return FingerprintRule(matchers, tuple(fingerprint), title)


def _bare_entries(scanner: LineScanner) -> list[str]:
    """Bare entries split at variables: `logger-{{ logger }}` is `logger-` then `{{ logger }}`."""
    found = _BARE_ENTRY.match(scanner.line, scanner.pos)
    if found is None:
        raise scanner.error("expected a fingerprint entry")
    scanner.pos = found.end()
    return [normalized_entry(found.group(0))]


def normalized_entry(entry: str) -> str:
    """`{{default}}`, `{{ default }}` and the like all become `{{ default }}`."""
    variable = _VARIABLE.fullmatch(entry.strip())
    return f"{{{{ {variable.group(1)} }}}}" if variable else entry


def _quoted_entry(entry: str) -> str:
    return (
        entry if _VARIABLE.fullmatch(entry) or re.fullmatch(r"[^\s{,\"]+", entry) else f'"{_escaped(entry)}"'
    )


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
