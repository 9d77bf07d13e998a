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

from shoal.digest.grouping.component import Component, Value
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
            for root in strategy.roots.values():
                if root.contributes:
                    root.exclude(f"{winner.name} takes precedence")
    if winner is not None and winner.name != "message":
        _apply_stacktrace_dominance(winner.roots)
    return [s for s in results if s.roots]


def _apply_stacktrace_dominance(roots: dict[str, Component]) -> None:
    with_stack = [name for name, root in roots.items() if root.has_contributing("stacktrace")]
    if with_stack:
        for name, root in roots.items():
            if name not in with_stack and root.contributes:
                root.exclude(
                    f"ignored because this variant does not have a contributing stacktrace, but the "
                    f"{with_stack[0]} variant does"
                )
    app, system = roots.get(APP), roots.get(SYSTEM)
    if app is not None and system is not None and system.contributes and system.hash() == app.hash():
        system.exclude("ignored because hash matches app variant")


# ---------------------------------------------------------------------------------------- exceptions


def _exception_roots(event: dict[str, Any], platform: str, config: GroupingConfig) -> dict[str, Component]:
    values = values_of(event.get("exception"))
    if not values:
        return {}
    values = _filter_exception_group(values, event, lambda v: _exception(v, APP, platform, config).hash())
    roots = {}
    for variant in (APP, SYSTEM):
        # An exception without a stack trace exists only in the app variant (§4.3).
        parts = [_exception(v, variant, platform, config) for v in values if variant == APP or _has_stack(v)]
        if not parts:
            continue
        child = parts[0] if len(parts) == 1 else Component("chained_exception", list[Value](parts))
        roots[variant] = Component(variant, [child])
    return roots


def _exception(exception: dict[str, Any], variant: str, platform: str, config: GroupingConfig) -> Component:
    type_ = Component("type", [t] if (t := text(exception.get("type"))) else [])
    mechanism = as_dict(exception.get("mechanism"))
    if type_.values and mechanism.get("synthetic") is True:
        type_.exclude("ignored because exception is synthetic")
    value_text = text(exception.get("value"))
    normalized = normalize_message(value_text) if value_text else ""
    value = Component("value", [normalized] if normalized else [])
    children: list[Value] = [type_, value]
    if _has_stack(exception):
        stack = _stacktrace(exception["stacktrace"], variant, platform, config)
        if stack.contributes and value.values:
            value.exclude("ignored because stacktrace takes precedence")
        children = [stack, type_, value] if config.legacy_exception_child_order else [type_, value, stack]
    return Component("exception", children)


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


def _stacktrace(stacktrace: object, variant: str, platform: str, config: GroupingConfig) -> Component:
    frames = [f for f in as_list(as_dict(stacktrace).get("frames")) if isinstance(f, dict)]
    components = [frame_component(frame, platform, config) for frame in frames]
    previous: dict[str, Any] | None = None
    for frame, component in zip(frames, components, strict=True):
        if previous is not None and all(frame.get(k) == previous.get(k) for k in _RECURSION_KEYS):
            component.exclude("ignored due to recursion")
        elif variant == APP and frame.get("in_app") is not True:
            component.exclude("non app frame")
        previous = frame
    stack = Component("stacktrace", list[Value](components))
    _apply_js_single_frame_rule(frames, components, platform, config)
    if not frames:
        stack.exclude("ignored because it contains no frames")
    elif not stack.contributes:
        stack.exclude(
            "ignored because it contains no in-app frames"
            if variant == APP
            else "ignored because it contains no contributing frames"
        )
    return stack


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
        components[0].exclude("ignored single frame stack")


def _stacktrace_roots(stacktrace: object, platform: str, config: GroupingConfig) -> dict[str, Component]:
    if not isinstance(stacktrace, dict):
        return {}
    return {v: Component(v, [_stacktrace(stacktrace, v, platform, config)]) for v in (APP, SYSTEM)}


def _threads_roots(event: dict[str, Any], platform: str, config: GroupingConfig) -> dict[str, Component]:
    threads = values_of(event.get("threads"))
    if not threads:
        return {}
    thread = _pick_thread(threads)
    roots = {}
    for variant in (APP, SYSTEM):
        stack = _stacktrace(thread.get("stacktrace") if thread else None, variant, platform, config)
        component = Component("threads", [stack])
        if thread is None or not isinstance(thread.get("stacktrace"), dict):
            component.exclude("ignored because it contains no or more than one thread")
        roots[variant] = Component(variant, [component])
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
    message = Component("message", [normalized], contributes_override=True)
    if normalized != raw:
        message.hint = "stripped event-specific values"
    return {DEFAULT: Component(DEFAULT, [message])}
