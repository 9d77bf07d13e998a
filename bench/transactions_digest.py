"""What a transaction costs the digest next to an error: items per second of one digest worker on
SQLite, in-process, with the garbage collector set as `shoal worker` sets it; what a stored
transaction weighs; and how long the Performance page's scan takes over many transactions.

    .venv/bin/python bench/transactions_digest.py [ITEMS] [ROUNDS]

Errors are the corpus envelopes, with fresh event ids and timestamps as bench/alert_rules.py
rewrites them. Transactions are made by the
real sentry-sdk (a FastAPI-like request: 12 spans of db, cache, http.client and template ops),
caught by a transport that keeps the envelopes, and given fresh event ids. Each round spools ITEMS
(default 5,000) of one kind into a fresh spool and store and times one worker until the spool is
empty; rounds alternate kinds, so the machine's drift hits both alike.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport
from sqlalchemy import Engine, func, select

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.digest.pipeline import DigestLimits
from shoal.digest.worker import DigestWorker, collect_garbage_less_often
from shoal.spool.base import SpoolEntry
from shoal.spool.sqlite import SqliteSpool
from shoal.store import projects, transaction_stats
from shoal.store.db import create_store_engine, write_transaction
from shoal.store.migrate import migrate
from shoal.store.schema import transaction_event
from shoal.store.transactions import NewTransaction, store_transactions

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "corpus"
LIMITS = DigestLimits(max_envelope_bytes=100 * 1024 * 1024, max_event_bytes=1024 * 1024)
TEMPLATES = 50  # distinct SDK-made transactions, replayed with fresh ids
SPAN_OPS = ("db", "db", "cache.get", "http.client", "db", "template.render")


class KeepEnvelopes(Transport):
    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)


def sdk_transactions() -> list[dict[str, Any]]:
    """TEMPLATES transactions as sentry-sdk serializes them, each with 12 spans."""
    transport = KeepEnvelopes()
    sentry_sdk.init(dsn="http://public@127.0.0.1/1", transport=transport, traces_sample_rate=1.0)
    names = ["app.main.list_items", "app.main.get_user", "app.main.search", "app.main.slow_report"]
    for n in range(TEMPLATES):
        with sentry_sdk.start_transaction(op="http.server", name=names[n % len(names)]):
            for i in range(12):
                op = SPAN_OPS[i % len(SPAN_OPS)]
                with sentry_sdk.start_span(op=op, name=f"{op} step {i} WHERE id = %s"):
                    pass
    sentry_sdk.flush()
    payloads = [
        item.payload.json for e in transport.envelopes for item in e.items if item.type == "transaction"
    ]
    sentry_sdk.init()  # off again: the rest of the run sends nothing
    return [p for p in payloads if p is not None]


def error_bodies(count: int) -> Iterator[tuple[str, bytes]]:
    """Corpus envelopes, each with a new event id and the time of now where the corpus says."""
    raw = (CORPUS / "envelopes.raw").read_bytes()
    index = [json.loads(line) for line in (CORPUS / "index.jsonl").read_text().splitlines()]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()).encode()
    for n in range(count):
        entry = index[n % len(index)]
        body, event_id = raw[entry["raw_off"] : entry["raw_off"] + entry["raw_len"]], uuid.uuid4().hex
        parts, position = [], 0
        for offset, length, kind in sorted(entry["rewrite"]):
            parts += [body[position:offset], event_id.encode() if kind == "event_id" else stamp]
            position = offset + length
        yield event_id, b"".join([*parts, body[position:]])


def transaction_bodies(count: int, templates: list[dict[str, Any]]) -> Iterator[tuple[str, bytes]]:
    # The SDK made them moments ago, so their timestamps are kept: only the ids are new.
    for n in range(count):
        event_id = uuid.uuid4().hex
        body = orjson.dumps({**templates[n % len(templates)], "event_id": event_id})
        header = orjson.dumps({"event_id": event_id})
        item = orjson.dumps({"type": "transaction", "content_type": "application/json", "length": len(body)})
        yield event_id, header + b"\n" + item + b"\n" + body + b"\n"


def one_round(bodies: Iterator[tuple[str, bytes]], items: int) -> tuple[float, Engine, Path]:
    scratch = Path(tempfile.mkdtemp())
    engine = create_store_engine(f"sqlite:///{scratch}/shoal.db")
    migrate(engine)
    with write_transaction(engine) as conn:
        org = projects.create_organization(conn, "bench", "Bench")
        project_id = projects.create_project(conn, org, "bench", "python", DEFAULT_CONFIG_ID).id
    spool = SqliteSpool(scratch / "spool.db", durable_writes=False)
    spool.append(
        [SpoolEntry(project_id, "envelope", time.time(), eid, None, "", body) for eid, body in bodies]
    )
    worker = DigestWorker(spool, engine, LIMITS, lease_seconds=600)
    started = time.perf_counter()
    while worker.run_once():
        pass
    elapsed = time.perf_counter() - started
    spool.close()
    return items / elapsed, engine, scratch


def row_bytes(engine: Engine) -> tuple[float, float]:
    """Mean bytes of a transaction's summary fields and of its compressed spans (where kept)."""
    c = transaction_event.c
    summary = (
        func.length(c.name) + func.length(c.span_ops) + func.length(c.event_id) + func.length(c.trace_id)
    )
    with engine.connect() as conn:
        fields = conn.execute(select(func.avg(summary))).scalar_one()
        spans = conn.execute(select(func.avg(func.length(c.spans)))).scalar_one()
    return float(fields) + 80, float(spans or 0)  # + the numbers, ids and row header, ~80 bytes


def ranking_scan(count: int) -> float:
    """Seconds for the Performance page's query over `count` transactions of one window."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_store_engine(f"sqlite:///{scratch}/shoal.db")
        migrate(engine)
        with write_transaction(engine) as conn:
            org = projects.create_organization(conn, "bench", "Bench")
            project_id = projects.create_project(conn, org, "bench", "python", DEFAULT_CONFIG_ID).id
            now = time.time()
            rng = random.Random(1)
            store_transactions(
                conn, [_row(project_id, now - rng.random() * 86_000, rng) for _ in range(count)]
            )
        started = time.perf_counter()
        with engine.connect() as conn:
            transaction_stats.transaction_ranking(conn, project_id, now - 86_400, now + 1)
        elapsed = time.perf_counter() - started
        engine.dispose()
    return elapsed


def _row(project_id: int, start: float, rng: random.Random) -> NewTransaction:
    return NewTransaction(
        project_id, uuid.uuid4().hex, uuid.uuid4().hex, "b" * 16, f"app.main.route_{rng.randrange(20)}",
        "http.server", "ok", start, rng.expovariate(1 / 30), start, "1.0", "production", 12, "{}", None,
    )  # fmt: skip


def main(items: int, rounds: int) -> None:
    collect_garbage_less_often()
    templates = sdk_transactions()
    kinds: dict[str, Callable[[], Iterator[tuple[str, bytes]]]] = {
        "errors": lambda: error_bodies(items),
        "transactions": lambda: transaction_bodies(items, templates),
    }
    rates: dict[str, list[float]] = {kind: [] for kind in kinds}
    for n in range(rounds):
        for kind, bodies in kinds.items():
            rate, engine, _ = one_round(bodies(), items)
            rates[kind].append(rate)
            print(f"round {n + 1} {kind:<13}{rate:9.0f} items/s", flush=True)
            if kind == "transactions" and n == rounds - 1:
                fields, spans = row_bytes(engine)
                print(
                    f"a stored transaction: ~{fields:.0f} bytes of row, {spans:.0f} bytes of spans where kept"
                )
            engine.dispose()
            gc.collect()
    for kind, found in rates.items():
        print(f"median {kind:<12}{statistics.median(found):9.0f} items/s")
    for count in (10_000, 100_000):
        print(f"ranking over {count:,} transactions: {ranking_scan(count) * 1000:.0f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
