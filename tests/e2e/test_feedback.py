"""User feedback (issue 9, part 4): user reports (the old name/email/comments shape) and feedback
items (contexts.feedback) sent through the real sentry-sdk's transport to a real `shoal run` on
SQLite and on PostgreSQL. They are linked to their error's issue, also when the report comes
first; shown on the issue page and the project's Feedback page, escaped; counted as category
feedback; and scrubbed with the project's settings."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from shoal.store import projects
from shoal.store.db import write_transaction
from shoal.store.projects import ScrubbingSettings
from shoal.store.schema import event, outcome_counter, user_feedback
from tests.support.events import python_error, send_and_wait
from tests.support.feedback_sdk import run_feedback_script
from tests.support.form_client import text_of
from tests.support.http import auth_header, envelope_url, post
from tests.support.server import RunningShoal, wait_until
from tests.support.web_client import WebClient


def feedback_count(shoal: RunningShoal) -> int:
    with shoal.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(user_feedback)).scalar_one())


def wait_for_feedback(shoal: RunningShoal, count: int) -> None:
    wait_until(lambda: feedback_count(shoal) >= count, 30, f"{count} feedback stored")


def feedback_outcomes(shoal: RunningShoal) -> dict[tuple[str, str], int]:
    with shoal.engine.connect() as conn:
        rows = conn.execute(
            select(outcome_counter.c.outcome, outcome_counter.c.reason, func.sum(outcome_counter.c.quantity))
            .where(outcome_counter.c.category == "feedback")
            .group_by(outcome_counter.c.outcome, outcome_counter.c.reason)
        )
        return {(outcome, reason): int(n) for outcome, reason, n in rows}


def issue_of(shoal: RunningShoal, event_id: str) -> int:
    with shoal.engine.connect() as conn:
        return int(conn.execute(select(event.c.issue_id).where(event.c.event_id == event_id)).scalar_one())


def feedback_section(markup: str) -> str:
    """The text of the issue page's User feedback section."""
    start = markup.index('<section class="panel feedback"')
    return text_of(markup[start : markup.index("</section>", start)])


def logged_in(shoal: RunningShoal) -> WebClient:
    client = WebClient(shoal)
    client.log_in()
    return client


def test_a_user_report_about_an_exception_shows_on_its_issue_and_the_feedback_page(
    shoal_on_each_store: RunningShoal,
) -> None:
    shoal = shoal_on_each_store
    error = run_feedback_script(
        shoal,
        [
            {"do": "exception"},
            {
                "do": "user_report",
                "name": "Jane Doe",
                "email": "jane@example.com",
                "comments": "It broke at checkout",
            },
        ],
    )
    assert error is not None
    shoal.wait_for_event(error)
    wait_for_feedback(shoal, 1)
    client = logged_in(shoal)

    issue_page = text_of(client.get(f"/issues/{issue_of(shoal, error)}/"))
    assert "User feedback" in issue_page
    assert "Jane Doe <jane@example.com>" in issue_page
    assert "It broke at checkout" in issue_page

    listing = text_of(client.get(f"/projects/{shoal.project_id}/feedback/"))
    assert "It broke at checkout" in listing
    assert "KeyError: 'discount'" in listing  # its issue, linked
    assert feedback_outcomes(shoal) == {("accepted", ""): 1}


def test_a_report_that_arrives_before_its_event_is_linked_once_the_event_is_stored(
    shoal_on_each_store: RunningShoal,
) -> None:
    shoal = shoal_on_each_store
    early = python_error("TimeoutError", "charge")
    run_feedback_script(
        shoal,
        [
            {
                "do": "user_report",
                "event_id": early["event_id"],
                "name": "Sam",
                "email": "",
                "comments": "Spinner forever",
            }
        ],
    )
    wait_for_feedback(shoal, 1)
    client = logged_in(shoal)
    waiting = text_of(client.get(f"/projects/{shoal.project_id}/feedback/"))
    assert f"about event {early['event_id']} , not stored (yet)" in waiting  # text_of spaces tags

    send_and_wait(shoal, early)
    issue_id = issue_of(shoal, early["event_id"])
    with shoal.engine.connect() as conn:
        assert conn.execute(select(user_feedback.c.issue_id)).scalar_one() == issue_id
    assert "Spinner forever" in text_of(client.get(f"/issues/{issue_id}/"))
    assert "TimeoutError: peer gone" in text_of(client.get(f"/projects/{shoal.project_id}/feedback/"))


def test_feedback_items_about_an_error_and_about_nothing_are_both_listed(
    shoal_on_each_store: RunningShoal,
) -> None:
    shoal = shoal_on_each_store
    error = run_feedback_script(
        shoal,
        [
            {"do": "exception"},
            {
                "do": "feedback",
                "about_error": True,
                "name": "Ana",
                "email": "ana@example.com",
                "message": "Checkout crashed",
                "url": "https://shop.example.com/cart",
            },
            {"do": "feedback", "name": "Bo", "email": "bo@example.com", "message": "Love the new search"},
        ],
    )
    assert error is not None
    shoal.wait_for_event(error)
    wait_for_feedback(shoal, 2)
    client = logged_in(shoal)
    # The section only: the event's own page shows the script's argv, which holds every message.
    section = feedback_section(client.get(f"/issues/{issue_of(shoal, error)}/"))
    assert "Checkout crashed" in section
    assert "on https://shop.example.com/cart" in section
    assert "Love the new search" not in section
    listing = text_of(client.get(f"/projects/{shoal.project_id}/feedback/"))
    assert listing.index("Love the new search") < listing.index("Checkout crashed")  # newest first
    assert "not about an error" in listing
    assert feedback_outcomes(shoal) == {("accepted", ""): 2}


def test_what_a_user_typed_is_shown_as_text(shoal: RunningShoal) -> None:
    hostile = "<script>alert(1)</script>"
    error = run_feedback_script(
        shoal,
        [
            {"do": "exception"},
            {"do": "user_report", "name": hostile, "email": "x@example.com", "comments": hostile},
        ],
    )
    assert error is not None
    shoal.wait_for_event(error)
    wait_for_feedback(shoal, 1)
    client = logged_in(shoal)
    for path in (f"/issues/{issue_of(shoal, error)}/", f"/projects/{shoal.project_id}/feedback/"):
        markup = client.get(path)
        assert hostile not in markup
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup


def test_feedback_is_scrubbed_with_the_project_settings(shoal: RunningShoal) -> None:
    with write_transaction(shoal.engine) as conn:
        projects.set_project_scrubbing(conn, shoal.project_id, ScrubbingSettings(sensitive_fields=("email",)))
    run_feedback_script(
        shoal,
        [
            {
                "do": "feedback",
                "name": "Jo",
                "email": "jo@example.com",
                "message": "My card 4111 1111 1111 1111 was charged twice",
            }
        ],
    )
    wait_for_feedback(shoal, 1)
    with shoal.engine.connect() as conn:
        row = conn.execute(select(user_feedback.c.email, user_feedback.c.message)).one()
    assert row.email == "[Filtered]"
    assert row.message == "My card [Filtered] was charged twice"


def test_a_report_that_is_not_json_or_names_no_event_is_counted_invalid(shoal: RunningShoal) -> None:
    url, auth = envelope_url(shoal.url, shoal.project_id), auth_header(shoal.public_key)
    broken = b'{"event_id":"' + uuid.uuid4().hex.encode() + b'"}\n{"type":"user_report","length":5}\nnope!\n'
    nameless = b'{}\n{"type":"user_report"}\n{"name":"A","email":"","comments":"hi"}'
    for body in (broken, nameless):
        assert post(url, body, auth).status == 200
    wait_until(
        lambda: (
            feedback_outcomes(shoal) == {("invalid", "invalid_json"): 1, ("invalid", "missing_event_id"): 1}
        ),
        30,
        "both reports counted invalid",
    )
    assert feedback_count(shoal) == 0
