"""Why an event is grouped the way it is: a grouping result as plain data, for the issue page's
"Why is this event in this issue" and `shoal grouping explain`.

Each variant becomes `{"name", "type", "hash", "contributes", "hint", "component"}`, and each
component `{"id", "contributes", "hint", "values"}`, where a value is a string, a number or another
component: the same tree Sentry shows, so two explanations can be compared side by side.
"""

from __future__ import annotations

from typing import Any

from shoal.digest.grouping.api import GroupingResult
from shoal.digest.grouping.component import Component
from shoal.digest.grouping.strategies import SYSTEM, Variant


def explain(result: GroupingResult) -> dict[str, Any]:
    """The config, the ordered hashes and every variant, contributing ones first, system last."""
    variants = sorted(result.variants.values(), key=lambda v: (not v.contributes, v.name == SYSTEM, v.name))
    return {
        "config": result.config_id,
        "hashes": result.hashes,
        "variants": [explain_variant(variant) for variant in variants],
    }


def explain_variant(variant: Variant) -> dict[str, Any]:
    root = variant.root
    return {
        "name": variant.name,
        "type": variant.kind,
        "hash": variant.hash,
        "contributes": variant.contributes,
        "hint": _variant_hint(variant),
        "component": explain_component(root) if root is not None else None,
    }


def explain_component(component: Component) -> dict[str, Any]:
    return {
        "id": component.id,
        "contributes": component.contributes,
        "hint": component.hint,
        "values": [
            explain_component(value) if isinstance(value, Component) else value for value in component.values
        ],
    }


def _variant_hint(variant: Variant) -> str | None:
    """Why a variant does not count, read off the first hint on its way down (Sentry shows the
    hint of the component that decided it)."""
    component = variant.root
    while component is not None:
        if component.hint is not None:
            return component.hint
        children = [value for value in component.values if isinstance(value, Component)]
        component = children[0] if len(children) == 1 else None
    return None


def render_text(explanation: dict[str, Any]) -> str:
    """The explanation as an indented tree, `*` marking what contributes, hints in parentheses."""
    lines = [f"config: {explanation['config']}", f"hashes: {', '.join(explanation['hashes'])}"]
    for variant in explanation["variants"]:
        state = "contributes" if variant["contributes"] else "does not contribute"
        lines.append("")
        lines.append(f"{variant['name']} ({variant['type']}): {variant['hash'] or '-'}  {state}")
        if variant["hint"]:
            lines.append(f"  ({variant['hint']})")
        if variant["component"] is not None:
            _render_component(variant["component"], 1, lines)
    return "\n".join(lines)


def _render_component(component: dict[str, Any], depth: int, lines: list[str]) -> None:
    marker = "*" if component["contributes"] else ""
    hint = f" ({component['hint']})" if component["hint"] else ""
    lines.append(f"{'  ' * depth}{component['id']}{marker}{hint}")
    for value in component["values"]:
        if isinstance(value, dict):
            _render_component(value, depth + 1, lines)
        else:
            lines.append(f"{'  ' * (depth + 1)}{value!r}")
