"""The quota advisor's weekly email: once a week, to each project's owners and admins, what the
Stats page's advisor says (shoal/quota_advisor.py), with links to the issues, the inbound filters
page, the Stats page and the opt-out.

The scheduler (shoal/scheduler.py) runs `send_weekly` every hour while email is configured. For a
project, a run sends nothing when nobody is to get it or when the advice is not worth an email
(`Advice.worth_an_email`: no suggestion and no quota at risk); otherwise it claims the project's
week (`advisor_emails.claim_week`: a row whose primary key one process alone can insert) and
sends. So the email goes out at most once per project and UTC week (Monday to Sunday), however
many schedulers run and however often they restart; a transient SMTP failure gives the week back
to be tried at the next run, a permanent one keeps it (and is logged), as retrying cannot help.
A process killed between the claim and the send loses that week's email: once at most, never
twice.
"""

from __future__ import annotations

import html
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import Connection, Engine

from shoal.clock import SYSTEM_CLOCK, Clock
from shoal.notify.base import DeliveryError, NotifySettings
from shoal.notify.email import message_id, send_email
from shoal.quota_advisor import Advice, advise, month_hours
from shoal.store import advisor_emails, budget, projects
from shoal.store.db import write_transaction
from shoal.store.projects import ProjectInfo
from shoal.store.users import Member

log = logging.getLogger(__name__)

DAY = 86400
WEEK = 7 * DAY


@dataclass(frozen=True)
class AdvisorEmail:
    """One project's email, as plain text; `html_body` marks it up."""

    subject: str
    paragraphs: list[str]  # the advice
    links: list[tuple[str, str]]  # (what, absolute URL), listed after the advice
    footer: str  # why this email came, and where to stop it


def week_start(now: float) -> int:
    """Monday 00:00 UTC of the week holding `now` (1 January 1970 was a Thursday)."""
    day = int(now // DAY)
    return (day - (day + 3) % 7) * DAY


def send_weekly(
    engine: Engine, settings: NotifySettings, clock: Clock = SYSTEM_CLOCK, stop: threading.Event | None = None
) -> list[int]:
    """Send this week's email of every project that has one due; the ids of the projects sent."""
    sent = []
    with engine.connect() as conn:
        every_project = projects.list_projects(conn)
    for project in every_project:
        if stop is not None and stop.is_set():
            break
        if _send_for_project(engine, settings, project, clock.now()):
            sent.append(project.id)
    return sent


def _send_for_project(engine: Engine, settings: NotifySettings, project: ProjectInfo, now: float) -> bool:
    with engine.connect() as conn:
        members = advisor_emails.recipients(conn, project.organization_id, project.id)
        advice = project_advice(conn, project, now) if members else None
    if advice is None or not advice.worth_an_email:
        return False
    week = week_start(now)
    with write_transaction(engine) as conn:
        if not advisor_emails.claim_week(conn, project.id, week, now):
            return False
    email = compose(project, advice, settings.public_url)
    try:
        send_email(message(email, members, settings, now), settings)
    except DeliveryError as exc:
        log.warning("advisor email: project %s: %s", project.id, exc)
        if not exc.permanent:
            with write_transaction(engine) as conn:
                advisor_emails.release_week(conn, project.id, week)
        return False
    return True


def project_advice(conn: Connection, project: ProjectInfo, now: float) -> Advice:
    readings = budget.read_budget(conn, project.organization_id, [project.id], month_hours(now), project.id)
    return advise(readings, now)


# --------------------------------------------------------------------------------- the text


def compose(project: ProjectInfo, advice: Advice, public_url: str) -> AdvisorEmail:
    base = public_url.rstrip("/")
    stats = f"{base}/projects/{project.id}/stats/"
    links: list[tuple[str, str]] = []
    if advice.top:
        links += [
            (f"{found.short_id} {found.title} ({found.events:,} events)", f"{base}/issues/{found.id}/")
            for found in advice.top.issues
        ]
    filter_pages = dict.fromkeys(s.project_id for s in advice.suggestions)
    links += [("Inbound filters", f"{base}/projects/{pid}/settings/filters/") for pid in filter_pages]
    links.append(("The Stats page", stats))
    footer = (
        "You get this email at most once a week, as an owner or admin, when the advisor has something "
        f"to suggest or a quota is running out. To stop it for {project.name}: {stats}#advisor-email"
    )
    return AdvisorEmail(f"Quota advice for {project.name} ({advice.month})", advice.lines(), links, footer)


def message(email: AdvisorEmail, members: list[Member], settings: NotifySettings, now: float) -> EmailMessage:
    found = EmailMessage()
    found["Subject"] = email.subject
    found["From"] = settings.email_from
    found["To"] = ", ".join(member.email for member in members)
    found["Date"] = format_datetime(datetime.fromtimestamp(now, UTC), usegmt=True)
    found["Message-ID"] = message_id(settings.email_from)
    # RFC 3834 §5: tells vacation responders and ticket systems not to answer a robot.
    found["Auto-Submitted"] = "auto-generated"
    found.set_content(text_body(email))
    found.add_alternative(html_body(email), subtype="html")
    return found


def text_body(email: AdvisorEmail) -> str:
    links = "\n".join(f"- {what}: {url}" for what, url in email.links)
    return "\n\n".join([email.subject, *email.paragraphs, links, email.footer]) + "\n"


def html_body(email: AdvisorEmail) -> str:
    """Every value is escaped: issue titles and project names come from users and SDKs."""
    e = html.escape
    paragraphs = "".join(f"<p>{e(text)}</p>\n" for text in email.paragraphs)
    links = "".join(f'<li><a href="{e(url)}">{e(what)}</a></li>' for what, url in email.links)
    return (
        '<!doctype html>\n<html><body style="font-family:sans-serif">\n'
        f"<h2>{e(email.subject)}</h2>\n{paragraphs}<ul>{links}</ul>\n"
        f'<p style="color:#666">{e(email.footer)}</p>\n'
        "</body></html>\n"
    )
