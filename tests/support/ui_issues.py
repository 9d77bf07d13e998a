"""Issues for UI tests: each made by one event sent through ingest, with a title no other test
uses (so tests can share one server), and its state read back from the store."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from shoal.store.schema import event, issue
from tests.support.events import python_error, send_and_wait
from tests.support.server import RunningShoal


@dataclass(frozen=True)
class MadeIssue:
    id: int
    title: str
    type: str
    function: str
    value: str


def new_issue(shoal: RunningShoal, label: str) -> MadeIssue:
    """A new issue whose title is "<Label>Error: <label> <random>"."""
    tag = uuid.uuid4().hex[:8]
    type_, function, value = (
        f"{label.title().replace(' ', '')}Error",
        f"{label.replace(' ', '_')}_{tag}",
        f"{label} {tag}",
    )
    made = MadeIssue(0, f"{type_}: {value}", type_, function, value)
    return MadeIssue(issue_of_event(shoal, send_again(shoal, made)), made.title, type_, function, value)


def send_again(shoal: RunningShoal, made: MadeIssue) -> str:
    """One more event of the issue; its event id once stored."""
    return send_and_wait(shoal, python_error(made.type, made.function, made.value))


def issue_of_event(shoal: RunningShoal, event_id: str) -> int:
    with shoal.engine.connect() as conn:
        return int(conn.execute(select(event.c.issue_id).where(event.c.event_id == event_id)).scalar_one())


def issue_state(shoal: RunningShoal, issue_id: int) -> tuple[str, str]:
    """(status, substatus) as stored."""
    with shoal.engine.connect() as conn:
        row = conn.execute(select(issue.c.status, issue.c.substatus).where(issue.c.id == issue_id)).one()
        return str(row.status), str(row.substatus)
