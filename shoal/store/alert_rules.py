"""Alert rules of a project: save, change, delete, read (the Sentry-shaped JSON in shoal/alerts)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, Row, delete, insert, select, update

from shoal.alerts.model import EVENT_ATTRIBUTE, Rule, RuleSpec
from shoal.store.schema import alert_rule


def insert_rule(conn: Connection, project_id: int, spec: RuleSpec, now: float) -> int:
    values = _values(spec) | {"project_id": project_id, "created_at": now, "updated_at": now}
    return int(conn.execute(insert(alert_rule).values(**values).returning(alert_rule.c.id)).scalar_one())


def update_rule(conn: Connection, rule_id: int, spec: RuleSpec, now: float) -> None:
    conn.execute(update(alert_rule).where(alert_rule.c.id == rule_id).values(**_values(spec), updated_at=now))


def delete_rule(conn: Connection, rule_id: int) -> None:
    conn.execute(delete(alert_rule).where(alert_rule.c.id == rule_id))


def get_rule(conn: Connection, rule_id: int) -> Rule | None:
    row = conn.execute(select(alert_rule).where(alert_rule.c.id == rule_id)).first()
    return _rule(row) if row else None


def project_rules(conn: Connection, project_id: int) -> list[Rule]:
    rows = conn.execute(
        select(alert_rule).where(alert_rule.c.project_id == project_id).order_by(alert_rule.c.id)
    )
    return [_rule(row) for row in rows]


def active_rules(conn: Connection, project_ids: Iterable[int]) -> dict[int, list[Rule]]:
    """The active rules of each project, in the order they were made."""
    ids = sorted(project_ids)
    found: dict[int, list[Rule]] = {project_id: [] for project_id in ids}
    if not ids:
        return found
    rows = conn.execute(
        select(alert_rule)
        .where(alert_rule.c.project_id.in_(ids), alert_rule.c.status == "active")
        .order_by(alert_rule.c.id)
    )
    for row in rows:
        found[row.project_id].append(_rule(row))
    return found


def _values(spec: RuleSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "environment": spec.environment,
        "action_match": spec.action_match,
        "filter_match": spec.filter_match,
        "conditions": orjson.dumps(list(spec.conditions)).decode(),
        "filters": orjson.dumps(list(spec.filters)).decode(),
        "actions": orjson.dumps(list(spec.actions)).decode(),
        "frequency": spec.frequency,
        "status": spec.status,
    }


def _rule(row: Row[Any]) -> Rule:
    return Rule(
        name=row.name,
        conditions=tuple(orjson.loads(row.conditions)),
        filters=tuple(orjson.loads(row.filters)),
        actions=tuple(orjson.loads(row.actions)),
        action_match=row.action_match,
        filter_match=row.filter_match,
        frequency=row.frequency,
        environment=row.environment,
        status=row.status,
        id=row.id,
        project_id=row.project_id,
        created_at=row.created_at,
    )


def attributes_compared(conn: Connection, project_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """The event attributes ("exception.type", …) that each project's active rules filter on."""
    return {
        project_id: frozenset(
            str(f.get("attribute")) for rule in rules for f in rule.filters if f["id"] == EVENT_ATTRIBUTE
        )
        for project_id, rules in active_rules(conn, project_ids).items()
    }
