"""Grouping an event with its project's settings: the one call the digest, regrouping, the rule
dry-run and `shoal grouping explain` share, so that all four give the same answer."""

from __future__ import annotations

from typing import Any

from shoal.digest.grouping import GroupingResult, calculate_grouping
from shoal.store.projects import ProjectGrouping


def group_event(event: dict[str, Any], settings: ProjectGrouping) -> GroupingResult:
    """Group `event` and record on it what was used, as Sentry does (`grouping_config`, `hashes`).
    The event is changed in place: stack-trace rules set `in_app` on its frames."""
    grouping = calculate_grouping(
        event,
        settings.config_id,
        fingerprint_rules=settings.fingerprint_rules,
        stacktrace_rules=settings.stacktrace_rules,
    )
    event["grouping_config"] = {"id": grouping.config_id}
    event["hashes"] = grouping.hashes
    return grouping
