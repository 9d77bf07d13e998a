"""Showing what data scrubbing removed: a value rendered as the event page shows data (a string as
it is, anything else as indented JSON), with every `[Filtered]` in it muted and titled with the
rule that removed it, read from the event's `_meta` (shoal/digest/scrub.py writes it; so do SDKs
for their own scrubbing, "!config").

Everything from the event is escaped here, since the result is markup: the SDK's strings are text.
"""

from __future__ import annotations

from typing import Any

import orjson
from markupsafe import Markup, escape

from shoal.digest.scrub import FILTERED, RULE_DESCRIPTIONS


def meta_at(meta: object, *path: str | int) -> dict[str, Any]:
    """The `_meta` node for a path into the event ({} when nothing was recorded there)."""
    node = meta
    for key in path:
        if not isinstance(node, dict):
            return {}
        node = node.get(str(key))
    return node if isinstance(node, dict) else {}


def show(value: Any, meta: object = None) -> Markup:
    """`value` as the page shows data, with what was filtered marked."""
    node = meta if isinstance(meta, dict) else {}
    if not node and not _mentions_filtered(value):
        return Markup(escape(_plain(value)))
    if isinstance(value, str) or _removed(node) is not None:
        return _text(value, node)
    parts: list[str] = []
    _json(value, node, 0, parts)
    return Markup("".join(parts))


def description(rule: str) -> str:
    """What the tooltip says about a rule: what it removes, and its name."""
    known = RULE_DESCRIPTIONS.get(rule)
    return f"{known} ({rule})" if known else rule


def _title(rules: list[str]) -> str:
    if not rules:
        return "Filtered by data scrubbing"
    return "Filtered: " + "; ".join(description(rule) for rule in dict.fromkeys(rules))


def _span(rules: list[str]) -> str:
    return f'<span class="filtered" title="{escape(_title(rules))}">{FILTERED}</span>'


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def _mentions_filtered(value: Any) -> bool:
    if isinstance(value, str):
        return FILTERED in value
    if isinstance(value, dict | list):
        return FILTERED.encode() in orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    return False


def _remarks(node: dict[str, Any]) -> list[list[Any]]:
    entry = node.get("")
    rem = entry.get("rem") if isinstance(entry, dict) else None
    if not isinstance(rem, list):
        return []
    return [r for r in rem if isinstance(r, list) and r and isinstance(r[0], str)]


def _removed(node: dict[str, Any]) -> list[str] | None:
    """The rules that removed this value whole (a null in its place), or None."""
    rules = [r[0] for r in _remarks(node) if len(r) > 1 and r[1] == "x"]
    return rules or None


def _text(value: Any, node: dict[str, Any], *, quoted: bool = False) -> Markup:
    """A string (or a removed value) with its filtered parts as spans; `quoted` as a JSON string."""
    removed = _removed(node)
    if removed is not None and value is None:
        return Markup(_span(removed))
    if not isinstance(value, str):
        return Markup(escape(orjson.dumps(value).decode()))
    pieces = _pieces(value, _remarks(node))
    out = []
    for text, rules in pieces:
        if rules is not None:
            out.append(_span(rules))
        elif quoted:
            out.append(str(escape(orjson.dumps(text).decode()[1:-1])))
        else:
            out.append(str(escape(text)))
    body = "".join(out)
    return Markup(f'"{body}"' if quoted else body)


def _pieces(value: str, remarks: list[list[Any]]) -> list[tuple[str, list[str] | None]]:
    """The string cut into plain text and filtered parts (with their rules). Ranged remarks say
    exactly where; without ranges (an SDK's), every literal [Filtered] is taken to be one."""
    ranged = sorted(
        (r for r in remarks if len(r) >= 4 and isinstance(r[2], int) and isinstance(r[3], int)),
        key=lambda r: int(r[2]),
    )
    spans: list[tuple[int, int, list[str]]] = [
        (int(r[2]), int(r[3]), [r[0]]) for r in ranged if value[int(r[2]) : int(r[3])] == FILTERED
    ]
    if not spans:
        rules = [r[0] for r in remarks]
        start = value.find(FILTERED)
        while start != -1:
            spans.append((start, start + len(FILTERED), rules))
            start = value.find(FILTERED, start + len(FILTERED))
    pieces: list[tuple[str, list[str] | None]] = []
    position = 0
    for start, end, rules in spans:
        if start < position:
            continue
        if start > position:
            pieces.append((value[position:start], None))
        pieces.append((FILTERED, rules))
        position = end
    if position < len(value):
        pieces.append((value[position:], None))
    return pieces


def _json(value: Any, node: dict[str, Any], indent: int, out: list[str]) -> None:
    """Indented JSON like the page's plain rendering (orjson's two spaces), marking as it goes."""
    pad = " " * (indent + 2)
    if isinstance(value, dict) and value:
        out.append("{\n")
        for index, (key, member) in enumerate(value.items()):
            out.append(pad + str(escape(orjson.dumps(str(key)).decode())) + ": ")
            _json(member, _child(node, key), indent + 2, out)
            out.append(",\n" if index < len(value) - 1 else "\n")
        out.append(" " * indent + "}")
    elif isinstance(value, list) and value:
        out.append("[\n")
        for index, member in enumerate(value):
            out.append(pad)
            _json(member, _child(node, index), indent + 2, out)
            out.append(",\n" if index < len(value) - 1 else "\n")
        out.append(" " * indent + "]")
    else:
        out.append(str(_text(value, node, quoted=True)))


def _child(node: dict[str, Any], key: str | int) -> dict[str, Any]:
    child = node.get(str(key))
    return child if isinstance(child, dict) else {}
