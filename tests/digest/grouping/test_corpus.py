"""On the real-SDK corpus (../shared/bench/corpus: sentry-sdk 2.75.0, 50 error groups × 4 events),
grouping alone gives each group one primary hash of its own, in both configs."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from shoal.digest.grouping import CONFIG_IDS, calculate_grouping

REPO = Path(__file__).resolve().parents[3]
# Relative to the repository's root unless absolute.
CORPUS = REPO / os.environ.get("SHOAL_BENCH_CORPUS", "../shared/bench/corpus")


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, dict[str, Any]]]:
    """(group, event) for every envelope of the corpus."""
    if not (CORPUS / "index.jsonl").exists():
        pytest.skip(f"the benchmark corpus is not at {CORPUS} (set SHOAL_BENCH_CORPUS)")
    raw = (CORPUS / "envelopes.raw").read_bytes()
    found = []
    for line in (CORPUS / "index.jsonl").read_text().splitlines():
        entry = json.loads(line)
        envelope = raw[entry["raw_off"] : entry["raw_off"] + entry["raw_len"]]
        found.append((entry["group"], event_in(envelope)))
    return found


def event_in(envelope: bytes) -> dict[str, Any]:
    """The payload of the envelope's "event" item: the envelope header line, then items, each an
    item header line with the payload's length, the payload and a newline."""
    _, rest = envelope.split(b"\n", 1)
    while rest:
        item_header, rest = rest.split(b"\n", 1)
        header = json.loads(item_header)
        payload, rest = rest[: header["length"]], rest[header["length"] + 1 :]
        if header["type"] == "event":
            event: dict[str, Any] = json.loads(payload)
            return event
    raise AssertionError("the envelope has no event item")


@pytest.mark.parametrize("config_id", CONFIG_IDS)
def test_each_corpus_group_has_one_primary_hash_of_its_own(
    corpus: list[tuple[str, dict[str, Any]]], config_id: str
) -> None:
    primary_hashes: dict[str, list[str]] = defaultdict(list)
    for group, event in corpus:
        primary_hashes[group].append(calculate_grouping(event, config_id).hashes[0])
    assert len(primary_hashes) == 50
    assert all(len(hashes) == 4 for hashes in primary_hashes.values())
    split = {group: hashes for group, hashes in primary_hashes.items() if len(set(hashes)) != 1}
    assert not split, split
    assert len({hashes[0] for hashes in primary_hashes.values()}) == 50
