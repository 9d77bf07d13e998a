"""Sentry's grouping strategies: chained exceptions (and single ones), threads, a bare stack trace,
then the message, each producing an `app` and a `system` variant (the message a `default` one).

grouping.md §4: the first strategy with a contributing component wins and later ones are marked as
overridden; a variant without a contributing stack trace yields to one with; a system hash equal
to the app hash is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shoal.digest.grouping.component import Component
from shoal.digest.grouping.configs import GroupingConfig
from shoal.digest.grouping.frames import frame_component, is_url
from shoal.digest.grouping.parameterize import normalize_message
from shoal.eventdata import as_dict, as_list, text, values_of

APP, SYSTEM, DEFAULT = "app", "system", "default"
_JS_PLATFORMS = frozenset({"javascript", "node"})
# Fields that make two consecutive frames "the same call" for the recursion rule (§4.6 step 2).
_RECURSION_KEYS = ("abs_path", "package", "module", "filename", "function", "lineno", "colno")


@dataclass
class Strategy:
    name: str
    roots: dict[str, Component]  # variant name → root component


def strategy_results(event: dict[str, Any], config: GroupingConfig) -> list[Strategy]:
    """Every strategy's variants, highest priority first, with precedence already applied."""
    platform = text(event.get("platform")) or "other"
    results = [
        Strategy("chained-exception", _exception_roots(event, platform, config)),
        Strategy("threads", _threads_roots(event, platform, config)),
        Strategy("stacktrace", _stacktrace_roots(event.get("stacktrace"), platform, config)),
        Strategy("message", _message_roots(event)),
    ]
    winner = next((s for s in results if any(root.contributes for root in s.roots.values())), None)
    for strategy in results:
        if winner is not None and strategy is not winner:
            strategy.roots = {
                name: root.excluded(f"{winner.name} takes precedence") if root.contributes else root
                for name, root in strategy.roots.items()
            }
    if winner is not None and winner.name != "message":
        winner.roots = _apply_stacktrace_dominance(winner.roots)
    return [s for s in results if s.roots]


def _apply_stacktrace_dominance(roots: dict[str, Component]) -> dict[str, Component]:
    with_stack = [name for name, root in roots.items() if root.has_contributing("stacktrace")]
    if with_stack:
        hint = (
            f"ignored because this variant does not have a contributing stacktrace, but the "
            f"{with_stack[0]} variant does"
        )
        roots = {
            name: root.excluded(hint) if name not in with_stack and root.contributes else root
            for name, root in roots.items()
        }
    app, system = roots.get(APP), roots.get(SYSTEM)
    if app is not None and system is not None and system.contributes and system.hash() == app.hash():
        roots[SYSTEM] = system.excluded("ignored because hash matches app variant")
    return roots


# ---------------------------------------------------------------------------------------- exceptions


def _exception_roots(event: dict[str, Any], platform: str, config: GroupingConfig) -> dict[str, Component]:
    values = values_of(event.get("exception"))
    if not values:
        return {}
    # Each exception's frames are made into components once, for both variants.
    stacks = {id(v): _frames_of(v["stacktrace"], platform, config) for v in values if _has_stack(v)}

    def exception(value: dict[str, Any], variant: str) -> Component:
        return _exception(value, stacks.get(id(value)), variant, platform, config)

    values = _filter_exception_group(values, event, lambda v: exception(v, APP).hash())
    roots = {}
    for variant in (APP, SYSTEM):
        # An exception without a stack trace exists only in the app variant (§4.3).
        parts = [exception(v, variant) for v in values if variant == APP or _has_stack(v)]
        if not parts:
            continue
        child = parts[0] if len(parts) == 1 else Component("chained_exception", tuple(parts))
        roots[variant] = Component(variant, (child,))
    return roots


def _exception(
    exception: dict[str, Any], frames: Frames | None, variant: str, platform: str, config: GroupingConfig
) -> Component:
    type_ = Component("type", (t,) if (t := text(exception.get("type"))) else ())
    if type_.values and as_dict(exception.get("mechanism")).get("synthetic") is True:
        type_ = type_.excluded("ignored because exception is synthetic")
    if frames is None:
        return Component("exception", (type_, _value(exception, stack_contributes=False)))
    stack = _stacktrace(frames, variant, platform, config)
    value = _value(exception, stack_contributes=stack.contributes)
    children = (stack, type_, value) if config.legacy_exception_child_order else (type_, value, stack)
    return Component("exception", children)


def _value(exception: dict[str, Any], stack_contributes: bool) -> Component:
    raw = text(exception.get("value")) or ""
    if stack_contributes:
        # The value cannot count (§4.3), so it is shown as sent rather than parameterized, which
        # is the costliest step of grouping (~50 µs a value on the corpus).
        return (
            Component("value", (raw,), False, "ignored because stacktrace takes precedence")
            if raw
            else Component("value")
        )
    normalized = normalize_message(raw) if raw else ""
    return Component("value", (normalized,) if normalized else ())


def _filter_exception_group(
    values: list[dict[str, Any]], event: dict[str, Any], grouping_hash: Callable[[dict[str, Any]], str | None]
) -> list[dict[str, Any]]:
    """RFC 0079: group an exception group by its distinct leaf exceptions, not by its wrapper (§4.4).
    Leaves that would group alike (`grouping_hash`) count once."""
    sdk = as_dict(event.get("sdk"))
    if text(sdk.get("name")) == "sentry.python" and (text(sdk.get("version")) or "").startswith("3"):
        return values
    tree = _exception_tree(values)
    if tree is None:
        return values
    children, by_id = tree
    leaves = _top_level_leaves(0, children, by_id)
    if not leaves:
        return values
    leaves.sort(key=lambda e: str(e.get("type")), reverse=True)
    distinct: list[dict[str, Any]] = []
    for leaf in leaves:
        if not distinct or grouping_hash(distinct[-1]) != grouping_hash(leaf):
            distinct.append(leaf)
    if len(distinct) == 1:
        chain = _first_child_chain(distinct[0], children, by_id)
        return [v for v in values if any(v is member for member in chain)]  # keep payload order
    return [*distinct, by_id[0]]


def _exception_tree(
    values: list[dict[str, Any]],
) -> tuple[dict[int, list[int]], dict[int, dict[str, Any]]] | None:
    by_id: dict[int, dict[str, Any]] = {}
    children: dict[int, list[int]] = {}
    for value in values:
        mechanism = value.get("mechanism")
        if not isinstance(mechanism, dict):
            return None
        exception_id, parent_id = mechanism.get("exception_id"), mechanism.get("parent_id")
        if not isinstance(exception_id, int) or exception_id in by_id or exception_id == parent_id:
            return None
        by_id[exception_id] = value
        if isinstance(parent_id, int):
            children.setdefault(parent_id, []).append(exception_id)
    if 0 not in by_id or not as_dict(by_id[0].get("mechanism")).get("is_exception_group"):
        return None
    return children, by_id


def _top_level_leaves(
    node: int, children: dict[int, list[int]], by_id: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    found = []
    for child in children.get(node, []):
        exception = by_id.get(child)
        if exception is None:
            continue
        if as_dict(exception.get("mechanism")).get("is_exception_group"):
            found.extend(_top_level_leaves(child, children, by_id))
        else:
            found.append(exception)
    return found


def _first_child_chain(
    start: dict[str, Any], children: dict[int, list[int]], by_id: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    chain = [start]
    current = start["mechanism"]["exception_id"]
    while children.get(current):
        current = children[current][0]
        chain.append(by_id[current])
    return chain


def _has_stack(exception: dict[str, Any]) -> bool:
    return isinstance(exception.get("stacktrace"), dict)


# ------------------------------------------------------------------------------------ stack traces


@dataclass(frozen=True)
class Frames:
    """A stack trace's frames and their components, built once and shared by both variants."""

    frames: list[dict[str, Any]]
    components: list[Component]


def _frames_of(stacktrace: object, platform: str, config: GroupingConfig) -> Frames:
    frames = [f for f in as_list(as_dict(stacktrace).get("frames")) if isinstance(f, dict)]
    return Frames(frames, [frame_component(frame, platform, config) for frame in frames])


def _stacktrace(stack: Frames, variant: str, platform: str, config: GroupingConfig) -> Component:
    components = [
        _frame_in_variant(frame, component, stack.frames[i - 1] if i else None, variant)
        for i, (frame, component) in enumerate(zip(stack.frames, stack.components, strict=True))
    ]
    _apply_js_single_frame_rule(stack.frames, components, platform, config)
    result = Component("stacktrace", tuple(components))
    if not components:
        return result.excluded("ignored because it contains no frames")
    if not result.contributes:
        no_frames = "no in-app frames" if variant == APP else "no contributing frames"
        return result.excluded(f"ignored because it contains {no_frames}")
    return result


def _frame_in_variant(
    frame: dict[str, Any], component: Component, previous: dict[str, Any] | None, variant: str
) -> Component:
    if previous is not None and all(frame.get(k) == previous.get(k) for k in _RECURSION_KEYS):
        return component.excluded("ignored due to recursion")
    if variant == APP and frame.get("in_app") is not True:
        return component.excluded("non app frame")
    return component


def _apply_js_single_frame_rule(
    frames: list[dict[str, Any]], components: list[Component], platform: str, config: GroupingConfig
) -> None:
    """A lone JS frame without a function name says little; which ones are ignored depends on the
    config (§4.6 step 4: 2023 has the URL test inverted, a bug kept for stability)."""
    if len(frames) != 1 or not components[0].contributes:
        return
    frame = frames[0]
    if (text(frame.get("platform")) or platform) not in _JS_PLATFORMS or text(frame.get("function")):
        return
    if is_url(frame.get("abs_path"), with_file=True) == config.js_single_frame_ignores_url:
        components[0] = components[0].excluded("ignored single frame stack")


def _stacktrace_roots(stacktrace: object, platform: str, config: GroupingConfig) -> dict[str, Component]:
    if not isinstance(stacktrace, dict):
        return {}
    frames = _frames_of(stacktrace, platform, config)
    return {v: Component(v, (_stacktrace(frames, v, platform, config),)) for v in (APP, SYSTEM)}


def _threads_roots(event: dict[str, Any], platform: str, config: GroupingConfig) -> dict[str, Component]:
    threads = values_of(event.get("threads"))
    if not threads:
        return {}
    thread = _pick_thread(threads)
    frames = _frames_of(thread.get("stacktrace") if thread else None, platform, config)
    roots = {}
    for variant in (APP, SYSTEM):
        stack = _stacktrace(frames, variant, platform, config)
        component = Component("threads", (stack,))
        if thread is None or not isinstance(thread.get("stacktrace"), dict):
            component = component.excluded("ignored because it contains no or more than one thread")
        roots[variant] = Component(variant, (component,))
    return roots


def _pick_thread(threads: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The single crashed thread, else the single current one, else the only one (§4.5)."""
    for key in ("crashed", "current"):
        marked = [t for t in threads if t.get(key) is True]
        if len(marked) == 1:
            return marked[0]
        if len(marked) > 1:
            return None
    return threads[0] if len(threads) == 1 else None


# ----------------------------------------------------------------------------------------- message


def _message_roots(event: dict[str, Any]) -> dict[str, Component]:
    logentry = event.get("logentry")
    if not isinstance(logentry, dict):
        return {}
    # The template, when the SDK sent one, groups "retry %d failed" across all its numbers.
    raw = text(logentry.get("message")) or text(logentry.get("formatted")) or ""
    normalized = normalize_message(raw)
    hint = "stripped event-specific values" if normalized != raw else None
    message = Component("message", (normalized,), contributes_override=True, hint=hint)
    return {DEFAULT: Component(DEFAULT, (message,))}
