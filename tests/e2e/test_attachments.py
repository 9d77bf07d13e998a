"""Attachments (issue 9, part 5): the real sentry-sdk's `scope.add_attachment` with
`capture_exception`, sent to a real `shoal run` on SQLite and on PostgreSQL. The file is listed on
its event's page with name, type and size, downloads byte for byte as a file (a hostile HTML one
too, which must never render), is counted in bytes, refused and counted over the size limit with
its event kept, and deleted by retention with its event."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shoal import retention
from shoal.store.schema import event, event_attachment, outcome_counter
from tests.support.downloads import DownloadClient
from tests.support.form_client import text_of
from tests.support.http import auth_header, envelope_url, post
from tests.support.server import RunningShoal, start_shoal, wait_until

# Every byte value, so that nothing on the way treats the file as text.
BINARY = bytes(range(256)) * 64
HOSTILE = b"<html><body><script>document.title = 'pwned'</script><h1>log</h1></body></html>"

SDK_SCRIPT = textwrap.dedent(
    """
    import json
    import sys

    import sentry_sdk

    sentry_sdk.init(dsn=sys.argv[1], debug=True)
    files = json.loads(sys.argv[2])

    def checkout():
        return {}["discount"]

    ids = []
    for name, path, content_type in files:
        with sentry_sdk.new_scope() as scope:
            with open(path, "rb") as f:
                scope.add_attachment(bytes=f.read(), filename=name, content_type=content_type)
            try:
                checkout()
            except KeyError:
                ids.append(sentry_sdk.capture_exception())
    sentry_sdk.flush(timeout=10)
    print(json.dumps(ids))
    """
)


def send_with_attachments(
    shoal: RunningShoal, tmp_path: Path, files: list[tuple[str, bytes, str]]
) -> list[str]:
    """One exception per file, each with that file attached; the event ids, once stored."""
    arguments = []
    for index, (name, data, content_type) in enumerate(files):
        path = tmp_path / f"file-{index}"
        path.write_bytes(data)
        arguments.append((name, str(path), content_type))
    result = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, shoal.dsn, json.dumps(arguments)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONUTF8": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "Unexpected status code" not in result.stderr
    event_ids: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    for event_id in event_ids:
        shoal.wait_for_event(event_id)
    return event_ids


def attachment_outcomes(shoal: RunningShoal) -> dict[tuple[str, str], int]:
    with shoal.engine.connect() as conn:
        rows = conn.execute(
            select(outcome_counter.c.outcome, outcome_counter.c.reason, func.sum(outcome_counter.c.quantity))
            .where(outcome_counter.c.category == "attachment")
            .group_by(outcome_counter.c.outcome, outcome_counter.c.reason)
        )
        return {(outcome, reason): int(n) for outcome, reason, n in rows}


def wait_for_attachment_outcome(shoal: RunningShoal, outcome: str, reason: str, quantity: int) -> None:
    wait_until(
        lambda: attachment_outcomes(shoal).get((outcome, reason), 0) >= quantity,
        30,
        f"{quantity} attachment bytes counted {outcome}:{reason}",
    )


def issue_of(shoal: RunningShoal, event_id: str) -> int:
    with shoal.engine.connect() as conn:
        return int(conn.execute(select(event.c.issue_id).where(event.c.event_id == event_id)).scalar_one())


def attachment_ids(shoal: RunningShoal, event_id: str) -> list[int]:
    with shoal.engine.connect() as conn:
        rows = conn.execute(
            select(event_attachment.c.id)
            .join(event, event.c.id == event_attachment.c.event_row_id)
            .where(event.c.event_id == event_id)
            .order_by(event_attachment.c.id)
        )
        return [int(row.id) for row in rows]


@pytest.fixture
def client(shoal_on_each_store: RunningShoal) -> DownloadClient:
    client = DownloadClient(shoal_on_each_store)
    client.log_in()
    return client


def test_an_attachment_is_listed_on_its_event_and_downloads_byte_for_byte(
    shoal_on_each_store: RunningShoal, client: DownloadClient, tmp_path: Path
) -> None:
    shoal = shoal_on_each_store
    [event_id] = send_with_attachments(shoal, tmp_path, [("core dump.bin", BINARY, "application/x-core")])
    issue_id = issue_of(shoal, event_id)
    wait_for_attachment_outcome(shoal, "accepted", "", len(BINARY))

    page = text_of(client.get(f"/issues/{issue_id}/events/{event_id}/"))
    assert "Attachments" in page
    assert "core dump.bin application/x-core 16.0 KiB" in page

    [attachment_id] = attachment_ids(shoal, event_id)
    got = client.download(f"/issues/{issue_id}/events/{event_id}/attachments/{attachment_id}/")
    assert got.body == BINARY
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"core dump.bin\"; filename*=UTF-8''core%20dump.bin"
    )
    assert attachment_outcomes(shoal) == {("accepted", ""): len(BINARY)}


def test_a_hostile_html_attachment_is_served_as_a_download_that_cannot_render(
    shoal: RunningShoal, tmp_path: Path
) -> None:
    [event_id] = send_with_attachments(shoal, tmp_path, [("report.html", HOSTILE, "text/html")])
    client = DownloadClient(shoal)
    client.log_in()
    [attachment_id] = attachment_ids(shoal, event_id)
    got = client.download(
        f"/issues/{issue_of(shoal, event_id)}/events/{event_id}/attachments/{attachment_id}/"
    )
    assert got.body == HOSTILE
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "sandbox"
    # The page lists it by the type the SDK claimed, as text: its name is not markup either.
    assert "<code>text/html</code>" in client.get(f"/issues/{issue_of(shoal, event_id)}/")


def test_an_attachment_for_another_issue_or_event_is_not_found(shoal: RunningShoal, tmp_path: Path) -> None:
    first, second = send_with_attachments(
        shoal, tmp_path, [("a.txt", b"first", "text/plain"), ("b.txt", b"second", "text/plain")]
    )
    client = DownloadClient(shoal)
    client.log_in()
    [attachment_id] = attachment_ids(shoal, first)
    issue_id = issue_of(shoal, first)
    with pytest.raises(Exception, match="404"):
        client.download(f"/issues/{issue_id}/events/{second}/attachments/{attachment_id}/")
    with pytest.raises(Exception, match="404"):
        client.download(f"/issues/{issue_id + 1000}/events/{first}/attachments/{attachment_id}/")


@pytest.fixture
def small_limit_shoal(tmp_path: Path) -> Iterator[RunningShoal]:
    server = start_shoal(tmp_path / "data", extra_env={"SHOAL_MAX_ATTACHMENT_BYTES": "1000"})
    yield server
    server.stop()


def test_an_attachment_over_the_limit_is_counted_too_large_and_its_event_is_kept(
    small_limit_shoal: RunningShoal, tmp_path: Path
) -> None:
    shoal = small_limit_shoal
    big, small = b"x" * 5000, b"y" * 1000
    first, second = send_with_attachments(
        shoal, tmp_path, [("big.log", big, "text/plain"), ("small.log", small, "text/plain")]
    )
    wait_for_attachment_outcome(shoal, "invalid", "too_large", len(big))
    wait_for_attachment_outcome(shoal, "accepted", "", len(small))
    assert attachment_ids(shoal, first) == []
    assert len(attachment_ids(shoal, second)) == 1


def test_an_attachment_sent_later_joins_its_stored_event_and_one_without_a_stored_event_is_counted(
    shoal_on_each_store: RunningShoal, tmp_path: Path
) -> None:
    shoal = shoal_on_each_store
    [event_id] = send_with_attachments(shoal, tmp_path, [("first.txt", b"with the event", "text/plain")])
    later = attachment_envelope(event_id, "later.txt", b"sent afterwards")
    unknown = attachment_envelope("f" * 32, "orphan.txt", b"no such event")
    for body in (later, unknown):
        reply = post(envelope_url(shoal.url, shoal.project_id), body, auth_header(shoal.public_key))
        assert reply.status == 200
    wait_for_attachment_outcome(shoal, "filtered", "event_not_stored", len(b"no such event"))
    wait_until(lambda: len(attachment_ids(shoal, event_id)) == 2, 30, "the later attachment stored")
    # Delivered twice (a worker died before its ack): stored once. The spool is taken oldest
    # first, so once an orphan sent after it is counted, the copy was digested too.
    for body in (later, unknown):
        post(envelope_url(shoal.url, shoal.project_id), body, auth_header(shoal.public_key))
    wait_for_attachment_outcome(shoal, "filtered", "event_not_stored", 2 * len(b"no such event"))
    assert len(attachment_ids(shoal, event_id)) == 2
    assert attachment_outcomes(shoal)[("accepted", "")] == len(b"with the event") + len(b"sent afterwards")


def attachment_envelope(event_id: str, filename: str, data: bytes) -> bytes:
    """An envelope holding only an attachment for `event_id`, as an SDK sends a late one."""
    header = json.dumps({"event_id": event_id}).encode()
    item = json.dumps(
        {"type": "attachment", "filename": filename, "content_type": "text/plain", "length": len(data)}
    ).encode()
    return header + b"\n" + item + b"\n" + data + b"\n"


def test_retention_deletes_attachments_with_their_events_and_counts_their_bytes(
    shoal_on_each_store: RunningShoal, tmp_path: Path
) -> None:
    shoal = shoal_on_each_store
    kept_file, deleted_file = b"k" * 3000, os.urandom(4000)
    first, second = send_with_attachments(
        shoal,
        tmp_path,
        [("kept.log", kept_file, "text/plain"), ("old.bin", deleted_file, "application/octet-stream")],
    )
    with shoal.engine.connect() as conn:
        stored = conn.execute(
            select(func.length(event_attachment.c.payload))
            .join(event, event.c.id == event_attachment.c.event_row_id)
            .where(event.c.event_id == second)
        ).scalar_one()
        payload = conn.execute(
            select(func.length(event.c.payload)).where(event.c.event_id == second)
        ).scalar_one()
    # Two days later, with a one-day retention: the issue's first event stays as its sample.
    plans = retention.plan(shoal.engine, time.time() + 2 * retention.DAY, days=1)
    report = retention.run(shoal.engine, plans, retention.CleanupOptions(pause=0, reclaim=False))
    assert report.events_deleted == 1
    assert report.payload_bytes == payload + stored
    assert attachment_ids(shoal, second) == []
    assert len(attachment_ids(shoal, first)) == 1
