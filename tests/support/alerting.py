"""A digest on a real spool and store, driven one batch at a time under a manual clock, for tests of
issue states and alert rules: send events, make rules, read the outbox and the decision log."""

from __future__ import annotations

import gzip
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, select

from shoal.alerts.model import rule_from_json
from shoal.clock import ManualClock
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.digest.pipeline import DigestLimits
from shoal.digest.worker import DigestWorker
from shoal.spool.base import SpoolEntry
from shoal.spool.sqlite import SqliteSpool
from shoal.store import alert_rules, alert_state, projects, users
from shoal.store.alert_state import LoggedDecision
from shoal.store.db import write_transaction
from shoal.store.schema import alert_rule, event, notification
from tests.support.http import event_envelope

LIMITS = DigestLimits(max_envelope_bytes=10 * 1024 * 1024, max_event_bytes=1024 * 1024)
START = 1_795_000_000.0
MEMBER = "dev@example.com"


def error_event(
    type_: str = "ValueError",
    function: str = "checkout",
    *,
    tags: dict[str, str] | None = None,
    release: str | None = None,
    user: str | None = None,
    level: str = "error",
    environment: str | None = None,
) -> dict[str, Any]:
    """An exception in `shop.cart.<function>`: type and function decide its issue."""
    frame = {"module": "shop.cart", "function": function, "context_line": f"{function}()", "in_app": True}
    data: dict[str, Any] = {
        "event_id": uuid.uuid4().hex,
        "platform": "python",
        "level": level,
        "exception": {"values": [{"type": type_, "value": "boom", "stacktrace": {"frames": [frame]}}]},
        "tags": tags or {},
    }
    if release:
        data["release"] = release
    if user:
        data["user"] = {"id": user}
    if environment:
        data["environment"] = environment
    return data


@dataclass(frozen=True)
class Sent:
    kind: str
    rule_name: str
    issue_id: int | None
    target: dict[str, Any]


class DigestHarness:
    def __init__(self, engine: Engine, tmp_path: Path) -> None:
        self.engine = engine
        self.clock = ManualClock(START)
        self.spool = SqliteSpool(tmp_path / "spool.db", durable_writes=False)
        with write_transaction(engine) as conn:
            organization_id = projects.create_organization(conn, "acme", "Acme")
            member = users.create_user(conn, MEMBER, "a long enough password")
            users.add_membership(conn, organization_id, member.id, "member")
            self.project_id = projects.create_project(
                conn, organization_id, "shop", "python", DEFAULT_CONFIG_ID
            ).id
        self.worker = DigestWorker(self.spool, engine, LIMITS, lease_seconds=60, clock=self.clock)

    def send(self, *events: dict[str, Any]) -> None:
        """Spool the events (timestamped now) as one envelope each, and digest them all."""
        self.send_to_spool(*events)
        while self.worker.run_once():
            pass

    def send_to_spool(self, *events: dict[str, Any]) -> None:
        entries = []
        for data in events:
            stamped = {"timestamp": self.clock.now(), **data}
            body = gzip.compress(event_envelope(stamped, stamped["event_id"]))
            entries.append(
                SpoolEntry(
                    self.project_id, "envelope", self.clock.now(), stamped["event_id"], None, "gzip", body
                )
            )
        self.spool.append(entries)

    def only_rule(self, data: dict[str, Any]) -> int:
        """Replace the project's rules (the default "new issue" one included) with this one."""
        with write_transaction(self.engine) as conn:
            conn.execute(alert_rule.delete().where(alert_rule.c.project_id == self.project_id))
        return self.add_rule(data)

    def add_rule(self, data: dict[str, Any]) -> int:
        with write_transaction(self.engine) as conn:
            return alert_rules.insert_rule(conn, self.project_id, rule_from_json(data), self.clock.now())

    def sent(self) -> list[Sent]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(notification).order_by(notification.c.id))
            return [
                Sent(_kind(row.message), _rule_name(row.message), row.issue_id, _json(row.target))
                for row in rows
            ]

    def issue_of(self, event_id: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(select(event.c.issue_id).where(event.c.event_id == event_id)).scalar_one()
            )

    def decisions(self, issue_id: int) -> list[LoggedDecision]:
        """Newest first."""
        with self.engine.connect() as conn:
            return alert_state.issue_decisions(conn, issue_id)


def _json(text: str) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(text)
    return value


def _kind(message: str) -> str:
    return str(_json(message)["kind"])


def _rule_name(message: str) -> str:
    return str(_json(message)["rule_name"])
