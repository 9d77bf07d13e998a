"""The real-SDK benchmark corpus (../shared/bench/corpus): 200 envelopes from sentry-sdk 2.75.0,
50 error groups × 4. Located by SHOAL_BENCH_CORPUS; tests that need it skip when it is absent."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("SHOAL_BENCH_CORPUS", REPO.parent / "shared" / "bench" / "corpus"))


@dataclass(frozen=True)
class CorpusEnvelope:
    group: str
    event_id: str
    headers: dict[str, str]
    gzipped: bytes
    raw: bytes


def corpus_envelopes() -> Iterator[CorpusEnvelope]:
    if not (CORPUS / "index.jsonl").exists():
        pytest.skip(f"the benchmark corpus is not at {CORPUS} (set SHOAL_BENCH_CORPUS)")
    gz = (CORPUS / "envelopes.gz").read_bytes()
    raw = (CORPUS / "envelopes.raw").read_bytes()
    for line in (CORPUS / "index.jsonl").read_text().splitlines():
        entry = json.loads(line)
        yield CorpusEnvelope(
            group=entry["group"],
            event_id=entry["event_id"],
            headers=entry["headers"],
            gzipped=gz[entry["gz_off"] : entry["gz_off"] + entry["gz_len"]],
            raw=raw[entry["raw_off"] : entry["raw_off"] + entry["raw_len"]],
        )
