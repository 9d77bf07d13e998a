"""An event may carry NUL characters anywhere (JSON allows \\u0000); PostgreSQL's text columns
refuse them. The event is stored all the same, on both stores, its text readable."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from shoal.digest.pipeline import without_nul_characters
from shoal.store.schema import event, issue, issue_tag
from tests.support.alerting import DigestHarness, error_event


def test_an_event_with_nul_characters_is_stored_on_both_stores(engine: Engine, tmp_path: Path) -> None:
    harness = DigestHarness(engine, tmp_path)
    nasty = error_event("Key\x00Error", "check\x00out", tags={"sh\x00ard": "e\x00u"}, release="v1\x00")
    nasty["exception"]["values"][0]["value"] = "boom\x00boom"
    harness.send(nasty)
    with engine.connect() as conn:
        assert conn.execute(select(event.c.event_id)).scalars().all() == [nasty["event_id"]]
        title = conn.execute(select(issue.c.title)).scalar_one()
        tags = conn.execute(select(issue_tag.c.key, issue_tag.c.value)).all()
    assert title == "Key\ufffdError: boom\ufffdboom"
    assert ("release", "v1\ufffd") in tags  # (a tag key with a NUL is not a valid key: dropped)


def test_an_escaped_backslash_before_u0000_is_text_and_stays() -> None:

    assert (
        without_nul_characters(rb'{"a": "\\u0000", "b": "\\\u0000"}') == rb'{"a": "\\u0000", "b": "\\\ufffd"}'
    )
