"""Re-create the Python events of the conformance suite with the real sentry-sdk.

    .venv/bin/python tests/digest/grouping/conformance/make_python_events.py

Writes a small application (`shopapp`) to a scratch directory, runs each scenario under the real
sentry-sdk with a transport that keeps the events instead of sending them, and stores each event,
trimmed of what grouping never reads, as `events/python/<scenario>.json`. The expected grouping of
each event is not produced here: it is written by hand in `expected.json`, from the application's
source below and docs/grouping.md, and compared by test_conformance.py.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

HERE = Path(__file__).parent
OUT = HERE / "events" / "python"
# Keys grouping reads; the rest of what the SDK sends (modules, contexts, breadcrumbs…) is dropped
# to keep the fixtures readable.
KEPT = (
    "platform",
    "level",
    "logger",
    "message",
    "logentry",
    "exception",
    "threads",
    "fingerprint",
    "tags",
    "sdk",
)

SHOPAPP = {
    "__init__.py": "",
    "runner.py": """
        import sentry_sdk

        def run_case(scenario):
            try:
                scenario()
            except BaseException:
                sentry_sdk.capture_exception()

        def report(text):
            sentry_sdk.capture_message(text)
    """,
    "cart.py": """
        PRICES = {"apple": 1}

        def price_of(sku):
            return PRICES[sku]

        def add(sku):
            return price_of(sku)

        def add_other(sku):
            return PRICES[sku] + 1
    """,
    "orders.py": """
        import json

        class OrderError(Exception):
            pass

        def parse(body):
            return json.loads(body)

        def load(body):
            try:
                return parse(body)
            except ValueError as exc:
                raise OrderError("order 4711 could not be read") from exc

        def load_implicit(body):
            try:
                return parse(body)
            except ValueError:
                raise OrderError("order 4711 could not be read")

        def total(order_id):
            raise OrderError(f"order {order_id} has no lines")
    """,
    "payments.py": """
        class StripeError(Exception):
            def __init__(self, message, code):
                super().__init__(message)
                self.code = code

        class DatabaseConnectionError(Exception):
            pass

        def charge(code):
            raise StripeError("Your card was declined.", code)

        def connect(host):
            raise DatabaseConnectionError(f"connection to {host}:5432 refused")

        def connect_replica(host):
            raise DatabaseConnectionError(f"connection to {host}:5432 refused")
    """,
    "recursion.py": """
        def walk(depth):
            if depth == 0:
                raise RecursionError("too deep")
            return walk(depth - 1)
    """,
    "longline.py": """
        def check(value):
            raise ValueError("bad value") if value is None or value == "" or value == "n/a" or value == "unknown" or value == "-" else None
    """,
    "groups.py": """
        def two_types():
            raise ExceptionGroup("batch failed", [ValueError("bad row 1"), KeyError("missing col")])

        def same_type():
            raise ExceptionGroup("batch failed", [ValueError("bad row 1"), ValueError("bad row 2")])

        def nested():
            inner = ExceptionGroup("inner", [TypeError("wrong type")])
            raise ExceptionGroup("outer", [inner, ValueError("bad row 3")])
    """,
}


class KeepingTransport(Transport):
    """Keeps what the SDK would send."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        event = envelope.get_event()
        if event is not None:
            self.events.append(dict(event))


def write_shopapp(root: Path) -> None:
    package = root / "shopapp"
    package.mkdir()
    for name, source in SHOPAPP.items():
        (package / name).write_text(textwrap.dedent(source).lstrip())


def scenarios() -> dict[str, Callable[[], None]]:
    from shopapp import cart, groups, longline, orders, payments, recursion, runner  # type: ignore[import-not-found]

    def exception_case(call: Callable[..., Any], *args: Any, **scope: Any) -> Callable[[], None]:
        def run() -> None:
            with sentry_sdk.new_scope() as current:
                for key, value in scope.items():
                    if key == "fingerprint":
                        current.fingerprint = value
                    else:
                        current.set_tag(key, value)
                runner.run_case(functools.partial(call, *args))

        return run

    def message_case(text: str, level: str = "info", **scope: Any) -> Callable[[], None]:
        def run() -> None:
            with sentry_sdk.new_scope() as current:
                if "fingerprint" in scope:
                    current.fingerprint = scope["fingerprint"]
                sentry_sdk.capture_message(text, level=level)  # type: ignore[arg-type]

        return run

    def log_case(template: str, *args: Any) -> Callable[[], None]:
        def run() -> None:
            logging.getLogger("shopapp.jobs").error(template, *args)

        return run

    def message_with_stack(text: str) -> Callable[[], None]:
        """A message with attach_stacktrace on: the SDK sends the calling thread's stack."""

        def run() -> None:
            options = sentry_sdk.get_client().options
            options["attach_stacktrace"] = True
            try:
                runner.report(text)
            finally:
                options["attach_stacktrace"] = False

        return run

    def logged_exception() -> None:
        try:
            cart.add("kiwi")
        except KeyError:
            logging.getLogger("shopapp.cart").exception("could not add to cart")

    return {
        "key_error": exception_case(cart.add, "pear"),
        "key_error_other_sku": exception_case(cart.add, "plum"),
        "key_error_other_path": exception_case(cart.add_other, "pear"),
        "json_error_in_stdlib": exception_case(orders.parse, "{not json"),
        "chained_from": exception_case(orders.load, "{not json"),
        "chained_implicit": exception_case(orders.load_implicit, "{not json"),
        "value_with_number": exception_case(orders.total, 4711),
        "value_with_other_number": exception_case(orders.total, 815),
        "stripe_declined": exception_case(
            payments.charge, "card_declined", fingerprint=["stripe-error", "card_declined"]
        ),
        "stripe_expired": exception_case(
            payments.charge, "expired_card", fingerprint=["stripe-error", "expired_card"]
        ),
        "db_connection_custom": exception_case(
            payments.connect, "10.0.0.5", fingerprint=["database-connection-error"]
        ),
        "db_connection_hybrid": exception_case(
            payments.connect, "10.0.0.5", fingerprint=["{{ default }}", "primary"]
        ),
        "db_connection_variables": exception_case(
            payments.connect_replica,
            "10.0.0.6",
            fingerprint=["{{ type }}", "{{ function }}", "{{ tags.shard }}"],
            shard="eu-1",
        ),
        "db_connection_unknown_variable": exception_case(
            payments.connect, "10.0.0.5", fingerprint=["{{ nonsense }}"]
        ),
        "db_connection_message_variable": exception_case(
            payments.connect, "10.0.0.5", fingerprint=["{{ message }}"]
        ),
        "db_connection_rule": exception_case(payments.connect, "10.0.0.5"),
        "db_connection_rule_by_path": exception_case(payments.connect_replica, "10.0.0.6"),
        "db_connection_rule_by_tag": exception_case(payments.connect, "10.0.0.5", shard="eu-2"),
        "db_connection_negated_rule": exception_case(payments.connect, "10.0.0.5"),
        "recursion": exception_case(recursion.walk, 3),
        "long_context_line": exception_case(longline.check, None),
        "group_two_types": exception_case(groups.two_types),
        "group_same_type": exception_case(groups.same_type),
        "group_nested": exception_case(groups.nested),
        "stack_rule_minus_group": exception_case(cart.add, "pear"),
        "stack_rule_v_group": exception_case(cart.add, "pear"),
        "stack_rule_caret_group": exception_case(cart.add, "pear"),
        "stack_rule_max_frames": exception_case(cart.add, "pear"),
        "stack_rule_min_frames": exception_case(cart.add, "pear"),
        "stack_rule_minus_app": exception_case(cart.add, "pear"),
        "stack_rule_category": exception_case(cart.add, "pear"),
        "stack_rule_plus_app": exception_case(orders.parse, "{not json"),
        "stack_rule_plus_group_overrides": exception_case(cart.add, "pear"),
        "fingerprint_rule_caller": exception_case(cart.add, "pear"),
        "fingerprint_rule_caller_missed": exception_case(cart.add, "pear"),
        "thread_stack_message": message_with_stack("stock level 4711 below threshold"),
        "logged_exception": logged_exception,
        "log_template": log_case("retry %s of %s failed for order %s", 3, 5, 4711),
        "log_template_other_args": log_case("retry %s of %s failed for order %s", 1, 5, 815),
        "message_numbers": message_case("Payment 4711 took 250ms for 3 items"),
        "message_uuid_email_ip": message_case(
            "user ana@example.com from 10.1.2.3 hit 550e8400-e29b-41d4-a716-446655440000", level="warning"
        ),
        "message_date_hex": message_case("sync at 2026-11-25T05:30:00Z failed with 0xdeadbeef"),
        "message_two_lines": message_case("first line\nsecond line\nthird line"),
        "message_fingerprint_logger": message_case(
            "inventory out of sync", fingerprint=["{{ logger }}", "{{ level }}"]
        ),
        "message_fingerprint_rule_level": message_case("inventory out of sync", level="error"),
    }


def trimmed(event: dict[str, Any]) -> dict[str, Any]:
    kept = {key: event[key] for key in KEPT if key in event}
    owners = [
        *(kept.get("exception") or {}).get("values", []),
        *(kept.get("threads") or {}).get("values", []),
    ]
    for owner in owners:
        for frame in (owner.get("stacktrace") or {}).get("frames", []):
            for key in ("vars", "pre_context", "post_context"):
                frame.pop(key, None)
            # The scratch directory differs on every run; grouping never reads it here.
            for key in ("abs_path", "filename"):
                if isinstance(frame.get(key), str) and "/shopapp/" in frame[key]:
                    frame[key] = "/srv/" + frame[key][frame[key].index("shopapp/") :]
    kept["sdk"] = {"name": event["sdk"]["name"], "version": event["sdk"]["version"]}
    return kept


def main() -> None:
    transport = KeepingTransport()
    with tempfile.TemporaryDirectory() as scratch:
        # The application's own directory is its project root, as in a deployment where the SDK
        # starts in it: its frames are in app, the standard library's are not.
        sentry_sdk.init(transport=transport, project_root=scratch)
        write_shopapp(Path(scratch))
        sys.path.insert(0, scratch)
        OUT.mkdir(parents=True, exist_ok=True)
        for name, run in scenarios().items():
            before = len(transport.events)
            run()
            sentry_sdk.flush()
            (event,) = transport.events[before:]
            (OUT / f"{name}.json").write_text(json.dumps(trimmed(event), indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(scenarios_written())} events to {OUT}")


def scenarios_written() -> list[Path]:
    return sorted(OUT.glob("*.json"))


if __name__ == "__main__":
    main()
