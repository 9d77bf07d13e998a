"""The fingerprints of the team we build for (reference/seed-chapter.txt), from a real `before_send`
in the real sentry-sdk: database connection errors in one issue whatever their stack, Stripe errors
split by their code, Redis connection errors in one issue."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from sqlalchemy import select

from shoal.store.schema import issue
from tests.support.server import RunningShoal

SDK_SCRIPT = textwrap.dedent(
    """
    import sys
    import sentry_sdk

    # The chapter's before_send, as it is written there.
    def before_send(event, hint):
        exception = hint.get("exc_info")
        if exception is None:
            return event
        exc_type, exc_value, _ = exception
        if "connection" in str(exc_value).lower() and "refused" in str(exc_value).lower():
            event["fingerprint"] = ["database-connection-error"]
        if exc_type.__name__ == "StripeError":
            stripe_code = getattr(exc_value, "code", "unknown")
            event["fingerprint"] = ["stripe-error", stripe_code]
        if exc_type.__name__ in ("ConnectionError", "TimeoutError") and "redis" in str(exc_value).lower():
            event["fingerprint"] = ["redis-connection-error"]
        return event

    sentry_sdk.init(dsn=sys.argv[1], before_send=before_send)

    class DatabaseConnectionError(Exception):
        pass

    class StripeError(Exception):
        def __init__(self, message, code):
            super().__init__(message)
            self.code = code

    def load_orders():
        raise DatabaseConnectionError("connection to 10.0.0.5:5432 refused")

    def load_customers(retry):
        if retry:
            raise DatabaseConnectionError("connection refused by db-replica-2")
        raise DatabaseConnectionError("Connection refused (after 3 attempts)")

    def charge(code):
        raise StripeError("Your card was declined.", code)

    def refund(code):
        raise StripeError("Refund failed.", code)

    def read_cache():
        raise ConnectionError("Error 111 connecting to redis:6379. Connection reset.")

    def write_session():
        raise TimeoutError("Timeout writing to redis cluster")

    def report(call, *args):
        try:
            call(*args)
        except Exception:
            sentry_sdk.capture_exception()

    report(load_orders)
    report(load_customers, False)
    report(load_customers, True)
    report(charge, "card_declined")
    report(refund, "card_declined")
    report(charge, "expired_card")
    report(read_cache)
    report(write_session)
    sentry_sdk.flush(timeout=10)
    """
)


def test_the_chapters_before_send_fingerprints_group_as_it_intends(shoal: RunningShoal) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, shoal.dsn], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    shoal.wait_for_events(8)
    with shoal.engine.connect() as conn:
        rows = conn.execute(select(issue.c.title, issue.c.times_seen)).all()
    counts = sorted((title.split(":")[0], times_seen) for title, times_seen in rows)
    assert counts == [
        ("DatabaseConnectionError", 3),  # three stacks, two functions, one issue
        ("StripeError", 1),  # expired_card
        ("StripeError", 2),  # card_declined, from charge and from refund
        ("TimeoutError", 2),  # redis: a ConnectionError and a TimeoutError, titled by the newest
    ]
