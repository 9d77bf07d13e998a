"""The body of `PUT` on an issue (or on a list of them): read it into `Changes`, then apply them to
an issue through shoal.store.triage, which writes the activity entry of each change.

Sentry's fields (protocol.md §8): `status` (`resolved`, `resolvedInNextRelease`, `unresolved`,
`ignored`, and `muted`, the word sentry-cli still sends for ignored), `statusDetails` (`inRelease`,
`inNextRelease`, `inCommit`, `ignoreDuration` in minutes, `ignoreCount`, `ignoreWindow`,
`ignoreUserCount`, `ignoreUserWindow`), the older top-level `snoozeDuration` (minutes, as
sentry-cli sends it, null when not snoozing), `assignedTo` (an email, a user id, `user:ID`, or
null for nobody), and the flags `hasSeen`, `isBookmarked`, `isSubscribed`, `isPublic`, which Shoal
accepts and echoes but does not keep. Only the fields sent change; others are ignored, as Django
REST framework ignores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from shoal.api.errors import bad_request, invalid
from shoal.clock import iso_utc
from shoal.store import issues, triage, users
from shoal.store.issues import IssueRow
from shoal.store.projects import ProjectInfo
from shoal.store.triage import Snooze

STATUSES = {
    "resolved": "resolved",
    "resolvedInNextRelease": "resolved",
    "unresolved": "unresolved",
    "ignored": "ignored",
    "muted": "ignored",
}
FLAGS = ("hasSeen", "isBookmarked", "isSubscribed", "isPublic")
MAX_COUNT = 1_000_000_000
MAX_WINDOW = 30 * 1440  # minutes: the longest window the event counters keep (30 days)
MAX_DURATION = 10 * 366 * 1440  # minutes: ten years
MAX_RELEASE = 200  # issue_resolution.release is a String(200)
_COUNTS = {
    "ignoreDuration": MAX_DURATION,
    "ignoreCount": MAX_COUNT,
    "ignoreWindow": MAX_WINDOW,
    "ignoreUserCount": MAX_COUNT,
    "ignoreUserWindow": MAX_WINDOW,
}


@dataclass(frozen=True)
class StatusChange:
    status: str  # resolved | unresolved | ignored
    resolve_kind: str = "now"  # now | in_release | in_next_release
    release: str | None = None  # for in_release; "latest" means the project's latest release
    duration: int | None = None  # ignore for so many minutes
    snooze: Snooze = field(default_factory=Snooze)
    detailed: bool = False  # anything beyond the bare status was asked for


@dataclass(frozen=True)
class Changes:
    status: StatusChange | None = None
    assign: bool = False
    assignee: str | None = None  # as sent; None: nobody
    flags: dict[str, bool] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.status is None and not self.assign and not self.flags


def read_changes(body: dict[str, Any]) -> Changes:
    """The changes the body asks for; a 400 naming each field that cannot be used."""
    errors: dict[str, str] = {}
    for name in ("merge", "discard"):
        if name in body:
            raise bad_request(f"Shoal does not {name} issues through the API; use the issue page.")
    status = _status(body, errors)
    assign, assignee = _assignment(body, errors)
    flags = {name: body[name] for name in FLAGS if name in body}
    for name, value in flags.items():
        if not isinstance(value, bool):
            errors[name] = "Must be a valid boolean."
    if errors:
        raise invalid(errors)
    return Changes(status, assign, assignee, flags)


def _status(body: dict[str, Any], errors: dict[str, str]) -> StatusChange | None:
    raw = body.get("status")
    if raw is None:
        return None
    if not isinstance(raw, str) or raw not in STATUSES:
        errors["status"] = f'"{raw}" is not a valid choice.'
        return None
    details = body.get("statusDetails")
    if details is None:
        details = {}
    if not isinstance(details, dict):
        errors["statusDetails"] = "Must be an object."
        return None
    numbers = _numbers(details, errors)
    snooze_duration = _whole(body.get("snoozeDuration"), MAX_DURATION, "snoozeDuration", errors)
    target = STATUSES[raw]
    if target == "resolved":
        return _resolution(raw, details, errors)
    if target == "ignored":
        return _ignoring(numbers, snooze_duration)
    return StatusChange("unresolved")


def _numbers(details: dict[str, Any], errors: dict[str, str]) -> dict[str, int]:
    found = {}
    for name, maximum in _COUNTS.items():
        value = _whole(details.get(name), maximum, f"statusDetails.{name}", errors)
        if value is not None:
            found[name] = value
    return found


def _whole(value: Any, maximum: int, name: str, errors: dict[str, str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        errors[name] = f"Must be a whole number from 1 to {maximum:,}."
        return None
    return value


def _resolution(raw: str, details: dict[str, Any], errors: dict[str, str]) -> StatusChange:
    release = details.get("inRelease")
    next_release = details.get("inNextRelease")
    if next_release is not None and not isinstance(next_release, bool):
        errors["statusDetails.inNextRelease"] = "Must be a valid boolean."
    if release is not None and (not isinstance(release, str) or not 1 <= len(release) <= MAX_RELEASE):
        errors["statusDetails.inRelease"] = f"Must be a release version of 1 to {MAX_RELEASE} characters."
        release = None
    if isinstance(release, str) and "\x00" in release:
        errors["statusDetails.inRelease"] = "Null characters are not allowed."
        release = None
    if isinstance(release, str):
        return StatusChange("resolved", "in_release", release, detailed=True)
    if raw == "resolvedInNextRelease" or next_release is True:
        return StatusChange("resolved", "in_next_release", detailed=True)
    # inCommit needs a repository integration to know when the commit ships: resolve now.
    return StatusChange("resolved")


def _ignoring(numbers: dict[str, int], snooze_duration: int | None) -> StatusChange:
    duration = numbers.get("ignoreDuration", snooze_duration)
    count, user_count = numbers.get("ignoreCount"), numbers.get("ignoreUserCount")
    snooze = Snooze(
        count=count,
        window=numbers.get("ignoreWindow") if count is not None else None,
        user_count=user_count,
        user_window=numbers.get("ignoreUserWindow") if user_count is not None else None,
    )
    detailed = duration is not None or not snooze.forever
    return StatusChange("ignored", duration=duration, snooze=snooze, detailed=detailed)


def _assignment(body: dict[str, Any], errors: dict[str, str]) -> tuple[bool, str | None]:
    if "assignedTo" not in body:
        return False, None
    value = body["assignedTo"]
    if value is None or value == "":
        return True, None
    if not isinstance(value, str) or len(value) > 300:
        errors["assignedTo"] = "Unknown actor input"
        return False, None
    if value.startswith("team:"):
        errors["assignedTo"] = "Shoal assigns issues to people, not teams."
    return True, value.strip()


# ------------------------------------------------------------------------------------- applying


class AssigneeProblem(Exception):
    """`assignedTo` names nobody who may be assigned the issue."""


def assignee_id(conn: Connection, project: ProjectInfo, actor: str | None) -> int | None:
    """The member the actor text names, who must be able to see the project; None for nobody."""
    if actor is None:
        return None
    text = actor.removeprefix("user:")
    members = users.project_members(conn, project.organization_id, project.id)
    for member in members:
        if (text.isdigit() and member.id == int(text)) or member.email == text.lower():
            return member.id
    raise AssigneeProblem("Cannot assign to non-team member")


def apply_changes(
    conn: Connection,
    issue: IssueRow,
    project: ProjectInfo,
    changes: Changes,
    *,
    user_id: int | None,
    now: float,
) -> None:
    """Make the changes to one issue. A status it already has, asked for with no details, writes
    nothing, so repeating `sentry-cli issues resolve` does not fill the activity log."""
    change = changes.status
    if change is not None and not (issue.status == change.status and not change.detailed):
        _set_status(conn, issue, change, user_id=user_id, now=now)
    if changes.assign:
        wanted = assignee_id(conn, project, changes.assignee)
        if wanted != issue.assignee_id:
            triage.assign(conn, issue.id, user_id, wanted, now)


def _set_status(
    conn: Connection, issue: IssueRow, change: StatusChange, *, user_id: int | None, now: float
) -> None:
    if change.status == "unresolved":
        triage.unresolve(conn, issue.id, user_id, now)
    elif change.status == "ignored":
        until = now + change.duration * 60 if change.duration is not None else None
        snooze = Snooze(
            until=until,
            count=change.snooze.count,
            window=change.snooze.window,
            user_count=change.snooze.user_count,
            user_window=change.snooze.user_window,
        )
        triage.ignore(conn, issue.id, user_id, snooze, now)
    else:
        release = change.release
        if change.resolve_kind == "in_release" and release == "latest":
            release = issues.latest_release(conn, issue.project_id)
        kind = change.resolve_kind if release is not None or change.resolve_kind != "in_release" else "now"
        triage.resolve(conn, issue.id, user_id, kind, release=release, now=now)


def result_json(changes: Changes, now: float, assigned: dict[str, Any] | None) -> dict[str, Any]:
    """What a bulk update answers: the attributes it set, as Sentry's answer lists them
    (`assigned`: the assignee as issue JSON shows one)."""
    body: dict[str, Any] = dict(changes.flags)
    change = changes.status
    if change is not None:
        body["status"] = change.status
        body["statusDetails"] = _details_json(change, now)
        body["substatus"] = _substatus(change)
    if changes.assign:
        body["assignedTo"] = assigned
    return body


def _details_json(change: StatusChange, now: float) -> dict[str, Any]:
    if change.status == "resolved":
        if change.resolve_kind == "in_release":
            return {"inRelease": change.release}
        return {"inNextRelease": True} if change.resolve_kind == "in_next_release" else {}
    if change.status == "unresolved" or not change.detailed:
        return {}
    until = now + change.duration * 60 if change.duration is not None else None
    return {
        "ignoreUntil": iso_utc(until),
        "ignoreCount": change.snooze.count,
        "ignoreWindow": change.snooze.window,
        "ignoreUserCount": change.snooze.user_count,
        "ignoreUserWindow": change.snooze.user_window,
        "actor": None,
    }


def _substatus(change: StatusChange) -> str | None:
    if change.status == "resolved":
        return None
    if change.status == "unresolved":
        return "ongoing"
    return "archived_until_condition_met" if change.detailed else "archived_forever"
