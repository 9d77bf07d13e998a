"""Where a digest worker's time goes: each stage of the pipeline timed in-process on the corpus.

    .venv/bin/python bench/digest_stages.py [ROUNDS]

Runs every corpus envelope through the same functions the worker calls (`shoal.digest.pipeline`),
one stage at a time, ROUNDS times (default 20), and prints microseconds per event for each stage.
No server, no database: this is the CPU cost of digesting, the part the end-to-end benchmark cannot
split up. The store transaction is measured by `bench/run_bench.sh`, not here.
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from shoal.digest.grouping import DEFAULT_CONFIG_ID, calculate_grouping
from shoal.digest.normalize import NormalizeContext, normalize_event
from shoal.digest.summary import summarize
from shoal.digest.tags import event_tags
from shoal.digest.trimming import serialize
from shoal.ingest.envelope import parse_envelope
from shoal.store.events import PayloadCodec

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "corpus"


def corpus_bodies() -> list[bytes]:
    gz = (CORPUS / "envelopes.gz").read_bytes()
    bodies = []
    for line in (CORPUS / "index.jsonl").read_text().splitlines():
        entry = json.loads(line)
        bodies.append(gz[entry["gz_off"] : entry["gz_off"] + entry["gz_len"]])
    return bodies


def timed(label: str, rounds: int, inputs: list[Any], stage: Callable[[Any], Any]) -> list[Any]:
    """Run `stage` over every input `rounds` times; print µs per input; return the last outputs."""
    outputs: list[Any] = []
    started = time.perf_counter()
    for _ in range(rounds):
        outputs = [stage(value) for value in inputs]
    elapsed = time.perf_counter() - started
    print(f"{label:<22}{elapsed / (rounds * len(inputs)) * 1e6:8.1f} µs")
    return outputs


def event_payload(body: bytes) -> bytes:
    items = [item for item in parse_envelope(body).items if item.type == "event"]
    return items[0].payload


def main(rounds: int) -> None:
    codec = PayloadCodec()
    context = NormalizeContext(time.time(), None, None, "127.0.0.1")
    print(f"{len(corpus_bodies())} corpus events × {rounds} rounds, per event:")
    bodies = timed("gunzip", rounds, corpus_bodies(), gzip.decompress)
    payloads = timed("split envelope", rounds, bodies, event_payload)
    parsed = timed("parse JSON", rounds, payloads, orjson.loads)
    events = timed("normalize", rounds, parsed, lambda raw: normalize_event(raw, context))
    timed("group", rounds, events, lambda event: calculate_grouping(event, DEFAULT_CONFIG_ID))
    timed("summary and tags", rounds, events, lambda event: (summarize(event), event_tags(event)))
    serialized = timed("serialize", rounds, events, serialize)
    timed("compress", rounds, serialized, codec.encode)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
