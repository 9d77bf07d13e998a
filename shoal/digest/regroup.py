"""Grouping stored events again: after a config or rule change (`shoal grouping regroup`), and as a
dry run before a rule is saved ("which events would move where").

Both walk the events oldest first and group each with the project's settings exactly as the digest
would (`group_event`), deciding its issue by the same first-known-hash rule, against hash links
built afresh. An event keeps its current issue when that issue is not yet home to another new
group, so issue numbers, statuses and links survive wherever grouping did not change.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection

from shoal.digest.issue_moves import rebuild_issues, replayed
from shoal.digest.project_grouping import group_event
from shoal.digest.store import new_issue_for
from shoal.digest.trimming import serialize
from shoal.store import discards, events, issues, projects
from shoal.store.events import EventRecord, PayloadCodec
from shoal.store.projects import ProjectGrouping

# An event's new home: an existing issue's id, or ("new", n) for the n-th issue to be created.
Home = int | tuple[str, int]


@dataclass
class Placement:
    record: EventRecord
    hashes: list[str]
    home: Home
    payload: bytes


@dataclass
class RegroupPlan:
    project_id: int
    placements: list[Placement] = field(default_factory=list)

    @property
    def moved(self) -> list[Placement]:
        return [p for p in self.placements if p.home != p.record.issue_id]


@dataclass(frozen=True)
class DryRunReport:
    """What saving the settings and regrouping would do to the events considered."""

    events_considered: int
    events_moving: int
    issues_before: int
    issues_after: int
    new_issues: int
    # Old issue → the issues its events would spread over (only where that is more than one).
    splits: dict[int, list[Home]]
    # New home → the old issues whose events would come together there (only more than one).
    merges: dict[Home, list[int]]
    # Old issue → where its events would go, with counts, for every issue that changes.
    moves: dict[int, Counter[Home]]


def plan_regroup(
    conn: Connection,
    codec: PayloadCodec,
    project_id: int,
    settings: ProjectGrouping,
    *,
    since: float = 0,
    progress: Callable[[int], None] = lambda _: None,
) -> RegroupPlan:
    """Where each event received since `since` would go under `settings`; nothing is written."""
    plan = RegroupPlan(project_id)
    known: dict[str, Home] = {}
    taken: set[int] = set()
    new_count = 0
    for record in events.event_records(conn, project_id=project_id, since=since):
        data = codec.decode(record.payload)
        grouping = group_event(data, settings)
        home = next((known[h] for h in grouping.hashes if h in known), None)
        if home is None:
            if record.issue_id not in taken:
                home = record.issue_id
                taken.add(record.issue_id)
            else:
                new_count += 1
                home = ("new", new_count)
        for h in grouping.hashes:
            known.setdefault(h, home)
        plan.placements.append(Placement(record, grouping.hashes, home, codec.encode(serialize(data))))
        progress(1)
    return plan


def regroup_project(
    conn: Connection,
    codec: PayloadCodec,
    project_id: int,
    settings: ProjectGrouping,
    progress: Callable[[int], None] = lambda _: None,
) -> int:
    """Group all of a project's stored events again and move them; return how many changed issue.
    The project stays locked from planning to the end, so no digest batch lands in between: one
    would find hash links about to be rebuilt, or an issue about to be emptied."""
    projects.lock_project(conn, project_id)
    plan = plan_regroup(conn, codec, project_id, settings, progress=progress)
    _apply(conn, codec, plan, settings.config_id)
    return len(plan.moved)


def _apply(conn: Connection, codec: PayloadCodec, plan: RegroupPlan, config_id: str) -> None:
    """Write a plan made over all of a project's events: links, events, rebuilt issues."""
    issues.forget_project_hashes(conn, plan.project_id)
    created: dict[Home, int] = {}
    # A tombstone stays as it was (forget_project_hashes keeps it), even where a regrouped event
    # now has its hash: linking that hash anew would undo a discard the user asked for.
    links: dict[str, int] = dict.fromkeys(discards.tombstoned_hashes(conn, plan.project_id), 0)
    touched: set[int] = set()
    for placement in plan.placements:
        issue_id = _issue_for(conn, codec, placement, created)
        touched.update({issue_id, placement.record.issue_id})
        for h in placement.hashes:
            links.setdefault(h, issue_id)
        events.regrouped(
            conn,
            placement.record,
            issue_id=issue_id,
            grouping_config=config_id,
            hashes=placement.hashes,
            payload=placement.payload,
        )
    issues.attach_hashes(conn, [(plan.project_id, h, issue_id) for h, issue_id in links.items() if issue_id])
    rebuild_issues(conn, codec, touched)


def _issue_for(conn: Connection, codec: PayloadCodec, placement: Placement, created: dict[Home, int]) -> int:
    if isinstance(placement.home, int):
        return placement.home
    if placement.home not in created:
        created[placement.home] = issues.create_issue(conn, new_issue_for(replayed(placement.record, codec)))
    return created[placement.home]


def dry_run(plan: RegroupPlan, issues_before: int, events_per_issue: dict[int, int]) -> DryRunReport:
    """Summarize a plan made over some of the project's events (`events_per_issue` counts all of
    each issue's stored events, so an issue only partly considered is not counted as emptied)."""
    moves: dict[int, Counter[Home]] = defaultdict(Counter)
    sources: dict[Home, set[int]] = defaultdict(set)
    for placement in plan.placements:
        moves[placement.record.issue_id][placement.home] += 1
        sources[placement.home].add(placement.record.issue_id)
    emptied = [
        issue_id
        for issue_id, homes in moves.items()
        if homes[issue_id] == 0 and sum(homes.values()) == events_per_issue.get(issue_id, 0)
    ]
    new_homes = {home for home in sources if not isinstance(home, int)}
    return DryRunReport(
        events_considered=len(plan.placements),
        events_moving=len(plan.moved),
        issues_before=issues_before,
        issues_after=issues_before - len(emptied) + len(new_homes),
        new_issues=len(new_homes),
        splits={issue_id: sorted(homes, key=str) for issue_id, homes in moves.items() if len(homes) > 1},
        merges={home: sorted(ids) for home, ids in sources.items() if len(ids) > 1},
        moves={issue_id: homes for issue_id, homes in moves.items() if set(homes) != {issue_id}},
    )
