"""What every channel shows: the headline per kind, the fields, the "why" line and the link."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shoal.notify.base import Notification, NotifySettings
from shoal.notify.message import HEADLINE_CHARS, compose, headline

SETTINGS = NotifySettings(public_url="https://shoal.example.com/")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("new_issue", "New issue in my-project: KeyError: 'discount'"),
        ("regression", "Regression in my-project: KeyError: 'discount'"),
        ("escalation", "Escalating issue in my-project: KeyError: 'discount'"),
        ("alert", "Alert: Notify on new issues in my-project: KeyError: 'discount'"),
        ("test", "Test notification from Shoal"),
    ],
)
def test_the_headline_says_what_happened(notification: Notification, kind: str, expected: str) -> None:
    assert headline(replace(notification, kind=kind)) == expected


def test_the_message_holds_the_fields_the_reason_and_an_absolute_link(notification: Notification) -> None:
    message = compose(notification, SETTINGS)

    assert message.fields == (
        ("Project", "my-project"),
        ("Issue", "MY-PROJECT-12"),
        ("Culprit", "shop.checkout in apply_discount"),
        ("Level", "error"),
        ("Events", "3"),
        ("Users", "2"),
        ("First seen", "2026-03-01T12:00:00Z"),
        ("Release", "shop@1.4.2"),
        ("Environment", "production"),
    )
    assert message.why == "Why: a new issue was created (rule “Notify on new issues”)"
    assert message.link == "https://shoal.example.com/issues/12/"


def test_the_text_version_reads_top_to_bottom(notification: Notification) -> None:
    text = compose(replace(notification, release=None, environment=None), SETTINGS).text()
    assert text == (
        "New issue in my-project: KeyError: 'discount'\n"
        "\n"
        "Project: my-project\n"
        "Issue: MY-PROJECT-12\n"
        "Culprit: shop.checkout in apply_discount\n"
        "Level: error\n"
        "Events: 3\n"
        "Users: 2\n"
        "First seen: 2026-03-01T12:00:00Z\n"
        "\n"
        "Why: a new issue was created (rule “Notify on new issues”)\n"
        "\n"
        "https://shoal.example.com/issues/12/\n"
    )


def test_a_long_multi_line_title_becomes_one_short_line(notification: Notification) -> None:
    title = "ValueError: bad input\n  in line 1\r\n" + "x" * 1000
    line = headline(replace(notification, title=title))
    assert "\n" not in line and "\r" not in line
    assert line.startswith("New issue in my-project: ValueError: bad input in line 1 xxx")
    assert len(line) == HEADLINE_CHARS and line.endswith("…")


def test_the_suspect_commit_is_a_field_of_every_channels_message(notification: Notification) -> None:
    suspect = "758a0d6 by Dev Person: 'second: add b, change a'"
    message = compose(replace(notification, suspect_commit=suspect), SETTINGS)
    assert message.fields[-1] == ("Suspect commit", suspect)
    assert f"Suspect commit: {suspect}\n" in message.text()
    assert "Suspect commit" not in compose(notification, SETTINGS).text()


def test_a_notification_from_an_older_outbox_row_has_no_suspect_commit(notification: Notification) -> None:
    data = {key: value for key, value in vars(notification).items() if key != "suspect_commit"}
    assert Notification.from_json(data).suspect_commit is None
