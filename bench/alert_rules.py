"""What alert rules cost the digest: the same corpus events digested with no rules, and with 20
rules per project (every trigger and filter kind), on SQLite, in-process, with the garbage
collector set as `shoal worker` sets it.

    .venv/bin/python bench/alert_rules.py [EVENTS] [ROUNDS]

Each round spools EVENTS corpus envelopes (fresh event ids, timestamps of now) into a fresh spool
and store, then times one digest worker until the spool is empty. Rounds alternate between the two
rule sets so that the machine's drift hits both alike. Prints events/s per round and the median
overhead of the 20 rules.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shoal.alerts import model
from shoal.alerts.model import rule_from_json
from shoal.alerts.templates import TEMPLATES
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.digest.pipeline import DigestLimits
from shoal.digest.worker import DigestWorker, collect_garbage_less_often
from shoal.spool.base import SpoolEntry
from shoal.spool.sqlite import SqliteSpool
from shoal.store import alert_rules, projects, users
from shoal.store.db import create_store_engine, write_transaction
from shoal.store.migrate import migrate
from shoal.store.schema import alert_rule

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "corpus"
LIMITS = DigestLimits(max_envelope_bytes=100 * 1024 * 1024, max_event_bytes=1024 * 1024)
EMAIL = {"id": model.NOTIFY_EMAIL, "targetType": "IssueOwners", "fallthroughType": "AllMembers"}


def frequency(interval: str, value: int, users_: bool = False) -> dict[str, Any]:
    kind = model.USER_FREQUENCY if users_ else model.EVENT_FREQUENCY
    return {"id": kind, "interval": interval, "value": value, "comparisonType": "count"}


def tag(key: str, match: str, value: str = "") -> dict[str, Any]:
    return {"id": model.TAGGED_EVENT, "key": key, "match": match, "value": value}


NEW = {"id": model.FIRST_SEEN}
TWENTY_RULES: list[dict[str, Any]] = [
    TEMPLATES["new_issue"],
    TEMPLATES["critical"],
    TEMPLATES["high_volume"],
    {"name": "regression", "conditions": [{"id": model.REGRESSION}]},
    {"name": "escalation", "conditions": [{"id": model.REAPPEARED}]},
    {"name": "burst 1m", "conditions": [frequency("1m", 10)]},
    {"name": "burst 15m", "conditions": [frequency("15m", 200)]},
    {"name": "a day", "conditions": [frequency("1d", 1000)]},
    {"name": "a week", "conditions": [frequency("1w", 10000)]},
    {"name": "users 1h", "conditions": [frequency("1h", 50, users_=True)]},
    {"name": "payments", "conditions": [NEW], "filters": [tag("domain", "eq", "payments")]},
    {"name": "production", "conditions": [NEW], "environment": "production"},
    {"name": "prod burst", "conditions": [frequency("5m", 50)], "environment": "production"},
    {
        "name": "declined",
        "conditions": [frequency("5m", 50)],
        "filters": [
            {"id": model.EVENT_ATTRIBUTE, "attribute": "exception.type", "match": "eq", "value": "X"}
        ],
    },
    {
        "name": "young and busy",
        "conditions": [frequency("1h", 20)],
        "filters": [{"id": model.AGE_COMPARISON, "comparison_type": "newer", "value": 1, "time": "day"}],
    },
    {"name": "old hands", "conditions": [], "filters": [{"id": model.ISSUE_OCCURRENCES, "value": 100000}]},
    {"name": "latest release", "conditions": [NEW], "filters": [{"id": model.LATEST_RELEASE}]},
    {"name": "new or regressed", "actionMatch": "any", "conditions": [NEW, {"id": model.REGRESSION}]},
    {
        "name": "errors only",
        "conditions": [NEW],
        "filters": [{"id": model.LEVEL, "match": "gte", "level": "40"}],
    },
    {
        "name": "not staging",
        "conditions": [frequency("1h", 500)],
        "filters": [tag("environment", "ne", "staging")],
    },
]


def corpus_templates() -> list[tuple[bytes, list[tuple[int, int, str]]]]:
    raw = (CORPUS / "envelopes.raw").read_bytes()
    templates = []
    for line in (CORPUS / "index.jsonl").read_text().splitlines():
        entry = json.loads(line)
        body = raw[entry["raw_off"] : entry["raw_off"] + entry["raw_len"]]
        templates.append((body, sorted((off, length, kind) for off, length, kind in entry["rewrite"])))
    return templates


def fresh_bodies(count: int) -> Iterator[tuple[str, bytes]]:
    """Corpus envelopes with the fields a replayer rewrites set to a new event id and now."""
    templates = corpus_templates()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()).encode()
    for n in range(count):
        body, rewrite = templates[n % len(templates)]
        event_id = uuid.uuid4().hex
        parts, position = [], 0
        for offset, length, kind in rewrite:
            parts += [body[position:offset], event_id.encode() if kind == "event_id" else stamp]
            position = offset + length
        parts.append(body[position:])
        yield event_id, b"".join(parts)


def one_round(events: int, rules: list[dict[str, Any]]) -> float:
    """Events per second of one digest worker over `events` spooled envelopes."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_store_engine(f"sqlite:///{scratch}/shoal.db")
        migrate(engine)
        project_id = make_project(engine, rules)
        spool = SqliteSpool(Path(scratch) / "spool.db", durable_writes=False)
        spool.append(
            [
                SpoolEntry(project_id, "envelope", time.time(), event_id, None, "", body)
                for event_id, body in fresh_bodies(events)
            ]
        )
        worker = DigestWorker(spool, engine, LIMITS, lease_seconds=600)
        started = time.perf_counter()
        while worker.run_once():
            pass
        elapsed = time.perf_counter() - started
        spool.close()
        engine.dispose()
    return events / elapsed


def make_project(engine: Any, rules: list[dict[str, Any]]) -> int:
    with write_transaction(engine) as conn:
        organization_id = projects.create_organization(conn, "bench", "Bench")
        member = users.create_user(conn, "dev@example.com", "a long enough password")
        users.add_membership(conn, organization_id, member.id, "member")
        project_id = projects.create_project(conn, organization_id, "shop", "python", DEFAULT_CONFIG_ID).id
        conn.execute(alert_rule.delete())  # the default "new issue" rule, unless `rules` has it
        for rule in rules:
            alert_rules.insert_rule(
                conn, project_id, rule_from_json({"actions": [EMAIL], **rule}), time.time()
            )
    return project_id


def main(events: int, rounds: int) -> None:
    collect_garbage_less_often()  # as `shoal worker` does
    print(f"{events} corpus events per round, {rounds} rounds per rule set, one digest worker, SQLite")
    rates: dict[str, list[float]] = {"no rules": [], "20 rules": []}
    for _ in range(rounds):
        for label, rules in (("no rules", []), ("20 rules", TWENTY_RULES)):
            rate = one_round(events, rules)
            rates[label].append(rate)
            print(f"  {label:<14}{rate:8.0f} events/s")
    base, loaded = (statistics.median(rates[label]) for label in rates)
    print(f"median: {base:.0f} vs {loaded:.0f} events/s; 20 rules cost {(base / loaded - 1) * 100:.1f} %")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
