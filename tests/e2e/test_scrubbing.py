"""Acceptance for server-side PII scrubbing (issue 8): the real sentry-sdk, with the chapter's
`send_default_pii=False`, sends an error whose local variables hold a password and a card number
and whose request and breadcrumb carry a bearer token, to a real `shoal run` on SQLite and on
PostgreSQL; none of the raw strings is stored anywhere, and the event page shows [Filtered].

The SDK's own scrubber is switched off in the script (it removes a few exact key names, such as
`password`, itself): the server must not rely on it, so every secret has to reach the server, and
`before_send` proves that it leaves the SDK. The secrets come from the environment, as real ones
do from configuration: the SDK sends no environment, and source lines are not scrubbed (a secret
written in source code is in the repository already)."""

from __future__ import annotations

import html
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from shoal.store.events import PayloadCodec
from shoal.store.schema import event as event_table
from shoal.store.schema import issue, metadata
from tests.support.form_client import FormClient
from tests.support.server import RunningShoal, wait_until
from tests.support.web_client import WebClient

PASSWORD = "hunter2"
CARD = "4111 1111 1111 1111"
TOKEN = "abc.def.ghi"
RAW = (PASSWORD, CARD, CARD.replace(" ", ""), TOKEN)

SDK_SCRIPT = textwrap.dedent(
    """
    import json
    import os
    import sys

    import sentry_sdk
    from sentry_sdk.scrubber import EventScrubber


    def before_send(event, hint):
        sent = json.dumps(event, default=str)
        names = ("SHOAL_TEST_PASSWORD", "SHOAL_TEST_CARD", "SHOAL_TEST_TOKEN")
        secrets = [os.environ[name] for name in names]
        print("SENT-RAW" if all(secret in sent for secret in secrets) else "SENT-WITHOUT-SECRETS", flush=True)
        return event


    def with_request(event, hint):
        # What a web framework integration adds: the request, its Authorization header with it.
        event["request"] = {
            "method": "POST",
            "url": "https://shop.example.com/checkout/7/pay",
            "headers": {"Authorization": "Bearer " + os.environ["SHOAL_TEST_TOKEN"], "Accept": "*/*"},
        }
        return event


    sentry_sdk.init(
        dsn=sys.argv[1],
        send_default_pii=False,
        event_scrubber=EventScrubber(denylist=[], pii_denylist=[]),
        before_send=before_send,
        # Uncompressed, as a browser SDK sends: the spool then holds the raw strings themselves.
        _experiments={"transport_compression_level": 0},
    )
    sentry_sdk.get_isolation_scope().add_event_processor(with_request)


    class PaymentDeclined(Exception):
        pass


    def charge(order_id):
        password = os.environ["SHOAL_TEST_PASSWORD"]
        card = os.environ["SHOAL_TEST_CARD"]
        raise PaymentDeclined(f"card {card} declined for order {order_id}")


    token = os.environ["SHOAL_TEST_TOKEN"]
    sentry_sdk.add_breadcrumb(
        category="http",
        message=f"GET /api/orders Authorization: Bearer {token}",
        data={"headers": {"Authorization": f"Bearer {token}"}},
    )
    sentry_sdk.set_context("payment", {"card_on_file": os.environ["SHOAL_TEST_CARD"], "provider": "psp"})
    sentry_sdk.set_extra("last_card", os.environ["SHOAL_TEST_CARD"].replace(" ", ""))
    sentry_sdk.set_tag("card", os.environ["SHOAL_TEST_CARD"])
    try:
        charge(7)
    except PaymentDeclined:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=10)
    """
)


def send_secrets(shoal: RunningShoal) -> None:
    env = {
        **os.environ,
        "SHOAL_TEST_PASSWORD": PASSWORD,
        "SHOAL_TEST_CARD": CARD,
        "SHOAL_TEST_TOKEN": TOKEN,
    }
    result = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, shoal.dsn],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "SENT-RAW" in result.stdout, "the SDK did not send the raw secrets: " + result.stdout
    shoal.wait_for_events(1)


def spool_rows(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(data_dir / "spool.db") as db:
        return {
            table: int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("spool", "spool_body", "spool_dead")
        }


def everything_stored(engine: Engine) -> str:
    """Every value of every table of the store as text, event payloads decompressed."""
    codec = PayloadCodec()
    texts: list[str] = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in row._mapping.items():
                    if table is event_table and column == "payload":
                        texts.append(str(codec.decode(value)))
                    elif isinstance(value, bytes | memoryview):
                        texts.append(bytes(value).decode("utf-8", "replace"))
                    else:
                        texts.append(str(value))
    return "\n".join(texts)


def raw_in_files(paths: list[Path]) -> list[tuple[str, str]]:
    found = []
    for path in paths:
        data = path.read_bytes()
        found += [(path.name, secret) for secret in RAW if secret.encode() in data]
    return found


def issue_id_of_the_event(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(issue.c.id)).scalar_one())


def test_no_secret_the_sdk_sent_is_stored_and_the_event_page_shows_filtered(
    shoal_on_each_store: RunningShoal,
) -> None:
    shoal = shoal_on_each_store
    send_secrets(shoal)

    # The spool keeps the request as sent only until the digest has stored the event.
    wait_until(lambda: spool_rows(shoal.data_dir)["spool"] == 0, 30, "the spool entry acknowledged")
    assert spool_rows(shoal.data_dir) == {"spool": 0, "spool_body": 0, "spool_dead": 0}

    stored = everything_stored(shoal.engine)
    assert [secret for secret in RAW if secret in stored] == []
    assert "[Filtered]" in stored
    with shoal.engine.connect() as conn:
        title = conn.execute(select(issue.c.title)).scalar_one()
    assert title == "PaymentDeclined: card [Filtered] declined for order 7"
    if shoal.database_url.startswith("sqlite:///"):
        database = Path(shoal.database_url.removeprefix("sqlite:///"))
        store_files = sorted(database.parent.glob(database.name + "*"))  # with its -wal
        assert database in store_files
        assert raw_in_files(store_files) == []

    page = event_page(shoal)
    assert [secret for secret in RAW if secret in html.unescape(page)] == []
    filtered = re.findall(r'<span class="filtered" title="([^"]*)">\[Filtered\]</span>', page)
    titles = {html.unescape(title) for title in filtered}
    assert "Filtered: a credit card number (@creditcard:filter)" in titles  # the exception, `card`
    assert "Filtered: a bearer token (@bearer:filter)" in titles  # the breadcrumb's message
    sensitive_key = (
        "Filtered: the value of a sensitive key (password, secret, token, auth, …) (@password:filter)"
    )
    assert sensitive_key in titles  # `password`, the Authorization headers
    assert re.search(r'<th scope="row">password</th><td><pre><span class="filtered"', page)

    # Once SQLite has checkpointed its WAL, the spool's file holds no trace of the request either:
    # secure_delete zeroed the body when the digest deleted it.
    shoal.stop()
    with sqlite3.connect(shoal.data_dir / "spool.db") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert raw_in_files(sorted(shoal.data_dir.glob("spool.db*"))) == []


def event_page(shoal: RunningShoal) -> str:
    client = WebClient(shoal)
    client.log_in()
    return client.get(f"/issues/{issue_id_of_the_event(shoal.engine)}/?frames=all")


def test_the_project_settings_change_what_the_next_event_keeps(shoal: RunningShoal) -> None:
    client = FormClient(shoal)
    path = f"/projects/{shoal.project_id}/settings/scrubbing"
    bad = client.post(path, {"enabled": "on", "safe_fields": "x" * 201})
    assert bad.status == 400
    assert "A name has at most 200 characters" in bad.text()

    saved = client.post(
        path, {"enabled": "on", "safe_fields": "password\ncard", "sensitive_fields": "provider"}
    )
    assert saved.status == 200
    assert "Data scrubbing was saved" in saved.text()
    page = client.fetch(f"/projects/{shoal.project_id}/settings/")
    assert 'name="enabled" value="on" checked' in page.body
    assert "password\ncard</textarea>" in page.body

    send_secrets(shoal)
    data = stored_event(shoal.engine)
    frame = next(
        f for f in data["exception"]["values"][0]["stacktrace"]["frames"] if f["function"] == "charge"
    )
    assert frame["vars"]["password"] == f"'{PASSWORD}'"  # a safe field
    assert frame["vars"]["card"] == f"'{CARD}'"
    assert data["contexts"]["payment"]["provider"] == "[Filtered]"  # a sensitive field
    assert data["request"]["headers"]["Authorization"] == "[Filtered]"  # the defaults still apply


def stored_event(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        payload = conn.execute(select(event_table.c.payload)).scalar_one()
    return PayloadCodec().decode(payload)
