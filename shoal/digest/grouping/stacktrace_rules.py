"""Stack-trace rules (grouping.md §11): `path:**/vendor/** -app`, `function:retry_* -group`,
`[ function:spawn_main ] | function:<module> category=internals`, `module:celery.* v-group`.

A rule's matchers pick frames; its actions change the matched frame (no prefix), the frames after it
towards the crash (`^`), or the frames before it, its callers (`v`). Rules run top to bottom, the
config's base rules first, then the project's; a later rule overrides an earlier one. They act in
two phases (§11.3):

- classify (`+app`, `-app`, `category=…`), once per event before grouping: the event itself changes,
  keeping each frame's original `in_app` in `data.orig_in_app` so a second run starts from what the
  SDK sent;
- contribute (`+group`, `-group`, `max-frames=`, `min-frames=`), while a stack trace's component is
  built: which frames count, without changing the event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from shoal.digest.grouping.event_access import family_of, frames_of, stacktraces
from shoal.digest.grouping.globs import glob_match, path_match
from shoal.digest.grouping.rule_syntax import (
    LineScanner,
    Matcher,
    MatcherLine,
    read_matchers,
    rule_lines,
)
from shoal.eventdata import as_dict, text

KEYS = {
    "family": "family",
    "path": "stack.abs_path",
    "stack.abs_path": "stack.abs_path",
    "package": "stack.package",
    "stack.package": "stack.package",
    "module": "stack.module",
    "stack.module": "stack.module",
    "function": "stack.function",
    "stack.function": "stack.function",
    "app": "app",
    "category": "category",
    "type": "error.type",
    "error.type": "error.type",
    "value": "error.value",
    "error.value": "error.value",
    "mechanism": "error.mechanism",
    "error.mechanism": "error.mechanism",
}
_VARIABLES = ("max-frames", "min-frames", "category")
# `category=x` is an action, `category:x` a matcher.
_VARIABLE_ACTION = re.compile(r"(?:max-frames|min-frames|category)\s*=")
# Matchers on what the SDK sent, which no rule changes: their verdict on a frame can be cached.
_STATIC_KEYS_OR_FAMILY = frozenset(
    {"stack.abs_path", "stack.module", "stack.function", "stack.package", "family"}
)
# Matchers on what earlier rules may have changed.
_STATE_KEYS = frozenset({"app", "category"})
_MAX_CACHED_FRAMES = 100_000
_NO_ORIGINAL = -1  # data.orig_in_app when the SDK sent no in_app (grouping.md §3 step 2)


@dataclass(frozen=True)
class FlagAction:
    flag: str  # "app" or "group"
    value: bool
    scope: str  # "" the frame, "^" the frames after it, "v" the frames before it

    def text(self) -> str:
        return f"{self.scope}{'+' if self.value else '-'}{self.flag}"


@dataclass(frozen=True)
class VarAction:
    name: str  # "max-frames", "min-frames" or "category"
    value: str

    def text(self) -> str:
        return f"{self.name}={self.value}"


@dataclass(frozen=True)
class StacktraceRule:
    matchers: MatcherLine
    actions: tuple[FlagAction | VarAction, ...]

    def text(self) -> str:
        return f"{self.matchers.text()} {' '.join(a.text() for a in self.actions)}"

    def fields_match(self, frame: Mapping[str, Any], platform: str | None) -> bool:
        return all(
            _frame_matches(m, frame, platform)
            for m in self.matchers.matchers
            if m.key in _STATIC_KEYS_OR_FAMILY
        )

    def exception_matches(self, exception: Mapping[str, Any] | None) -> bool:
        return all(
            _exception_matches(m, exception) for m in self.matchers.matchers if m.key.startswith("error.")
        )

    def holds_at(self, frames: Sequence[dict[str, Any]], index: int, platform: str | None) -> bool:
        """The matchers on what rules change, and the caller and callee, at frame `index`."""
        frame = frames[index]
        if not all(
            _frame_matches(m, frame, platform) for m in self.matchers.matchers if m.key in _STATE_KEYS
        ):
            return False
        caller, callee = self.matchers.caller, self.matchers.callee
        if caller and (index == 0 or not _frame_matches(caller, frames[index - 1], platform)):
            return False
        return not callee or (index + 1 < len(frames) and _frame_matches(callee, frames[index + 1], platform))

    @cached_property
    def needs_category(self) -> bool:
        """Whether the rule can only match frames that an earlier rule gave a category: such
        rules are skipped outright on stacks without one (most stacks)."""
        return any(
            m.key == "category" and not m.negated and not glob_match("", m.pattern)
            for m in self.matchers.matchers
        )

    @cached_property
    def sets_category(self) -> bool:
        return any(isinstance(a, VarAction) and a.name == "category" for a in self.actions)

    @cached_property
    def classifies(self) -> bool:
        return any(_is_classifier(a) for a in self.actions)

    @cached_property
    def contributes(self) -> bool:
        return any(not _is_classifier(a) for a in self.actions)


@dataclass(frozen=True)
class StacktraceRules:
    rules: tuple[StacktraceRule, ...] = ()
    # Frame fields → the rules whose frame matchers on those fields all hold. Frames repeat from
    # event to event, so this turns "every rule on every frame" (~620 µs an event on the corpus
    # with the base rules) into about one lookup a frame.
    _candidates: dict[tuple[object, ...], tuple[int, ...]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def __add__(self, other: StacktraceRules) -> StacktraceRules:
        return StacktraceRules(self.rules + other.rules)

    def hits(
        self, frames: Sequence[dict[str, Any]], exception: Mapping[str, Any] | None, platform: str | None
    ) -> dict[int, list[int]]:
        """Rule index → the indexes of the frames its field matchers and exception matchers
        accept. Matchers on state that rules change (`app`, `category`) and the caller and callee
        are left to `holds_at`, at the moment the rule applies."""
        found: dict[int, list[int]] = {}
        for index, frame in enumerate(frames):
            for rule_index in self._candidates_for(frame, platform):
                found.setdefault(rule_index, []).append(index)
        return {i: found_at for i, found_at in found.items() if self.rules[i].exception_matches(exception)}

    def _candidates_for(self, frame: Mapping[str, Any], platform: str | None) -> tuple[int, ...]:
        get = frame.get
        # The raw fields: text() on each would cost more than the lookup; a field that is a list or
        # an object (hostile input) cannot be a key, and is judged without the cache.
        key = (
            get("platform"),
            platform,
            get("abs_path"),
            get("filename"),
            get("module"),
            get("function"),
            get("package"),
        )
        try:
            cached = self._candidates.get(key)
        except TypeError:
            return tuple(i for i, rule in enumerate(self.rules) if rule.fields_match(frame, platform))
        if cached is None:
            if len(self._candidates) > _MAX_CACHED_FRAMES:
                self._candidates.clear()
            cached = self._candidates[key] = tuple(
                i for i, rule in enumerate(self.rules) if rule.fields_match(frame, platform)
            )
        return cached


class StackHits:
    """Which rules hit which frames, worked out once per stack trace of the event being grouped and
    used by both phases (classify, then contribute): the fields that decide it are the same in
    both. One lives for one `calculate_grouping` call; it keeps each stack trace it was asked
    about, so an id is never reused while it is a key."""

    def __init__(self, rules: StacktraceRules) -> None:
        self.rules = rules.rules
        self._all = rules
        self._found: dict[int, tuple[object, dict[int, list[int]]]] = {}

    def of(
        self,
        stacktrace: object,
        frames: Sequence[dict[str, Any]],
        exception: Mapping[str, Any] | None,
        platform: str | None,
    ) -> dict[int, list[int]]:
        known = self._found.get(id(stacktrace))
        if known is not None and known[0] is stacktrace:
            return known[1]
        found = self._all.hits(frames, exception, platform)
        self._found[id(stacktrace)] = (stacktrace, found)
        return found


@lru_cache(maxsize=256)
def parse_stacktrace_rules(source: str) -> StacktraceRules:
    """Rules from their text form; raises RuleSyntaxError naming the line and column."""
    return StacktraceRules(
        tuple(_parse_rule(LineScanner(line, number)) for number, line in rule_lines(source))
    )


# ------------------------------------------------------------------------------ classify phase


def classify_frames(event: dict[str, Any], rules: StackHits) -> None:
    """Apply `+app`, `-app` and `category=` to every stack trace of the event, in place; then a
    frame still without `in_app` is not in app (grouping.md §3 step 2)."""
    platform = text(event.get("platform"))
    for stacktrace, exception in stacktraces(event):
        frames = frames_of(stacktrace)
        _restore_sent_in_app(frames)  # which also clears the categories of an earlier run
        any_category = False
        for rule_index, found_at in sorted(rules.of(stacktrace, frames, exception, platform).items()):
            rule = rules.rules[rule_index]
            if not rule.classifies or (rule.needs_category and not any_category):
                continue
            for index in found_at:
                if rule.holds_at(frames, index, platform):
                    for action in rule.actions:
                        _classify(frames, index, action)
                    any_category = any_category or rule.sets_category
        for frame in frames:
            if frame.get("in_app") is None:
                frame["in_app"] = False


def _restore_sent_in_app(frames: list[dict[str, Any]]) -> None:
    for frame in frames:
        data = frame.get("data")
        if isinstance(data, dict) and "orig_in_app" in data:
            original = data.pop("orig_in_app")
            frame["in_app"] = None if original == _NO_ORIGINAL else original
        if isinstance(data, dict):
            data.pop("category", None)


def _classify(frames: list[dict[str, Any]], index: int, action: FlagAction | VarAction) -> None:
    if isinstance(action, VarAction):
        if action.name == "category":
            _frame_data(frames[index])["category"] = action.value
        return
    if action.flag != "app":
        return
    for target in _scope(frames, index, action.scope):
        if target.get("in_app") != action.value:
            data = _frame_data(target)
            data.setdefault("orig_in_app", _NO_ORIGINAL if target.get("in_app") is None else target["in_app"])
            target["in_app"] = action.value


def _any_category(frames: Sequence[Mapping[str, Any]]) -> bool:
    return any(as_dict(frame.get("data")).get("category") for frame in frames)


def _frame_data(frame: dict[str, Any]) -> dict[str, Any]:
    data = frame.get("data")
    if not isinstance(data, dict):
        data = frame["data"] = {}
    return data


# ---------------------------------------------------------------------------- contribute phase


@dataclass(frozen=True)
class FrameVerdict:
    """What the rules say about one frame's part in grouping: None leaves it to the frame."""

    contributes: bool | None = None
    rule: str | None = None  # the rule that decided, for the hint


@dataclass(frozen=True)
class StackVerdict:
    frames: tuple[FrameVerdict, ...]
    max_frames: int | None = None
    min_frames: int | None = None


def judge_stack(
    rules: StackHits,
    stacktrace: object,
    frames: Sequence[dict[str, Any]],
    exception: Mapping[str, Any] | None,
    platform: str | None,
) -> StackVerdict:
    verdicts = [FrameVerdict() for _ in frames]
    limits: dict[str, int] = {}
    # Categories are settled by now (classification ran first), so this holds for every rule.
    any_category = _any_category(frames)
    for rule_index, found_at in sorted(rules.of(stacktrace, frames, exception, platform).items()):
        rule = rules.rules[rule_index]
        if not rule.contributes or (rule.needs_category and not any_category):
            continue
        for index in (i for i in found_at if rule.holds_at(frames, i, platform)):
            for action in rule.actions:
                if isinstance(action, FlagAction) and action.flag == "group":
                    for target in _scope_indexes(len(frames), index, action.scope):
                        verdicts[target] = FrameVerdict(action.value, rule.text())
                elif isinstance(action, VarAction) and action.name in ("max-frames", "min-frames"):
                    limits[action.name] = int(action.value)
    return StackVerdict(tuple(verdicts), limits.get("max-frames"), limits.get("min-frames"))


# ------------------------------------------------------------------------------------ matching


def _frame_matches(matcher: Matcher, frame: Mapping[str, Any], platform: str | None) -> bool:
    return _frame_test(matcher, frame, platform) != matcher.negated


def _frame_test(matcher: Matcher, frame: Mapping[str, Any], platform: str | None) -> bool:
    key, pattern = matcher.key, matcher.pattern
    if key == "family":
        family = family_of(text(frame.get("platform")) or platform)
        accepted = {part.strip() for part in pattern.split(",")}
        return "all" in accepted or family in accepted
    if key in ("stack.abs_path", "stack.package"):
        path = _frame_path(frame, key)
        return path is not None and path_match(path, pattern)
    if key == "app":
        return (frame.get("in_app") is True) == (pattern.lower() in ("1", "true", "yes"))
    return glob_match(_frame_text(frame, key), pattern)


def _frame_path(frame: Mapping[str, Any], key: str) -> str | None:
    if key == "stack.package":
        return text(frame.get("package"))
    return text(frame.get("abs_path")) or text(frame.get("filename"))


def _frame_text(frame: Mapping[str, Any], key: str) -> str:
    """The frame field a plain-glob matcher reads: module, function (`<unknown>` when missing) or
    the category an earlier rule gave it."""
    if key == "stack.function":
        return text(frame.get("function")) or "<unknown>"
    if key == "category":
        return text(as_dict(frame.get("data")).get("category")) or ""
    return text(frame.get("module")) or ""


def _exception_matches(matcher: Matcher, exception: Mapping[str, Any] | None) -> bool:
    exception = exception or {}
    if matcher.key == "error.type":
        found = glob_match(text(exception.get("type")) or "", matcher.pattern)
    elif matcher.key == "error.value":
        found = glob_match((text(exception.get("value")) or "").strip(), matcher.pattern, ignore_case=True)
    else:
        mechanism = text(as_dict(exception.get("mechanism")).get("type")) or "<unknown>"
        found = glob_match(mechanism, matcher.pattern)
    return found != matcher.negated


def _scope(frames: list[dict[str, Any]], index: int, scope: str) -> list[dict[str, Any]]:
    return [frames[i] for i in _scope_indexes(len(frames), index, scope)]


def _scope_indexes(count: int, index: int, scope: str) -> range:
    # Frames are oldest call first: "^" (above, towards the crash) is after the frame in the list.
    if scope == "^":
        return range(index + 1, count)
    if scope == "v":
        return range(index)
    return range(index, index + 1)


def _is_classifier(action: FlagAction | VarAction) -> bool:
    if isinstance(action, FlagAction):
        return action.flag == "app"
    return action.name == "category"


# ------------------------------------------------------------------------------------- parsing


def _parse_rule(scanner: LineScanner) -> StacktraceRule:
    matchers = read_matchers(scanner, KEYS, _at_action)
    actions: list[FlagAction | VarAction] = []
    while not scanner.at_end():
        actions.append(_read_action(scanner))
    if not actions:
        raise scanner.error("expected an action such as -app, +group or max-frames=3")
    return StacktraceRule(matchers, tuple(actions))


def _at_action(scanner: LineScanner) -> bool:
    rest = scanner.line[scanner.pos :]
    flag = rest[:1] in ("+", "-") or rest[:2] in ("^+", "^-", "v+", "v-")
    # A word without "key:" in it cannot be a matcher; reading it as an action gives the better error.
    word = rest.split(None, 1)[0] if rest.strip() else ""
    not_a_matcher = ":" not in word and word[:1] not in ("[", "|")
    return flag or not_a_matcher or _VARIABLE_ACTION.match(rest) is not None


def _read_action(scanner: LineScanner) -> FlagAction | VarAction:
    start = scanner.pos
    word = scanner.read_word()
    for name in _VARIABLES:
        if word.startswith(name):
            return _var_action(scanner, word, name, start)
    scope = word[0] if word[:1] in ("^", "v") else ""
    body = word[len(scope) :]
    if body[:1] not in ("+", "-") or body[1:] not in ("app", "group"):
        raise scanner.error(f"unknown action {word!r}", start)
    return FlagAction(body[1:], body[0] == "+", scope)


def _var_action(scanner: LineScanner, word: str, name: str, start: int) -> VarAction:
    value = word[len(name) :].lstrip()
    if not value.startswith("="):
        raise scanner.error(f'expected "=" after {name}', start)
    value = value[1:].strip()
    if not value and not scanner.at_end():
        value = scanner.read_word()
    if name != "category" and not value.isdigit():
        raise scanner.error(f"{name} needs a whole number, not {value!r}", start)
    if not value:
        raise scanner.error(f"expected a value after {name}=", start)
    return VarAction(name, value)
