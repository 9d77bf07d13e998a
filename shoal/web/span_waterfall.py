"""A transaction's spans as a waterfall: each span under its parent (depth-first, siblings by start
time), with its bar's position and width in percent of the transaction's duration.

Spans whose parent is not among them (the transaction's own span, or a parent the SDK dropped past
`max_spans`) are drawn at the top level, so none is lost.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from shoal.digest.transactions import Span
from shoal.store.transaction_stats import is_failure

_MIN_WIDTH = 0.3  # percent: a 0 ms span still shows as a sliver


@dataclass(frozen=True)
class WaterfallRow:
    span: Span
    depth: int
    x: float  # percent of the transaction's duration
    width: float

    @property
    def failed(self) -> bool:
        return bool(self.span.status) and is_failure(self.span.status)

    @property
    def indent(self) -> int:
        """The depth as the template indents it (capped, so a deep tree stays readable)."""
        return min(self.depth, 12)


def waterfall(spans: list[Span], duration_ms: float) -> list[WaterfallRow]:
    ids = {span.span_id for span in spans if span.span_id}
    children: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else ""
        children[parent].append(span)
    rows: list[WaterfallRow] = []
    drawn: set[int] = set()  # by identity: a hostile SDK may send a span that is its own parent
    stack = [(span, 0) for span in _by_start(children[""])]
    while stack:
        span, depth = stack.pop(0)
        if id(span) in drawn:
            continue
        drawn.add(id(span))
        rows.append(_row(span, depth, duration_ms))
        below = children.get(span.span_id, []) if span.span_id else []
        stack[:0] = [(child, depth + 1) for child in _by_start(below)]
    # Spans in a cycle of parents reach no top-level span: drawn at the top, after the rest.
    return rows + [_row(span, 0, duration_ms) for span in spans if id(span) not in drawn]


def _by_start(spans: list[Span]) -> list[Span]:
    return sorted(spans, key=lambda s: s.offset_ms)


def _row(span: Span, depth: int, duration_ms: float) -> WaterfallRow:
    total = duration_ms or 1.0
    x = min(max(span.offset_ms / total * 100, 0.0), 100.0)
    width = min(max(span.duration_ms / total * 100, _MIN_WIDTH), 100.0 - x) or _MIN_WIDTH
    return WaterfallRow(span, depth, round(x, 3), round(width, 3))
