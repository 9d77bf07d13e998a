"""An issue's triage state as the pages show it: the status badge with its condition in words, the
activity log as sentences, the organization's members one can assign to, and the notifications
sent about the issue with every delivery attempt.

Activity data and notification targets hold strings that came from events (release names) and
from people (comments): they stay plain text here for the template to escape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from shoal.store import channels, outbox, triage
from shoal.store.issues import IssueRow
from shoal.store.triage import ActivityEntry, Resolution, Snooze
from shoal.web.templating import format_utc

# Sentry's "new" substatus means first seen in the last 7 days (reference §9.1); the store keeps
# the substatus an issue was created with, so the page ages it into "ongoing" itself.
NEW_FOR_SECONDS = 7 * 86400


@dataclass(frozen=True)
class Badge:
    label: str  # "Unresolved · regressed", "Resolved", "Ignored"
    css: str  # new | ongoing | regressed | escalating | resolved | ignored
    detail: str  # "until it is seen 10 more times", "in release 1.2.0", ""


@dataclass(frozen=True)
class ActivityItem:
    type: str
    who: str
    text: str
    note: str | None  # a comment's text
    created_at: float


@dataclass(frozen=True)
class Attempt:
    at: float
    ok: bool
    error: str | None


@dataclass(frozen=True)
class NotificationItem:
    id: int
    created_at: float
    rule_id: int | None
    rule_name: str
    target: str
    status: str
    attempts: list[Attempt]
    last_error: str | None


# ------------------------------------------------------------------------------------- status


def badge(issue: IssueRow, snooze: Snooze | None, resolution: Resolution | None, now: float) -> Badge:
    if issue.status == "resolved":
        return Badge("Resolved", "resolved", resolution_words(resolution))
    if issue.status == "ignored":
        return Badge("Ignored", "ignored", snooze_words(snooze or Snooze()))
    substatus = issue.substatus or "ongoing"
    if substatus == "new" and issue.first_seen < now - NEW_FOR_SECONDS:
        substatus = "ongoing"
    return Badge(f"Unresolved · {substatus}", substatus, "")


def resolution_words(resolution: Resolution | None) -> str:
    if resolution is None:
        return ""
    if resolution.kind == "in_release":
        return f"in release {resolution.release}"
    if resolution.release:
        return f"in the next release after {resolution.release}"
    return "in the next release"


def snooze_words(snooze: Snooze) -> str:
    """ "until it is seen 10 more times within 1 hour", "until 2025-06-01 12:00:00 UTC", "forever"."""
    if snooze.forever:
        return "forever"
    parts = []
    if snooze.until is not None:
        parts.append(f"until {format_utc(snooze.until)}")
    if snooze.count is not None:
        parts.append(f"until it is seen {snooze.count} more time{_s(snooze.count)}{_within(snooze.window)}")
    if snooze.user_count is not None:
        parts.append(
            f"until {snooze.user_count} more user{_s(snooze.user_count)} "
            f"{'is' if snooze.user_count == 1 else 'are'} affected{_within(snooze.user_window)}"
        )
    return " or ".join(parts)


def minutes_words(minutes: int) -> str:
    for unit, size in (("day", 1440), ("hour", 60)):
        if minutes >= size and minutes % size == 0:
            return f"{minutes // size} {unit}{_s(minutes // size)}"
    return f"{minutes} minute{_s(minutes)}"


def _within(window: int | None) -> str:
    return f" within {minutes_words(window)}" if window else ""


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def badges(conn: Connection, rows: Iterable[IssueRow], now: float) -> dict[int, Badge]:
    """The badge of each issue of a list page, with two queries for the whole page."""
    found = list(rows)
    snoozes = triage.snoozes(conn, [i.id for i in found if i.status == "ignored"])
    resolutions = triage.resolutions(conn, [i.id for i in found if i.status == "resolved"])
    return {i.id: badge(i, snoozes.get(i.id), resolutions.get(i.id), now) for i in found}


# ------------------------------------------------------------------------------------ members


# ----------------------------------------------------------------------------------- activity


def activity_items(entries: Iterable[ActivityEntry]) -> list[ActivityItem]:
    return [
        ActivityItem(
            type=entry.type,
            who=entry.user_email or "Shoal",
            text=activity_text(entry.type, entry.data),
            note=str(entry.data.get("text", "")) if entry.type == "note" else None,
            created_at=entry.created_at,
        )
        for entry in entries
    ]


def activity_text(kind: str, data: dict[str, Any]) -> str:
    words = _ACTIVITY_WORDS.get(kind)
    if words is not None:
        return words(data)
    return _PLAIN_ACTIVITY.get(kind, kind.replace("_", " "))


def _version(data: dict[str, Any], before: str) -> str:
    version = data.get("version")
    return f"{before}{version}" if version else ""


_ACTIVITY_WORDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "set_resolved_in_release": lambda d: "resolved the issue" + _version(d, " in release "),
    "set_resolved_in_next_release": lambda d: (
        "resolved the issue in the next release" + _version(d, " after ")
    ),
    "set_ignored": lambda d: f"ignored the issue {snooze_words(_snooze_of(d))}",
    "assigned": lambda d: f"assigned the issue to {d.get('assignee', 'someone')}",
    "set_regression": lambda d: "marked the issue regressed" + _version(d, ": an event of release "),
    "set_escalating": lambda d: f"marked the issue escalating: {d.get('reason', 'its condition was met')}",
}

_PLAIN_ACTIVITY = {
    "first_seen": "saw the issue for the first time",
    "set_resolved": "resolved the issue",
    "set_unresolved": "unresolved the issue",
    "unassigned": "unassigned the issue",
    "note": "commented",
}


def _snooze_of(data: dict[str, Any]) -> Snooze:
    def number(name: str) -> Any:
        value = data.get(name)
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    return Snooze(
        until=number("until"),
        count=number("count"),
        window=number("window"),
        user_count=number("user_count"),
        user_window=number("user_window"),
    )


# ------------------------------------------------------------------------------ notifications


def notification_items(conn: Connection, issue_id: int, organization_id: int) -> list[NotificationItem]:
    named = {row.id: row for row in channels.organization_channels(conn, organization_id)}
    items = []
    for row in outbox.issue_notifications(conn, issue_id):
        items.append(
            NotificationItem(
                id=row.id,
                created_at=row.created_at,
                rule_id=row.rule_id,
                rule_name=str(row.message.get("rule_name") or ""),
                target=_target_words(row.channel_id, row.target, named),
                status=row.status,
                attempts=[Attempt(at, ok, error) for at, ok, error in outbox.attempts_of(conn, row.id)],
                last_error=row.last_error,
            )
        )
    return items


def _target_words(
    channel_id: int | None, target: dict[str, Any], named: dict[int, channels.ChannelRow]
) -> str:
    if channel_id is not None:
        found = named.get(channel_id)
        return f"{found.kind} channel “{found.name}”" if found else f"channel #{channel_id} (deleted)"
    config = target.get("config") or {}
    if target.get("kind") == "email" and isinstance(config, dict):
        recipients = config.get("to") or []
        return "email to " + ", ".join(str(r) for r in recipients)
    return str(target.get("kind") or "unknown target")


# ------------------------------------------------------------------------------ bulk actions

BULK_DONE = {"resolve": "Resolved", "ignore": "Ignored", "unresolve": "Unresolved"}


def bulk_notice(code: str | None) -> str | None:
    """The issue list's notice after a bulk action, from its redirect's `resolve-2`; None for
    anything else (the code comes from a URL anyone can write)."""
    op, _, count = (code or "").partition("-")
    if op not in BULK_DONE or not count.isdigit():
        return None
    return f"{BULK_DONE[op]} {count} issue{_s(int(count))}."
