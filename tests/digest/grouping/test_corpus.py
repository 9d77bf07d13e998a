"""On the real-SDK corpus, grouping alone already gives one hash per group, in both configs."""

from __future__ import annotations

from collections import defaultdict

import orjson
import pytest

from shoal.digest.grouping import CONFIG_IDS, calculate_grouping
from shoal.digest.normalize import NormalizeContext, normalize_event
from shoal.ingest.envelope import parse_envelope
from tests.support.corpus import corpus_envelopes


@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_each_corpus_group_has_one_primary_hash_of_its_own(config_id: str) -> None:
    primary_hashes: dict[str, set[str]] = defaultdict(set)
    for envelope in corpus_envelopes():
        (item,) = [item for item in parse_envelope(envelope.raw).items if item.type == "event"]
        event = normalize_event(
            orjson.loads(item.payload), NormalizeContext(1_795_540_000.0, None, None, None)
        )
        primary_hashes[envelope.group].add(calculate_grouping(event, config_id).hashes[0])
    assert len(primary_hashes) == 50
    assert all(len(hashes) == 1 for hashes in primary_hashes.values()), primary_hashes
    assert len({next(iter(hashes)) for hashes in primary_hashes.values()}) == 50
