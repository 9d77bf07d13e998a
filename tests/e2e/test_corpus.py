"""The 200-envelope real-SDK corpus replayed over HTTP: exactly one issue per group."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from shoal.store.schema import event
from tests.support.corpus import corpus_envelopes
from tests.support.http import auth_header, envelope_url, post
from tests.support.server import RunningShoal


def test_the_corpus_becomes_exactly_fifty_issues_one_per_group(shoal_on_each_store: RunningShoal) -> None:
    shoal = shoal_on_each_store
    envelopes = list(corpus_envelopes())
    for envelope in envelopes:
        reply = post(
            envelope_url(shoal.url, shoal.project_id),
            envelope.gzipped,
            {**envelope.headers, **auth_header(shoal.public_key)},
        )
        assert reply.status == 200, reply.body
        assert reply.json() == {"id": envelope.event_id}
    shoal.wait_for_events(len(envelopes))

    group_of = {e.event_id: e.group for e in envelopes}
    issues_of_group: dict[str, set[int]] = defaultdict(set)
    groups_of_issue: dict[int, set[str]] = defaultdict(set)
    with shoal.engine.connect() as conn:
        for row in conn.execute(select(event.c.event_id, event.c.issue_id)):
            issues_of_group[group_of[row.event_id]].add(row.issue_id)
            groups_of_issue[row.issue_id].add(group_of[row.event_id])
    assert len(issues_of_group) == 50
    assert all(len(issues) == 1 for issues in issues_of_group.values()), issues_of_group
    assert all(len(groups) == 1 for groups in groups_of_issue.values()), groups_of_issue
    assert shoal.issue_count() == 50
