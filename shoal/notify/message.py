"""What every channel says about a notification, written once: the headline, the fields, why it
was sent and the link to the issue. Channels choose only the markup (email.py: text and HTML,
slack.py: Block Kit, apprise_urls.py: title and text); webhook.py sends the facts themselves.

Everything here is plain, unescaped text: titles and culprits come from events, so each channel
escapes them for its own markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from shoal.clock import iso_utc
from shoal.notify.base import Notification, NotifySettings

# A subject longer than this is unreadable in a mail client or a phone notification anyway; a
# Python exception message can be kilobytes long.
HEADLINE_CHARS = 200


@dataclass(frozen=True)
class Message:
    headline: str  # "New issue in my-project: KeyError: 'discount'"
    fields: tuple[tuple[str, str], ...]  # ("Project", "my-project"), ("Issue", "MY-PROJECT-12"), …
    why: str  # "Why: a new issue was created (rule “Notify on new issues”)"
    link: str  # absolute URL of the issue

    def text(self) -> str:
        """The whole message as plain text, for an email's text part and for apprise."""
        fields = "\n".join(f"{label}: {value}" for label, value in self.fields)
        return f"{self.headline}\n\n{fields}\n\n{self.why}\n\n{self.link}\n"


def compose(notification: Notification, settings: NotifySettings) -> Message:
    return Message(
        headline=headline(notification),
        fields=_fields(notification),
        why=_why(notification),
        link=issue_link(notification, settings),
    )


def headline(notification: Notification) -> str:
    n = notification
    title = one_line(n.title) or "(no title)"
    if n.kind == "test":
        return "Test notification from Shoal"
    if n.kind == "new_issue":
        text = f"New issue in {n.project_slug}: {title}"
    elif n.kind == "regression":
        text = f"Regression in {n.project_slug}: {title}"
    elif n.kind == "escalation":
        text = f"Escalating issue in {n.project_slug}: {title}"
    else:  # "alert", and any kind a newer digest may add
        text = f"Alert: {one_line(n.rule_name)} in {n.project_slug}: {title}"
    return shorten(text, HEADLINE_CHARS)


def issue_link(notification: Notification, settings: NotifySettings) -> str:
    """`issue_url` is a path ("/issues/12/"); links start with the public URL (SHOAL_URL)."""
    if notification.issue_url.startswith(("http://", "https://")):
        return notification.issue_url
    return settings.public_url.rstrip("/") + "/" + notification.issue_url.lstrip("/")


def one_line(text: str) -> str:
    """`text` with every run of whitespace, newlines included, made one space: a header must not
    hold a line break (RFC 5322 §2.2), and a title squeezed onto one line reads better anyway."""
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _fields(n: Notification) -> tuple[tuple[str, str], ...]:
    fields = [
        ("Project", n.project_slug),
        ("Issue", n.issue_short_id),
        ("Culprit", one_line(n.culprit)),
        ("Level", n.level),
        ("Events", str(n.times_seen)),
        ("Users", str(n.users_seen)),
        ("First seen", iso_utc(n.first_seen) or ""),
        ("Release", n.release or ""),
        ("Environment", n.environment or ""),
        # The tenth field: a Slack section holds at most ten (Block Kit), so add no more here.
        ("Suspect commit", one_line(n.suspect_commit or "")),
    ]
    return tuple((label, value) for label, value in fields if value)


def _why(n: Notification) -> str:
    reason = one_line(n.reason) or "a rule matched"
    if n.kind == "test" or not n.rule_name:
        return f"Why: {reason}"
    return f"Why: {reason} (rule “{one_line(n.rule_name)}”)"
