"""What server-side PII scrubbing costs the digest: microseconds per corpus event.

    .venv/bin/python bench/scrub_cost.py [ROUNDS]          # the scrubber (default 20 rounds)
    .venv/bin/python bench/scrub_cost.py --spool [ROUNDS]  # the spool with secure_delete on / off

Normalizes every corpus envelope's event as the digest does (`bench/digest_stages.py`), then times
`shoal.digest.scrub.scrub_event` on fresh copies of them with the default settings, with sensitive
fields and IP scrubbing on, and off, in CPU time (other processes on the machine do not count); it
also says how many events had something removed. The garbage collector is set as in a digest
worker (`collect_garbage_less_often`). No server, no database.

`--spool` appends the corpus bodies, uncompressed (as a browser SDK sends them) and gzipped (as
sentry-python does), to a fresh SQLite spool in batches of 1,024, claims and acks them, with
`PRAGMA secure_delete` on and off, and prints the wall-clock time per entry of the append
(ingest's side, one fsync a batch) and of claim + ack (the digest's side).
"""

from __future__ import annotations

import gc
import gzip
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from digest_stages import corpus_bodies, event_payload

from shoal.digest.normalize import NormalizeContext, normalize_event
from shoal.digest.scrub import scrub_event
from shoal.digest.worker import collect_garbage_less_often
from shoal.spool.base import SpoolEntry
from shoal.spool.sqlite import SqliteSpool
from shoal.store.projects import ScrubbingSettings


def corpus_events() -> list[dict[str, Any]]:
    context = NormalizeContext(time.time(), None, None, "127.0.0.1")
    return [
        normalize_event(orjson.loads(event_payload(gzip.decompress(body))), context)
        for body in corpus_bodies()
    ]


def time_scrub(label: str, events: list[dict[str, Any]], settings: ScrubbingSettings, rounds: int) -> None:
    """Best of `rounds`; each round scrubs fresh copies (the scrubber changes events in place), made
    before the clock starts."""
    originals = [orjson.dumps(event) for event in events]
    scrub_event(orjson.loads(originals[0]), settings)  # compile the settings once, as a worker does
    best = float("inf")
    for _ in range(rounds):
        fresh = [orjson.loads(original) for original in originals]
        gc.collect()
        started = time.process_time()
        for event in fresh:
            scrub_event(event, settings)
        best = min(best, time.process_time() - started)
    changed = sum(
        1 for original in originals if orjson.dumps(scrub_event(orjson.loads(original), settings)) != original
    )
    print(f"{label:<44}{best / len(events) * 1e6:8.1f} µs   ({changed} of {len(events)} events changed)")


def main(rounds: int) -> None:
    collect_garbage_less_often()  # as a digest worker does
    events = corpus_events()
    print(f"{len(events)} corpus events, best of {rounds} rounds, per event:")
    time_scrub("default settings", events, ScrubbingSettings(), rounds)
    extra = ScrubbingSettings(sensitive_fields=("iban_no", "customer_ref"), scrub_ip_addresses=True)
    time_scrub("+ 2 sensitive fields, scrub IP addresses", events, extra, rounds)
    time_scrub("scrubbing off", events, ScrubbingSettings(enabled=False), rounds)


def spool_cost(rounds: int) -> None:
    """Wall-clock time (the spool's cost is writing, not computing), per entry."""
    compressed = corpus_bodies()
    for label, bodies, encoding in (
        ("uncompressed, as a browser SDK sends", [gzip.decompress(body) for body in compressed], "identity"),
        ("gzip, as sentry-python sends", compressed, "gzip"),
    ):
        batch = [
            SpoolEntry(1, "envelope", time.time(), None, "127.0.0.1", encoding, bodies[i % len(bodies)])
            for i in range(1024)
        ]
        size = sum(len(entry.body) for entry in batch) // len(batch)
        print(f"{len(batch)} corpus envelopes a batch, {label} ({size:,} bytes), best of {rounds}, each:")
        for secure in (False, True):
            append, ack = _spool_round_trip(batch, secure, rounds)
            print(
                f"  secure_delete={'ON ' if secure else 'OFF'}  append {append * 1e6:6.1f} µs"
                f"   claim + ack {ack * 1e6:6.1f} µs"
            )


def _spool_round_trip(batch: list[SpoolEntry], secure: bool, rounds: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as directory:
        ingest = SqliteSpool(Path(directory) / "spool.db", durable_writes=True)
        digest = SqliteSpool(Path(directory) / "spool.db", durable_writes=False)
        for spool in (ingest, digest):
            spool._db.execute(f"PRAGMA secure_delete={'ON' if secure else 'OFF'}")
        append = ack = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            ingest.append(batch)
            middle = time.perf_counter()
            claimed = digest.claim(len(batch), 60)
            digest.ack([c.id for c in claimed])
            ended = time.perf_counter()
            append, ack = min(append, middle - started), min(ack, ended - middle)
        ingest.close()
        digest.close()
    return append / len(batch), ack / len(batch)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--spool":
        spool_cost(int(args[1]) if len(args) > 1 else 10)
    else:
        main(int(args[0]) if args else 20)
