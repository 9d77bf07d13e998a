"""The issue page's suspect commits (shoal.suspects): the release that introduced the issue with its
commit count, the best commits that changed a file of the first event's stack trace, and, when a
suspect's author is a member who may see the project, that member as the suggested assignee.

It reads with its own connection, so the issue page's context only has to call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from shoal import suspects
from shoal.store import release_stats, suspect_commits
from shoal.store.events import PayloadCodec
from shoal.store.issues import IssueRow
from shoal.store.release_stats import ReleaseRow
from shoal.store.users import Member
from shoal.suspects import Suspect


@dataclass(frozen=True)
class SuspectSection:
    release: ReleaseRow  # the release that introduced the issue
    commit_count: int
    suspects: list[Suspect]
    suggested: Member | None  # the best suspect author who is a member, unless already assigned


def issue_suspects(
    engine: Engine, codec: PayloadCodec, issue: IssueRow, members: list[Member]
) -> dict[str, Any]:
    """`suspect_section` for the issue page: None when the issue's first release has no commits."""
    return {"suspect_section": _section(engine, codec, issue, members)}


def _section(
    engine: Engine, codec: PayloadCodec, issue: IssueRow, members: list[Member]
) -> SuspectSection | None:
    if issue.first_release is None:
        return None
    with engine.connect() as conn:
        introduced = release_stats.find_release(conn, issue.project_id, issue.first_release)
        count = release_stats.count_release_commits(conn, introduced.id) if introduced else 0
        if introduced is None or count == 0:
            return None
        data = suspect_commits.first_event_data(conn, codec, issue.id)
        found = suspects.suspects_of_event(conn, issue.id, data)
    return SuspectSection(introduced, count, found, suggested_assignee(found, members, issue.assignee_id))


def suggested_assignee(found: list[Suspect], members: list[Member], assignee_id: int | None) -> Member | None:
    """The member whose email is the best suspect author's that has one (emails compare without
    case: Shoal stores them lower-cased, git keeps whatever the author typed)."""
    by_email = {member.email.lower(): member for member in members}
    for suspect in found:
        member = by_email.get((suspect.file.commit.author_email or "").strip().lower())
        if member is not None:
            return None if member.id == assignee_id else member
    return None
