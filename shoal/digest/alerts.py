"""The digest's last step: evaluate the projects' alert rules on the issues a batch touched, in the
batch's transaction; write one decision-log row per rule per issue and one outbox row per action
of every rule that fired.

Per rule and issue, as Sentry's `apply_rule` (reference §2.6, 2.9): rules only run on unresolved
issues (a regression or escalation in this batch has already made the issue unresolved); inside
the action interval the rule is skipped, even for a regression; otherwise the issue's events of
the batch are tried in order until one passes, and the interval is then claimed with a conditional
update, so that of several workers only one fires. The first event of a new issue is the only one
that carries "new issue", so the new-issue trigger fires once per issue by construction; the claim
makes it once even if the same batch is digested twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from shoal.alerts import model
from shoal.alerts.attributes import attribute_values
from shoal.alerts.evaluate import (
    Context,
    EventFacts,
    IssueFacts,
    Verdict,
    check_filter,
    check_trigger,
    combine,
    evaluate,
)
from shoal.alerts.model import NOTIFY_CHANNEL, NOTIFY_EMAIL, NOTIFY_SERVICE, Rule
from shoal.digest.decision_memory import DecisionMemory
from shoal.digest.lifecycle import Transitions
from shoal.digest.pipeline import DigestedEvent
from shoal.notify.email import MAX_RECIPIENTS
from shoal.store import (
    aggregates,
    alert_rules,
    alert_state,
    channels,
    events,
    issues,
    outbox,
    session_stats,
    users,
)
from shoal.store.alert_state import Decision
from shoal.store.events import PayloadCodec
from shoal.store.issues import AlertFacts
from shoal.store.outbox import NewNotification
from shoal.suspects import top_suspect


@dataclass(frozen=True)
class BatchIssue:
    """One issue the batch touched, with its events of the batch (indexes, in order)."""

    facts: AlertFacts
    event_indexes: list[int]
    new_index: int | None
    regressed_index: int | None
    escalated_index: int | None


def evaluate_batch(
    conn: Connection,
    batch: list[DigestedEvent],
    *,
    issue_ids: list[int],
    new_issue_ids: list[int],
    transitions: Transitions,
    now: float,
    memory: DecisionMemory | None = None,
) -> list[Decision]:
    """`batch[i]` went to issue `issue_ids[i]`; `new_issue_ids` are the issues the batch created.
    Returns the decisions logged (those `memory` did not know already)."""
    rules = alert_rules.active_rules(conn, {e.project_id for e in batch})
    if not any(rules.values()):
        return []
    touched = _batch_issues(conn, issue_ids, set(new_issue_ids), transitions)
    fired_at = alert_state.last_fired(conn, [t.facts.id for t in touched])
    projects = {t.facts.id: t.facts.project_id for t in touched}
    step = _Step(conn, batch, now, _Counts(conn, [t.facts.id for t in touched], now, projects))
    for t in touched:
        for rule in rules[t.facts.project_id]:
            step.decide(rule, t, fired_at.get((rule.id, t.facts.id)))
    step.fire()
    logged = [d for d in step.decisions if memory is None or not memory.is_repeat(d)]
    alert_state.record_decisions(conn, logged)
    outbox.enqueue(conn, step.notifications, now)
    return logged


def _batch_issues(
    conn: Connection, issue_ids: list[int], new_issue_ids: set[int], transitions: Transitions
) -> list[BatchIssue]:
    indexes: dict[int, list[int]] = defaultdict(list)
    for index, issue_id in enumerate(issue_ids):
        indexes[issue_id].append(index)
    facts = issues.alert_facts(conn, indexes)
    return [
        BatchIssue(
            facts=facts[issue_id],
            event_indexes=found,
            new_index=found[0] if issue_id in new_issue_ids else None,
            regressed_index=transitions.regressed_by.get(issue_id),
            escalated_index=transitions.escalated_by.get(issue_id),
        )
        for issue_id, found in sorted(indexes.items())
    ]


class _Counts:
    """Window counts for the batch's issues, one query per (window, environment) for all of them
    and remembered for the batch: events from the per-minute and per-hour counters, users from
    the `user` tag counts (or, in one environment, the window's events)."""

    def __init__(
        self, conn: Connection, issue_ids: list[int], now: float, projects: dict[int, int] | None = None
    ) -> None:
        self._conn = conn
        self._issue_ids = issue_ids
        self._now = now
        self._projects = projects or {}  # issue id → project id, for the sessions of its project
        self._started: session_stats.StartedPerHour | None = None
        self._events: dict[tuple[int, str | None], dict[int, int]] = {}
        self._users: dict[tuple[int, str | None], dict[int, int]] = {}

    def events(self, issue_id: int, seconds: int, environment: str | None) -> int:
        key = (seconds, environment)
        if key not in self._events:
            self._events[key] = aggregates.events_in_window(
                self._conn, self._issue_ids, self._now, seconds, environment
            )
        return self._events[key].get(issue_id, 0)

    def users(self, issue_id: int, seconds: int, environment: str | None) -> int:
        key = (seconds, environment)
        if key not in self._users:
            self._users[key] = (
                aggregates.users_in_window(self._conn, self._issue_ids, self._now, seconds)
                if environment is None
                else events.users_in_environment(
                    self._conn, self._issue_ids, self._now - seconds, environment
                )
            )
        return self._users[key].get(issue_id, 0)

    def sessions(self, issue_id: int, seconds: int, environment: str | None) -> float:
        """Sessions the issue's project started in the window (an hour at most, as the percent
        trigger asks): the per-hour session counters of the last two hours, read once per batch
        for all its projects."""
        if self._started is None:
            self._started = session_stats.sessions_started_per_hour(
                self._conn, sorted(set(self._projects.values())), self._now - 2 * 3600
            )
        project_id = self._projects.get(issue_id, 0)
        return session_stats.sessions_in_window(self._started, project_id, self._now, seconds, environment)


# Nothing a Context holds refers back to the _Step that made it: a cycle would keep every batch's
# contexts alive until the garbage collector found it, and its full collections, run more often
# for it, cost as much as the rules themselves (bench/alert_rules.py: 14 % with gc disabled,
# 30 % with the cycles).


def _attribute_reader(e: DigestedEvent, codec: PayloadCodec) -> Callable[[str], list[str]]:
    """The event's attribute values, as the pipeline read them for the project's rules; for an
    attribute it did not read (a rule saved since), from the payload, decoded once."""
    decoded: list[dict[str, Any]] = []

    def values(name: str) -> list[str]:
        if name in e.attributes:
            return e.attributes[name]
        if not decoded:
            decoded.append(codec.decode(e.payload))
        return attribute_values(decoded[0], name)

    return values


class _LatestRelease:
    """The project's latest release, read at most once per batch and project."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._found: dict[int, str | None] = {}
        self._readers: dict[int, Callable[[], str | None]] = {}

    def reader(self, project_id: int) -> Callable[[], str | None]:
        if project_id not in self._readers:
            self._readers[project_id] = lambda: self.of(project_id)
        return self._readers[project_id]

    def of(self, project_id: int) -> str | None:
        if project_id not in self._found:
            self._found[project_id] = issues.latest_release(self._conn, project_id)
        return self._found[project_id]


@dataclass(frozen=True)
class _Passed:
    """A rule that passed on an issue's event, waiting for its action interval to be claimed."""

    rule: Rule
    issue: BatchIssue
    index: int
    verdict: Verdict


class _Step:
    """The decisions and notifications of one batch, as they are made."""

    def __init__(self, conn: Connection, batch: list[DigestedEvent], now: float, counts: _Counts) -> None:
        self._conn = conn
        self._batch = batch
        self._now = now
        self._counts = counts
        self._codec = PayloadCodec()
        self._latest = _LatestRelease(conn)
        self._contexts: dict[int, Context] = {}
        self._issue_facts: dict[int, IssueFacts] = {}
        self._members: dict[int, list[str]] = {}
        self._shortcuts: dict[int, _Shortcuts] = {}
        self._passed: list[_Passed] = []
        self.decisions: list[Decision] = []
        self.notifications: list[NewNotification] = []

    def decide(self, rule: Rule, issue: BatchIssue, fired_at: float | None) -> None:
        facts = issue.facts
        last_event = self._batch[issue.event_indexes[-1]].event_id
        if facts.status != "unresolved":
            self._record(rule, facts, last_event, Verdict(False, f"skipped: the issue is {facts.status}"))
            return
        interval = rule.frequency * 60
        if fired_at is not None and fired_at > self._now - interval:
            ago = _minutes(self._now - fired_at)
            reason = f"throttled: last sent {ago} ago, interval {_minutes(interval)}"
            self._record(rule, facts, last_event, Verdict(False, reason))
            return
        index, verdict = self._first_passing(rule, issue)
        if verdict.passed:
            self._passed.append(_Passed(rule, issue, index, verdict))
        else:
            self._record(rule, facts, self._batch[index].event_id, verdict)

    def fire(self) -> None:
        """Claim the action interval of every rule that passed, all at once, and queue the
        notifications of those whose claim won; a claim lost to another worker is logged as such."""
        won = alert_state.claim_intervals(
            self._conn, [(p.rule.id, p.issue.facts.id, p.rule.frequency) for p in self._passed], self._now
        )
        for p in self._passed:
            verdict = p.verdict
            if (p.rule.id, p.issue.facts.id) not in won:
                verdict = Verdict(False, "throttled: another worker fired this rule for the issue just now")
            elif not self._notify(p.rule, p.issue, p.index, verdict.reason):
                verdict = Verdict(True, f"{verdict.reason}; but no action had anyone to notify")
            self._record(p.rule, p.issue.facts, self._batch[p.index].event_id, verdict)

    def _first_passing(self, rule: Rule, issue: BatchIssue) -> tuple[int, Verdict]:
        """The first of the issue's batch events that passes the rule, or its last event and why
        it failed. Only events that could pass the triggers are tried (`candidate_events`)."""
        last = issue.event_indexes[-1]
        if rule.id not in self._shortcuts:
            self._shortcuts[rule.id] = _Shortcuts.of(rule)
        if not self._shortcuts[rule.id].fail_for_every_event(rule, self._context(issue, last)):
            for index in candidate_events(rule, issue):
                verdict = evaluate(rule, self._context(issue, index))
                if verdict.passed:
                    return index, verdict
        return last, evaluate(rule, self._context(issue, last))

    def _context(self, issue: BatchIssue, index: int) -> Context:
        """What rules see of `batch[index]` and its issue; the same for every rule, so made once."""
        context = self._contexts.get(index)
        if context is None:
            context = self._contexts[index] = self._new_context(issue, index)
        return context

    def _new_context(self, issue: BatchIssue, index: int) -> Context:
        e = self._batch[index]
        facts = issue.facts
        if facts.id not in self._issue_facts:
            self._issue_facts[facts.id] = IssueFacts(
                facts.id, facts.first_seen, facts.times_seen, facts.assignee_id
            )
        return Context(
            issue=self._issue_facts[facts.id],
            event=EventFacts(
                event_id=e.event_id,
                level=e.level,
                environment=e.environment,
                release=e.release,
                tags=e.tags,
                attribute=self._attributes(e),
                is_new=index == issue.new_index,
                is_regression=index == issue.regressed_index,
                has_escalated=index == issue.escalated_index,
            ),
            counts=self._counts,
            latest_release=self._latest.reader(facts.project_id),
            now=self._now,
        )

    def _attributes(self, e: DigestedEvent) -> Callable[[str], list[str]]:
        return _attribute_reader(e, self._codec)

    def _record(self, rule: Rule, facts: AlertFacts, event_id: str, verdict: Verdict) -> None:
        self.decisions.append(
            Decision(rule.id, facts.id, event_id, verdict.passed, verdict.reason, self._now)
        )

    def _notify(self, rule: Rule, issue: BatchIssue, index: int, reason: str) -> int:
        """Queue the rule's notifications; return how many there were."""
        message = _message(rule, issue, index, self._batch[index], reason, conn=self._conn, codec=self._codec)
        queued = [
            NewNotification(issue.facts.project_id, rule.id, issue.facts.id, channel_id, target, message)
            for action in rule.actions
            for channel_id, target in self._targets(action, issue.facts)
        ]
        self.notifications.extend(queued)
        return len(queued)

    def _targets(self, action: dict[str, Any], facts: AlertFacts) -> list[tuple[int | None, dict[str, Any]]]:
        """Where one action sends: a channel row, or an email list resolved now."""
        kind = action.get("id")
        if kind == NOTIFY_CHANNEL:
            # The rule may name a channel that was deleted since; a notification for it could
            # not be stored, and the decision log says that nobody was notified.
            found = channels.get_channel(self._conn, model.whole_number(action.get("channel")))
            return [(found.id, {})] if found and found.organization_id == facts.organization_id else []
        if kind == NOTIFY_SERVICE and action.get("service") != "mail":
            found = channels.channel_by_name(self._conn, facts.organization_id, str(action.get("service")))
            return [(found.id, {})] if found else []
        if kind in (NOTIFY_EMAIL, NOTIFY_SERVICE):
            emails = self._emails(action, facts)
            # One email per MAX_RECIPIENTS addresses: the email channel refuses longer lists.
            return [
                (None, {"kind": "email", "config": {"to": emails[start : start + MAX_RECIPIENTS]}})
                for start in range(0, len(emails), MAX_RECIPIENTS)
            ]
        return []

    def _emails(self, action: dict[str, Any], facts: AlertFacts) -> list[str]:
        """Sentry's mail action: a member, or the issue's owners (its assignee here), falling
        through to everyone in the organization unless told "NoOne". Whoever it names, only
        members who may see the project and did not turn its alert emails off get one
        (`users.alert_recipients`, remembered per project for the batch)."""
        if facts.project_id not in self._members:
            self._members[facts.project_id] = users.alert_recipients(
                self._conn, facts.organization_id, facts.project_id
            )
        recipients = self._members[facts.project_id]
        target = action.get("targetType", "IssueOwners")
        if target == "Member":
            email = users.email_of(self._conn, int(action.get("targetIdentifier", 0)))
            return [email] if email in recipients else []
        if target == "IssueOwners" and facts.assignee_id is not None:
            email = users.email_of(self._conn, facts.assignee_id)
            return [email] if email in recipients else []
        if target == "IssueOwners" and action.get("fallthroughType") == "NoOne":
            return []
        return recipients


def _message(
    rule: Rule,
    issue: BatchIssue,
    index: int,
    e: DigestedEvent,
    reason: str,
    *,
    conn: Connection,
    codec: PayloadCodec,
) -> dict[str, Any]:
    """The notification's content, as `shoal.notify.base.Notification` fields, about the event
    `batch[index]` that made the rule fire; the issue URL is a path that the channel prefixes
    with SHOAL_URL. The suspect commit is read from the firing event's stack trace (already in
    memory, so one query) for rules that fired only."""
    facts = issue.facts
    return {
        "kind": _kind(issue, index),
        "rule_name": rule.name,
        "reason": reason,
        "project_slug": facts.project_slug,
        "issue_short_id": facts.short_id,
        "issue_url": f"/issues/{facts.id}/",
        "title": facts.title,
        "culprit": facts.culprit,
        "level": e.level,
        "times_seen": facts.times_seen,
        "users_seen": facts.users_seen,
        "first_seen": facts.first_seen,
        "last_seen": facts.last_seen,
        "release": e.release,
        "environment": e.environment,
        "event_id": e.event_id,
        "tags": [list(tag) for tag in e.tags],
        "suspect_commit": top_suspect(conn, facts.id, codec.decode(e.payload)),
    }


def candidate_events(rule: Rule, issue: BatchIssue) -> list[int]:
    """The issue's batch events that could pass the rule's triggers. "New issue", "regression" and
    "escalation" each hold for one event at most, so a rule that needs one of them (all of them,
    with actionMatch all) is tried on that event alone: with 20 rules and 256 events a batch that
    is most of the evaluation saved (bench/alert_rules.py)."""
    specific = {
        model.FIRST_SEEN: issue.new_index,
        model.REGRESSION: issue.regressed_index,
        model.REAPPEARED: issue.escalated_index,
    }
    wanted = [specific[c["id"]] for c in rule.conditions if c["id"] in specific]
    general = len(wanted) < len(rule.conditions)
    if rule.action_match == "all" and wanted:
        return [wanted[0]] if wanted[0] is not None and len(set(wanted)) == 1 else []
    if rule.action_match == "any" and not general:
        return sorted({index for index in wanted if index is not None})
    return issue.event_indexes


@dataclass(frozen=True)
class _Shortcuts:
    """What of a rule can be judged once per issue instead of once per event."""

    issue_filters: tuple[dict[str, Any], ...]  # age, occurrences, assignee; under filterMatch all
    general_triggers: bool  # only frequency and every-event triggers, matched with all or any

    @classmethod
    def of(cls, rule: Rule) -> _Shortcuts:
        kinds = {condition["id"] for condition in rule.conditions}
        issue_filters = [f for f in rule.filters if f["id"] in _ISSUE_FILTERS]
        return cls(
            tuple(issue_filters) if rule.filter_match == "all" else (),
            bool(kinds) and rule.action_match != "none" and not kinds & _ONE_EVENT_TRIGGERS,
        )

    def fail_for_every_event(self, rule: Rule, last: Context) -> bool:
        """Whether the rule fails on every event of the issue in the batch, judged on the last
        one alone; then trying each event is wasted (bench/alert_rules.py). An issue filter is
        the same for every event; frequency and every-event triggers are too, except that the
        first event of a new issue passes fewer of them, so failing on the last event means
        failing on all."""
        if not all(check_filter(f, last).passed for f in self.issue_filters):
            return True
        if not self.general_triggers:
            return False
        return not combine(rule.action_match, [check_trigger(c, last, rule) for c in rule.conditions]).passed


_ISSUE_FILTERS = {model.AGE_COMPARISON, model.ISSUE_OCCURRENCES, model.ASSIGNED_TO}
_ONE_EVENT_TRIGGERS = {model.FIRST_SEEN, model.REGRESSION, model.REAPPEARED}


def _kind(issue: BatchIssue, index: int) -> str:
    """What the message calls itself: the state change the firing event made, if it made one."""
    if index == issue.new_index:
        return "new_issue"
    if index == issue.regressed_index:
        return "regression"
    if index == issue.escalated_index:
        return "escalation"
    return "alert"


def _minutes(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes >= 1440 and minutes % 1440 == 0:
        return f"{minutes // 1440} d"
    if minutes >= 60 and minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"
