"""Moving events between issues, on SQLite and PostgreSQL: merge, unmerge, regroup after a rule
change, and the dry run that shows a rule's effect before it is saved. Events go through the real
digest pipeline, so what is counted after a move is exactly what the digest would have counted."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, func, select

from shoal.digest.issue_moves import merge_issues, unmerge_hashes
from shoal.digest.pipeline import Digested, DigestLimits, Pipeline, ProjectSettings
from shoal.digest.regroup import dry_run, plan_regroup, regroup_project
from shoal.digest.store import store_batch
from shoal.spool.base import SpoolEntry
from shoal.store import events, issues, projects
from shoal.store.db import write_transaction
from shoal.store.events import PayloadCodec
from shoal.store.projects import ProjectGrouping
from shoal.store.schema import issue, issue_hash, issue_tag
from tests.support.events import python_error

CONFIG = "newstyle:2026-01-20"
RESET_RULE = "type:ConnectionResetError -> network-reset"


def make_project(engine: Engine) -> int:
    with write_transaction(engine) as conn:
        org = projects.create_organization(conn, f"org-{uuid.uuid4().hex[:6]}", "Org")
        return projects.create_project(conn, org, "shop", "python", CONFIG).id


def error_event(type_: str, function: str, user: str = "1") -> dict[str, Any]:
    return {**python_error(type_, function, value="boom"), "level": "error", "user": {"id": user}}


def digest(engine: Engine, project_id: int, raw_events: list[dict[str, Any]], rules: str = "") -> None:
    """Run the events through the digest pipeline and store them, as a worker would."""
    pipeline = Pipeline(DigestLimits(10_000_000, 10_000_000), PayloadCodec())
    into = Digested()
    settings = ProjectGrouping(CONFIG, fingerprint_rules=rules)
    for raw in raw_events:
        entry = SpoolEntry(project_id, "store", time.time(), raw["event_id"], None, "", orjson.dumps(raw))
        pipeline.digest_entry(entry, ProjectSettings(settings), into)
    with write_transaction(engine) as conn:
        store_batch(conn, into.events, Counter(), time.time())


def three_issues_two_of_them_resets(engine: Engine) -> int:
    """A project with ConnectionResetErrors from two functions (two issues) and a KeyError."""
    project_id = make_project(engine)
    resets = [error_event("ConnectionResetError", "read"), error_event("ConnectionResetError", "write")]
    digest(engine, project_id, resets)
    digest(engine, project_id, [error_event("KeyError", "lookup")])
    return project_id


def issue_counts(engine: Engine, project_id: int) -> dict[str, int]:
    """Issue title → events, as the issue list shows them."""
    with engine.connect() as conn:
        return {row.title: row.times_seen for row in issues.list_issues(conn, project_id, 100, 0)}


def issue_of(conn: Connection, title: str) -> int:
    return int(conn.execute(select(issue.c.id).where(issue.c.title == title)).scalar_one())


def test_merging_moves_events_hashes_and_counts_and_future_events_follow(engine: Engine) -> None:
    project_id = make_project(engine)
    digest(
        engine, project_id, [error_event("KeyError", "a", user="1"), error_event("KeyError", "a", user="2")]
    )
    digest(engine, project_id, [error_event("ValueError", "b", user="2")])
    with write_transaction(engine) as conn:
        target, source = issue_of(conn, "KeyError: boom"), issue_of(conn, "ValueError: boom")
        merge_issues(conn, PayloadCodec(), target, [source])
    # Counted as if every event had arrived there: the headline is the newest event's.
    assert issue_counts(engine, project_id) == {"ValueError: boom": 3}
    with engine.connect() as conn:
        assert issues.get_issue(conn, source) is None
        merged = issues.get_issue(conn, target)
        assert merged is not None and (merged.times_seen, merged.users_seen) == (3, 2)
        level_count = select(issue_tag.c.times_seen).where(
            issue_tag.c.issue_id == target, issue_tag.c.key == "level"
        )
        assert conn.execute(level_count).scalar_one() == 3
        assert set(conn.execute(select(issue_hash.c.issue_id)).scalars()) == {target}
    digest(engine, project_id, [error_event("KeyError", "a")])
    assert issue_counts(engine, project_id) == {"KeyError: boom": 4}


def test_unmerging_a_hash_moves_its_events_to_a_new_issue(engine: Engine) -> None:
    project_id = make_project(engine)
    digest(engine, project_id, [error_event("KeyError", "a"), error_event("ValueError", "b")])
    codec = PayloadCodec()
    with write_transaction(engine) as conn:
        target, source = issue_of(conn, "KeyError: boom"), issue_of(conn, "ValueError: boom")
        source_hashes = issues.hashes_of_issue(conn, source)
        merge_issues(conn, codec, target, [source])
        split = unmerge_hashes(conn, codec, target, source_hashes)
    assert issue_counts(engine, project_id) == {"KeyError: boom": 1, "ValueError: boom": 1}
    digest(engine, project_id, [error_event("ValueError", "b")])
    with engine.connect() as conn:
        unmerged = issues.get_issue(conn, split)
        assert unmerged is not None and unmerged.times_seen == 2


def test_a_dry_run_shows_a_fingerprint_rule_merging_two_issues_and_writes_nothing(engine: Engine) -> None:
    project_id = three_issues_two_of_them_resets(engine)
    candidate = ProjectGrouping(CONFIG, fingerprint_rules=RESET_RULE)
    with engine.connect() as conn:
        plan = plan_regroup(conn, PayloadCodec(), project_id, candidate)
        report = dry_run(
            plan, issues.count_issues(conn, project_id), events.events_per_issue(conn, project_id)
        )
    assert (report.events_considered, report.events_moving) == (3, 1)
    assert (report.issues_before, report.issues_after, report.new_issues) == (3, 2, 0)
    assert len(report.merges) == 1 and not report.splits
    with engine.connect() as conn:
        assert issues.count_issues(conn, project_id) == 3


def test_regrouping_applies_a_new_rule_to_stored_events_and_keeps_unchanged_issues(engine: Engine) -> None:
    project_id = three_issues_two_of_them_resets(engine)
    with engine.connect() as conn:
        key_error_before = issue_of(conn, "KeyError: boom")
    settings = ProjectGrouping(CONFIG, fingerprint_rules=RESET_RULE)
    codec = PayloadCodec()
    with write_transaction(engine) as conn:
        projects.set_project_grouping(conn, project_id, settings)
        moved = regroup_project(conn, codec, project_id, settings)
    assert moved == 1
    assert sorted(issue_counts(engine, project_id).items()) == [
        ("ConnectionResetError: boom", 2),
        ("KeyError: boom", 1),
    ]
    with engine.connect() as conn:
        assert issue_of(conn, "KeyError: boom") == key_error_before
        assert conn.execute(select(func.count()).select_from(issue_hash)).scalar_one() >= 2


def test_regrouping_twice_with_the_same_settings_moves_nothing(engine: Engine) -> None:
    project_id = make_project(engine)
    digest(
        engine, project_id, [error_event("KeyError", "a"), error_event("ValueError", "b")], rules=RESET_RULE
    )
    settings = ProjectGrouping(CONFIG, fingerprint_rules=RESET_RULE)
    codec = PayloadCodec()
    with write_transaction(engine) as conn:
        assert regroup_project(conn, codec, project_id, settings) == 0
    assert issue_counts(engine, project_id) == {"KeyError: boom": 1, "ValueError: boom": 1}
