"""Moving events between issues: merge, unmerge, and rebuilding an issue's counters afterwards.

Merging moves the source issues' hashes and events to the target, so future events with those
hashes follow (as Sentry's merge moves its GroupHash rows). Unmerging moves chosen hashes, and the
events that only they explain, to a new issue. Either way the issues' counters, tag counts and
per-minute/hour counts are rebuilt by counting their events again with the digest's own code, so a
moved event is counted exactly as if it had arrived there; issues left without events are deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection

from shoal.digest.pipeline import DigestedEvent
from shoal.digest.store import count_into_issues, new_issue_for
from shoal.digest.summary import summarize
from shoal.digest.tags import event_tags
from shoal.store import events, issues, projects
from shoal.store.events import EventRecord, PayloadCodec


class CannotMove(ValueError):
    """The request names issues or hashes that cannot be moved as asked."""


def merge_issues(conn: Connection, codec: PayloadCodec, target_id: int, source_ids: Iterable[int]) -> None:
    """Move every hash and event of `source_ids` into `target_id`; the sources disappear."""
    target = issues.get_issue(conn, target_id)
    sources = [issues.get_issue(conn, issue_id) for issue_id in set(source_ids) - {target_id}]
    if target is None or any(s is None or s.project_id != target.project_id for s in sources):
        raise CannotMove("merging needs issues of one project")
    projects.lock_project(conn, target.project_id)
    for source in sources:
        assert source is not None
        issues.move_hashes(conn, target.project_id, issues.hashes_of_issue(conn, source.id), target_id)
        records = events.event_records(conn, issue_ids=[source.id])
        events.move_events(conn, [record.id for record in records], target_id)
    rebuild_issues(conn, codec, [target_id, *(s.id for s in sources if s is not None)])


def unmerge_hashes(conn: Connection, codec: PayloadCodec, issue_id: int, hashes: Sequence[str]) -> int:
    """Move `hashes` to a new issue with the events only they explain; return the new issue's id."""
    current = issues.get_issue(conn, issue_id)
    if current is None:
        raise CannotMove(f"no issue {issue_id}")
    projects.lock_project(conn, current.project_id)
    own = set(issues.hashes_of_issue(conn, issue_id))
    leaving = set(hashes)
    if not leaving or not leaving <= own or leaving == own:
        raise CannotMove("unmerge some, not all, of the issue's own hashes")
    staying = own - leaving
    moving = [
        record
        for record in events.event_records(conn, issue_ids=[issue_id])
        if leaving & set(record.hashes) and not staying & set(record.hashes)
    ]
    if not moving:
        raise CannotMove("no event of this issue is explained by those hashes alone")
    new_id = issues.create_issue(conn, new_issue_for(replayed(moving[-1], codec)))
    issues.move_hashes(conn, current.project_id, leaving, new_id)
    events.move_events(conn, [record.id for record in moving], new_id)
    rebuild_issues(conn, codec, [issue_id, new_id])
    return new_id


def rebuild_issues(conn: Connection, codec: PayloadCodec, issue_ids: Iterable[int]) -> None:
    """Count the issues' events again from scratch; delete the issues that have none left."""
    ids = sorted(set(issue_ids))
    issues.reset_issue_counts(conn, ids)
    records = events.event_records(conn, issue_ids=ids)
    count_into_issues(conn, [replayed(record, codec) for record in records], [r.issue_id for r in records])
    for issue_id in ids:
        members = [record for record in records if record.issue_id == issue_id]
        if not members:
            issues.delete_issues(conn, [issue_id])
            continue
        first_release = next((record.release for record in members if record.release), None)
        issues.set_first_release(conn, issue_id, first_release)


def replayed(record: EventRecord, codec: PayloadCodec) -> DigestedEvent:
    """A stored event as the digest had it, to be counted again."""
    data = codec.decode(record.payload)
    return DigestedEvent(
        project_id=record.project_id,
        event_id=record.event_id,
        timestamp=record.timestamp,
        received=record.received,
        level=record.level,
        platform=str(data.get("platform") or "other"),
        release=record.release,
        environment=record.environment,
        user_key=record.user_key,
        grouping_config=record.grouping_config,
        hashes=record.hashes,
        summary=summarize(data),
        tags=event_tags(data),
        payload=record.payload,
    )
