"""The digest makes the releases its events name and counts their events per environment, on
SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from shoal.store.schema import release, release_environment, release_project
from tests.support.alerting import START, DigestHarness, error_event


def test_an_events_release_is_made_linked_to_its_project_and_counted_per_environment(
    engine: Engine, tmp_path: Path
) -> None:
    harness = DigestHarness(engine, tmp_path)
    harness.send(
        error_event(release="shop@1.0.0", environment="production"), error_event(release="shop@1.0.0")
    )
    harness.clock.advance(60)
    harness.send(error_event(release="shop@1.0.0", environment="production"), error_event())
    with engine.connect() as conn:
        versions = conn.execute(select(release.c.version)).scalars().all()
        linked = conn.execute(select(release_project.c.project_id)).scalars().all()
        counts = {
            row.environment: (row.events, row.first_seen, row.last_seen)
            for row in conn.execute(select(release_environment))
        }
    assert versions == ["shop@1.0.0"]
    assert linked == [harness.project_id]
    assert counts == {"production": (2, START, START + 60), "": (1, START, START)}
