"""`shoal cleanup` on a data directory: it deletes events past the retention and says what it did
and freed, in output that stays plain text when it is not a terminal (no progress-bar redraws);
`--dry-run` changes nothing; `--project` and `--days` choose; `--vacuum` gives the space back and
turns on incremental vacuum for a database made before it existed.

The acceptance of issue 8: a project with 1-day retention and events 2 days old, sent by the real
sentry-sdk to `shoal run`: `shoal cleanup` deletes them, and the issue remains with its counts."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shoal.retention import DAY
from shoal.store import retention as retention_store
from shoal.store.db import create_store_engine, write_transaction
from shoal.store.migrate import migrate
from shoal.store.schema import event, issue, issue_tag
from tests.support.alerting import DigestHarness, error_event
from tests.support.server import RunningShoal

SDK_SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timedelta, timezone

    import sentry_sdk

    two_days_ago = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat()

    def before_send(event, hint):  # runs after the SDK wrote its timestamp as text
        event["timestamp"] = two_days_ago
        return event

    sentry_sdk.init(dsn=sys.argv[1], release="shop@1.0.0", before_send=before_send)
    for order in range(4):
        try:
            {}["discount"]
        except KeyError:
            sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=20)
    """
)


def shoal_command(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHOAL_DATA_DIR": str(data_dir), "SHOAL_LOG_LEVEL": "warning"}
    env.pop("SHOAL_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "shoal", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_plain(output: str) -> None:
    """What a log file or a pipe should get: lines, no carriage returns or terminal escapes."""
    assert "\r" not in output
    assert "\x1b" not in output


def event_count(data_dir: Path) -> int:
    engine = create_store_engine(f"sqlite:///{data_dir / 'shoal.db'}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(event)).scalar_one())
    finally:
        engine.dispose()


def make_old_events(data_dir: Path, count: int = 3) -> None:
    """A store in `data_dir` whose project "shop" keeps 1 day and has `count` events of one issue, 2
    days old by the real clock (`shoal cleanup` reads the real time)."""
    engine = create_store_engine(f"sqlite:///{data_dir / 'shoal.db'}")
    try:
        migrate(engine)
        harness = DigestHarness(engine, data_dir)
        harness.clock.advance(time.time() - 2 * DAY - harness.clock.now())
        harness.send(*[error_event() for _ in range(count)])
        harness.spool.close()
        with write_transaction(engine) as conn:
            retention_store.set_retention_days(conn, harness.project_id, 1)
    finally:
        engine.dispose()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    make_old_events(tmp_path)
    return tmp_path


def test_acceptance_shoal_cleanup_deletes_sdk_events_two_days_old_and_the_issue_keeps_its_counts(
    shoal: RunningShoal,
) -> None:
    sent = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, shoal.dsn], capture_output=True, text=True, timeout=60, check=False
    )
    assert sent.returncode == 0, sent.stderr
    shoal.wait_for_events(4)
    with write_transaction(shoal.engine) as conn:
        retention_store.set_retention_days(conn, shoal.project_id, 1)
    with shoal.engine.connect() as conn:
        issue_before = conn.execute(select(issue.c.id, issue.c.times_seen, issue.c.users_seen)).one()
        tags_before = conn.execute(select(issue_tag).order_by(issue_tag.c.key, issue_tag.c.value)).all()
        assert conn.execute(select(func.min(event.c.timestamp))).scalar_one() < time.time() - 1.9 * DAY
    shoal.stop()  # the store alone, so that only this command cleans up

    cleaned = shoal_command(shoal.data_dir, "cleanup")

    assert cleaned.returncode == 0, cleaned.stderr
    assert_plain(cleaned.stdout)
    assert "my-project: keeping 1 day," in cleaned.stdout
    assert "Deleted 3 events" in cleaned.stdout
    assert "Kept 1 older events as samples" in cleaned.stdout
    assert "write transactions of at most 1,000 deletes; the longest took " in cleaned.stdout
    assert event_count(shoal.data_dir) == 1  # the issue's first event
    with shoal.engine.connect() as conn:
        assert conn.execute(select(issue.c.id, issue.c.times_seen, issue.c.users_seen)).one() == issue_before
        assert issue_before.times_seen == 4
        assert (
            conn.execute(select(issue_tag).order_by(issue_tag.c.key, issue_tag.c.value)).all() == tags_before
        )


def test_cleanup_prints_each_project_its_progress_and_what_it_freed(data_dir: Path) -> None:
    cleaned = shoal_command(data_dir, "cleanup")
    assert cleaned.returncode == 0, cleaned.stderr
    assert_plain(cleaned.stdout)
    lines = cleaned.stdout.splitlines()
    assert lines[0].startswith("shop: keeping 1 day, events before ")
    assert lines[0].endswith(": 2 to delete")
    assert lines[1] == "Deleting events"  # the progress bar's label, once, when not on a terminal
    assert lines[2].startswith("Deleted 2 events (") and "bytes of compressed payloads" in lines[2]
    assert any(line.startswith("The database is ") for line in lines)
    assert event_count(data_dir) == 1


def test_a_dry_run_says_what_would_go_and_deletes_nothing(data_dir: Path) -> None:
    dry = shoal_command(data_dir, "cleanup", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert_plain(dry.stdout)
    assert "Would delete 2 events" in dry.stdout
    assert "write transactions" not in dry.stdout
    assert event_count(data_dir) == 3


def test_project_and_days_choose_what_is_cleaned(data_dir: Path) -> None:
    unknown = shoal_command(data_dir, "cleanup", "--project", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "Error: No project has the slug 'nope'."
    kept = shoal_command(data_dir, "cleanup", "--project", "shop", "--days", "3")
    assert kept.returncode == 0, kept.stderr
    assert "shop: keeping 3 days" in kept.stdout
    assert "Deleted 0 events" in kept.stdout
    assert event_count(data_dir) == 3
    refused = shoal_command(data_dir, "cleanup", "--days", "0")
    assert refused.returncode == 2


def test_an_old_database_is_told_to_vacuum_and_vacuum_turns_incremental_vacuum_on(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "shoal.db") as made_before:  # a table first: auto_vacuum stays off
        made_before.execute("CREATE TABLE made_before (x)")
    # Enough events that deleting them frees whole pages: two small rows may leave none free.
    make_old_events(tmp_path, count=300)
    assert auto_vacuum(tmp_path) == 0

    cleaned = shoal_command(tmp_path, "cleanup")
    assert "Run `shoal cleanup --vacuum` once" in cleaned.stdout
    vacuumed = shoal_command(tmp_path, "cleanup", "--vacuum")

    assert vacuumed.returncode == 0, vacuumed.stderr
    assert_plain(vacuumed.stdout)
    assert "Vacuumed in " in vacuumed.stdout
    assert auto_vacuum(tmp_path) == 2  # incremental
    assert "--vacuum" not in shoal_command(tmp_path, "cleanup").stdout


def test_a_new_database_shrinks_by_incremental_vacuum(tmp_path: Path) -> None:
    make_old_events(tmp_path, count=300)
    assert auto_vacuum(tmp_path) == 2
    cleaned = shoal_command(tmp_path, "cleanup")
    assert cleaned.returncode == 0, cleaned.stderr
    assert "back to the file system (incremental vacuum)" in cleaned.stdout
    with sqlite3.connect(tmp_path / "shoal.db") as conn:
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0


def auto_vacuum(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "shoal.db") as conn:
        return int(conn.execute("PRAGMA auto_vacuum").fetchone()[0])
