"""Sentry's grouping strategies for errors and messages, and how their results become variants
(grouping.md §3 steps 4-5, §4).

In priority order: exceptions (a single one, a chain, an exception group), the crashed thread, a
bare stack trace, the message. The stack-based ones produce an `app` variant, where only in-app
frames count, and a `system` one; the message produces `default`. The first strategy with anything
contributing wins and the later ones are marked overridden. Every variant's tree keeps all of it,
for the "why was this grouped" view. A legacy checksum replaces all of this; an event with nothing
to group by gets the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shoal.digest.grouping.component import Component, Signature, md5_of
from shoal.digest.grouping.configs import GroupingConfig
from shoal.digest.grouping.frames import JS_PLATFORMS, frame_component, grouping_filename, is_url
from shoal.digest.grouping.parameterize import normalize_message
from shoal.digest.grouping.stacktrace_rules import StackHits, StackVerdict, judge_stack
from shoal.eventdata import as_dict, as_list, text, values_of

APP, SYSTEM, DEFAULT = "app", "system", "default"
_STRIPPED = "stripped event-specific values"
_CHECKSUM = re.compile(r"[0-9a-f]{32}")

# One strategy's result: variant name → its component.
Variants = dict[str, Component]


@dataclass(frozen=True)
class Variant:
    """One way of hashing an event: a component tree, a legacy checksum, or the fallback."""

    name: str
    # "component", "checksum", "hashed_checksum", "fallback", or a fingerprint kind:
    # "custom_client_fingerprint", "custom_server_fingerprint", "built_in_fingerprint",
    # "salted_component" (a component variant hashed with a hybrid fingerprint).
    kind: str
    hash: str | None
    root: Component | None = None
    # What a fingerprint variant hashed: the resolved fingerprint, `{{ default }}` in place.
    values: tuple[str, ...] = ()

    @property
    def contributes(self) -> bool:
        return self.hash is not None


def checksum_variant(event: Mapping[str, Any]) -> Variant | None:
    """A legacy client checksum replaces grouping entirely: 32 lowercase hex digits are the hash,
    anything else is hashed (grouping.md §3 step 4)."""
    checksum = event.get("checksum")
    if not isinstance(checksum, str) or not checksum:
        return None
    if _CHECKSUM.fullmatch(checksum):
        return Variant("checksum", "checksum", checksum)
    return Variant("hashed_checksum", "hashed_checksum", md5_of([checksum]))


def fallback_variant() -> Variant:
    """For an event with nothing to group by: md5 of nothing (grouping.md §7)."""
    return Variant("fallback", "fallback", md5_of([]))


def component_variants(
    event: Mapping[str, Any], config: GroupingConfig, rules: StackHits
) -> dict[str, Variant]:
    """Every strategy's variants, combined by variant name, the winning strategy's counting."""
    platform = text(event.get("platform")) or "other"
    results = [
        ("exception", _exception_strategy(event, platform, config, rules)),
        ("threads", _threads_strategy(event, platform, config, rules)),
        ("stacktrace", _stacktrace_variants(event.get("stacktrace"), None, platform, config, rules)),
        ("message", _message_strategy(event)),
    ]
    results = _apply_precedence([(name, _prefer_stacks(_drop_system_duplicate(v))) for name, v in results])
    parts: dict[str, list[Component]] = {}
    for _, variants in results:
        for name, component in variants.items():
            parts.setdefault(name, []).append(component)
    roots = {name: Component(name, tuple(components)) for name, components in parts.items()}
    return {name: Variant(name, "component", root.hash(), root) for name, root in roots.items()}


# ------------------------------------------------------------------ combining variants (§4.2)


def _drop_system_duplicate(variants: Variants) -> Variants:
    app, system = variants.get(APP), variants.get(SYSTEM)
    if app is None or system is None or not (app.contributes and system.contributes):
        return variants
    if app.hash() != system.hash():
        return variants
    return {**variants, SYSTEM: system.excluded("ignored because hash matches app variant")}


def _prefer_stacks(variants: Variants) -> Variants:
    """A variant without a contributing stack trace yields to one with: an error raised entirely
    in library code groups by its full stack (system), not by its type and value (app)."""
    with_stack = [name for name, component in variants.items() if component.has_contributing("stacktrace")]
    if not with_stack:
        return variants
    does = f"the {with_stack[0]} variant does" if len(with_stack) == 1 else "others do"
    hint = f"ignored because this variant does not have a contributing stacktrace, but {does}"
    return {name: c if name in with_stack else c.excluded(hint) for name, c in variants.items()}


def _apply_precedence(results: list[tuple[str, Variants]]) -> list[tuple[str, Variants]]:
    winner = next((name for name, v in results if any(c.contributes for c in v.values())), None)
    if winner is None:
        return results
    return [
        (name, v if name == winner else _overridden(v, f"{winner} takes precedence")) for name, v in results
    ]


def _overridden(variants: Variants, hint: str) -> Variants:
    return {name: c.excluded(hint) if c.contributes else c for name, c in variants.items()}


# ------------------------------------------------------------------------- exceptions (§4.3, §4.4)


def _exception_strategy(
    event: Mapping[str, Any], platform: str, config: GroupingConfig, rules: StackHits
) -> Variants:
    exceptions = values_of(event.get("exception"))
    if not exceptions:
        return {}
    tree = _ExceptionTree.build(exceptions) if len(exceptions) > 1 and not _is_python_sdk_3(event) else None
    per_exception = [
        _exception_variants(exception, platform, config, rules, compared=tree is not None)
        for exception in exceptions
    ]
    kept = (tree and tree.members(exceptions, per_exception)) or list(range(len(exceptions)))
    if len(kept) == 1:
        return per_exception[kept[0]]
    chains: dict[str, list[Component]] = {}
    for index in kept:
        # An exception without a stack trace has no system variant, so the system chain skips it.
        for name, component in per_exception[index].items():
            chains.setdefault(name, []).append(component)
    return {name: Component("chained_exception", tuple(chain)) for name, chain in chains.items()}


def _exception_variants(
    exception: dict[str, Any], platform: str, config: GroupingConfig, rules: StackHits, compared: bool
) -> Variants:
    type_ = _type(exception)
    # An exception without a stack trace exists only in the app variant.
    stacks = _stacktrace_variants(exception.get("stacktrace"), exception, platform, config, rules) or {
        APP: Component("stacktrace")
    }
    raw = text(exception.get("value")) or ""
    # Parameterizing is the costliest step of grouping, and a value counts only where its stack
    # trace does not, so it is parameterized only then, or when exception-group members are
    # `compared` by their whole components. Elsewhere the tree shows the value as sent.
    counts_somewhere = not all(stack.contributes for stack in stacks.values())
    value = normalize_message(raw) if raw and (counts_somewhere or compared) else raw
    variants = {}
    for name, stack in stacks.items():
        value_part = _value(raw, value, stack.contributes)
        children = (
            (stack, type_, value_part) if config.legacy_exception_child_order else (type_, value_part, stack)
        )
        variants[name] = Component("exception", children)
    return variants


def _type(exception: dict[str, Any]) -> Component:
    name = text(exception.get("type"))
    component = Component("type", (name,) if name else ())
    # The SDK made the exception up to carry a stack trace; its type says nothing.
    if as_dict(exception.get("mechanism")).get("synthetic") is True:
        return component.excluded("ignored because exception is synthetic")
    return component


def _value(raw: str, value: str, stack_contributes: bool) -> Component:
    if not value:
        return Component("value")
    if stack_contributes:
        return Component(
            "value", (value,), contributes=False, hint="ignored because stacktrace takes precedence"
        )
    return Component("value", (value,), hint=_STRIPPED if value != raw else None)


def _is_python_sdk_3(event: Mapping[str, Any]) -> bool:
    # sentry-python 3 started sending exception ids on plain chains; Sentry keeps the old grouping
    # for it by skipping the exception-group filter (§4.4).
    version = text(as_dict(event.get("sdk")).get("version")) or ""
    return event.get("platform") == "python" and version.startswith("3")


@dataclass(frozen=True)
class _ExceptionTree:
    """Exceptions linked by `mechanism.exception_id` / `parent_id`, by index in the event, for
    Sentry's exception-group filter (§4.4, RFC 0079): a group counts as its distinct leaf
    exceptions, alike ones once, rather than as its wrapper."""

    root: int
    # Each exception's children, last sent first: Sentry builds the tree walking the list backwards,
    # and that order decides which child is "first" and how same-type leaves are ordered.
    children: dict[int, list[int]]
    groups: frozenset[int]

    @classmethod
    def build(cls, exceptions: list[dict[str, Any]]) -> _ExceptionTree | None:
        """None when the tree is malformed: an id missing or repeated, an exception its own parent,
        no root (id 0)."""
        index_by_id: dict[int, int] = {}
        children_by_id: dict[int, list[int]] = {}
        for index in reversed(range(len(exceptions))):
            mechanism = exceptions[index].get("mechanism")
            if not isinstance(mechanism, dict):
                return None
            own = _exception_id(mechanism.get("exception_id"))
            parent = _exception_id(mechanism.get("parent_id"))
            if own is None or own == parent or own in index_by_id:
                return None
            index_by_id[own] = index
            if parent is not None:
                children_by_id.setdefault(parent, []).append(index)
        if 0 not in index_by_id:
            return None
        groups = frozenset(
            index
            for index in index_by_id.values()
            if exceptions[index]["mechanism"].get("is_exception_group") is True
        )
        children = {index: children_by_id.get(own, []) for own, index in index_by_id.items()}
        return cls(index_by_id[0], children, groups)

    def members(self, exceptions: list[dict[str, Any]], per_exception: list[Variants]) -> list[int] | None:
        """The exceptions that count, by index, in the order they count; None for all of them as
        sent (no leaf, or a cycle)."""
        leaves = self._top_level_leaves()
        if not leaves:
            return None
        leaves.sort(key=lambda index: str(exceptions[index].get("type")), reverse=True)
        distinct = _collapse_alike(leaves, per_exception)
        if len(distinct) > 1:
            return [*distinct, self.root]
        return self._first_path(distinct[0])

    def _top_level_leaves(self) -> list[int] | None:
        """The non-group exceptions reached from the root through groups only; None on a cycle."""
        found, pending, seen = [], [self.root], set()
        while pending:
            index = pending.pop()
            if index in seen:
                return None
            seen.add(index)
            if index in self.groups:
                pending.extend(reversed(self.children[index]))
            else:
                found.append(index)
        return found

    def _first_path(self, start: int) -> list[int] | None:
        """`start`, its first child, that one's first child…; None on a cycle."""
        path, seen = [start], {start}
        while self.children[path[-1]]:
            child = self.children[path[-1]][0]
            if child in seen:
                return None
            path.append(child)
            seen.add(child)
        return path


def _collapse_alike(leaves: list[int], per_exception: list[Variants]) -> list[int]:
    """The first of each run of neighbours whose components are alike in every variant."""
    distinct: list[int] = []
    previous: tuple[Signature, ...] | None = None
    for index in leaves:
        likeness = tuple(component.signature() for component in per_exception[index].values())
        if likeness != previous:
            distinct.append(index)
        previous = likeness
    return distinct


def _exception_id(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --------------------------------------------------------------------------- stack traces (§4.6)


def _stacktrace_variants(
    stacktrace: object,
    exception: Mapping[str, Any] | None,
    platform: str,
    config: GroupingConfig,
    rules: StackHits,
) -> Variants:
    """The app and system stack-trace components; none for a stack trace without frames, which
    Relay would have dropped (its frames are required and non-empty)."""
    frames = [frame for frame in as_list(as_dict(stacktrace).get("frames")) if isinstance(frame, dict)]
    if not frames:
        return {}
    stack = _Stack(
        frames=frames,
        components=[frame_component(frame, platform, config) for frame in frames],
        repeats=_repeats(frames, platform),
        in_app=[frame.get("in_app") is True for frame in frames],
        platform=platform,
        verdict=judge_stack(rules, stacktrace, frames, exception, platform),
    )
    return {APP: stack.component(APP, config), SYSTEM: stack.component(SYSTEM, config)}


@dataclass(frozen=True)
class _Stack:
    """A stack trace's frames and their components, built once for both variants."""

    frames: list[dict[str, Any]]
    components: list[Component]
    repeats: list[bool]
    # A missing in_app means not in app (§3 step 2, last point).
    in_app: list[bool]
    platform: str
    # What the stack-trace rules' `+group`, `-group`, `max-frames` and `min-frames` say (§11.3).
    verdict: StackVerdict

    def component(self, variant: str, config: GroupingConfig) -> Component:
        parts = []
        frames = zip(self.components, self.repeats, self.in_app, self.verdict.frames, strict=True)
        for frame, repeat, in_app, ruled in frames:
            if repeat:
                parts.append(frame.excluded("ignored due to recursion"))
            elif variant == APP and not in_app:
                parts.append(frame.excluded("non app frame"))
            elif ruled.contributes is False:
                parts.append(frame.excluded(f"ignored by stack trace rule ({ruled.rule})"))
            else:
                parts.append(frame)
        if len(parts) == 1:
            parts[0] = self._lone_js_frame(parts[0], config)
        parts = self._keep_last_frames(parts)
        stacktrace = Component("stacktrace", tuple(parts))
        if stacktrace.contributes:
            return self._at_least_min_frames(stacktrace, parts)
        nothing = "in-app" if variant == APP and not any(self.in_app) else "contributing"
        return stacktrace.excluded(f"ignored because it contains no {nothing} frames")

    def _keep_last_frames(self, parts: list[Component]) -> list[Component]:
        """`max-frames=N`: only the N contributing frames closest to the crash count."""
        limit = self.verdict.max_frames
        if limit is None:
            return parts
        kept: list[Component] = []
        counted = 0
        hint = f"ignored because only {limit} {_frames_word(limit)} count"
        for part in reversed(parts):
            over_limit = part.contributes and counted >= limit
            counted += part.contributes
            kept.append(part.excluded(hint) if over_limit else part)
        return kept[::-1]

    def _at_least_min_frames(self, stacktrace: Component, parts: list[Component]) -> Component:
        """`min-frames=N`: a stack trace with fewer contributing frames does not count."""
        limit = self.verdict.min_frames
        count = sum(part.contributes for part in parts)
        if limit is None or count >= limit:
            return stacktrace
        return stacktrace.excluded(
            f"discarded because stack trace only contains {count} {_frames_word(count)} "
            "which is under the configured threshold"
        )

    def _lone_js_frame(self, component: Component, config: GroupingConfig) -> Component:
        """A JavaScript stack of one nameless frame says little (§4.6 step 4). Which ones are
        ignored depends on the config: 2023 has the URL test inverted, a bug kept for stability."""
        frame = self.frames[0]
        if not component.contributes or text(frame.get("function")):
            return component
        if (text(frame.get("platform")) or self.platform) not in JS_PLATFORMS:
            return component
        if is_url(text(frame.get("abs_path")), files_count=True) != config.js_single_frame_ignores_url:
            return component
        return component.excluded("ignored single non-URL JavaScript frame")


def _frames_word(count: int) -> str:
    return "frame" if count == 1 else "frames"


def _repeats(frames: list[dict[str, Any]], platform: str) -> list[bool]:
    """Whether each frame repeats the one before it exactly: recursion, which counts once."""
    calls = [
        (
            frame.get("abs_path"),
            frame.get("package"),
            frame.get("module"),
            frame.get("filename")
            if platform != "javascript"
            else grouping_filename(frame.get("filename"), platform),
            frame.get("function"),
            frame.get("lineno"),
            frame.get("colno"),
        )
        for frame in frames
    ]
    return [index > 0 and call == calls[index - 1] for index, call in enumerate(calls)]


# ------------------------------------------------------------------------------- threads (§4.5)


def _threads_strategy(
    event: Mapping[str, Any], platform: str, config: GroupingConfig, rules: StackHits
) -> Variants:
    threads = values_of(event.get("threads"))
    if not threads:
        return {}
    thread = _pick_thread(threads)
    if thread is None:
        hint = "ignored because it contains neither a single thread nor exactly one crashed or current thread"
        return {APP: Component("threads", contributes=False, hint=hint)}
    stacks = _stacktrace_variants(thread.get("stacktrace"), None, platform, config, rules)
    if not stacks:
        return {APP: Component("threads", contributes=False, hint="ignored because thread has no stacktrace")}
    return {name: Component("threads", (stack,)) for name, stack in stacks.items()}


def _pick_thread(threads: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The single crashed thread, else the single current one, else the only one."""
    crashed = [thread for thread in threads if thread.get("crashed") is True]
    current = [thread for thread in threads if thread.get("current") is True]
    for candidates in (crashed, current, threads):
        if len(candidates) == 1:
            return candidates[0]
    return None


# ------------------------------------------------------------------------------- message (§4.7)


def _message_strategy(event: Mapping[str, Any]) -> Variants:
    raw = _message_text(event)
    if raw is None:
        return {}
    normalized = normalize_message(raw)
    # Always contributes, even when empty.
    return {DEFAULT: Component("message", (normalized,), hint=_STRIPPED if normalized != raw else None)}


def _message_text(event: Mapping[str, Any]) -> str | None:
    logentry = event.get("logentry")
    entry = as_dict(logentry)
    # The template, when the SDK sent one, groups "retry %d failed" across all its arguments.
    found = text(entry.get("message")) or text(entry.get("formatted"))
    if found:
        return found
    # Relay turns a plain string `message` into the log entry (§3 step 1).
    message = event.get("message")
    if isinstance(message, str) and message:
        return message
    return "" if isinstance(logentry, dict) else None
