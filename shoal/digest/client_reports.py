"""SDK client reports: what the SDK itself dropped before sending, as client_discard outcomes.

Payload: {"timestamp": …, "discarded_events": [{"reason", "category", "quantity"}]} (protocol.md §5).
Reports never count against quotas; they only explain where events went. A malformed report is
ignored: it describes losses, it is not itself data the user sent.
"""

from __future__ import annotations

from collections import Counter
from typing import TypeGuard

import orjson

from shoal.outcomes import Outcome, OutcomeKey

_MAX_NAME_CHARS = 64  # outcome_counter.category/reason column widths


def client_report_outcomes(project_id: int, payload: bytes, key_id: int = 0) -> Counter[OutcomeKey]:
    """The report's discards, counted for the project and the DSN key the report came with."""
    counts: Counter[OutcomeKey] = Counter()
    try:
        report = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return counts
    discarded = report.get("discarded_events") if isinstance(report, dict) else None
    for entry in discarded if isinstance(discarded, list) else ():
        if not isinstance(entry, dict):
            continue
        reason, category, quantity = entry.get("reason"), entry.get("category"), entry.get("quantity")
        if isinstance(reason, str) and isinstance(category, str) and _is_count(quantity):
            name = reason[:_MAX_NAME_CHARS]
            key = OutcomeKey(project_id, category[:32], Outcome.CLIENT_DISCARD, name, key_id)
            counts[key] += quantity
    return counts


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
