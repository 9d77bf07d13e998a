"""'Why is this event in this issue': the grouping explanation the issue page shows for an event."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from shoal.digest.grouping.explain import explain
from shoal.digest.project_grouping import group_event
from shoal.store.events import StoredEvent
from shoal.store.projects import ProjectInfo


def event_explanation(project: ProjectInfo, event: StoredEvent) -> dict[str, Any]:
    """How the event groups under its own config and the project's current rules, and whether
    that still gives the hashes it was stored with (rules may have changed since)."""
    data = copy.deepcopy(event.data)
    config_id = str((data.get("grouping_config") or {}).get("id") or project.grouping.config_id)
    stored_hashes = list(data.get("hashes") or [])
    explanation = explain(group_event(data, replace(project.grouping, config_id=config_id)))
    explanation["stored_hashes"] = stored_hashes
    explanation["changed_since"] = stored_hashes != explanation["hashes"]
    return explanation
