"""The real sentry-sdk, in its own process, pointed at the DSN `shoal run` printed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from sqlalchemy import select

from shoal.store.schema import issue, issue_tag
from tests.support.server import RunningShoal

SDK_SCRIPT = textwrap.dedent(
    """
    import sys
    import sentry_sdk

    sentry_sdk.init(dsn=sys.argv[1], release="shop@1.2.3", environment="staging", debug=True)

    def checkout(order_id):
        return {"total": 10}["discount"]

    def parse_quantity(text):
        return int(text)

    def divide(a, b):
        return a / b

    for user_id in range(5):
        with sentry_sdk.new_scope() as scope:
            scope.set_user({"id": str(user_id % 3)})
            scope.set_tag("shop", "berlin")
            try:
                checkout(user_id)
            except KeyError:
                sentry_sdk.capture_exception()

    try:
        parse_quantity("three")
    except ValueError:
        sentry_sdk.capture_exception()

    try:
        divide(1, 0)
    except ZeroDivisionError:
        sentry_sdk.capture_exception()

    sentry_sdk.capture_message("Payment provider is slow")
    sentry_sdk.capture_message("Inventory sync finished with warnings", level="warning")
    sentry_sdk.flush(timeout=10)
    """
)


def run_sdk(dsn: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, dsn], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_python_sdk_sees_only_200s_and_its_events_become_five_issues(
    shoal_on_each_store: RunningShoal,
) -> None:
    shoal = shoal_on_each_store
    result = run_sdk(shoal.dsn)
    assert result.returncode == 0, result.stderr
    # sentry-python logs every non-2xx answer as "Unexpected status code" (transport.py).
    assert "Unexpected status code" not in result.stderr

    shoal.wait_for_events(9)
    with shoal.engine.connect() as conn:
        issues = {row.title: row for row in conn.execute(select(issue))}
        assert len(issues) == 5
        repeated = issues["KeyError: 'discount'"]
        assert repeated.times_seen == 5
        assert repeated.users_seen == 3
        assert repeated.first_release == "shop@1.2.3"
        assert repeated.culprit == "__main__ in checkout"
        tags = {
            (row.key, row.value): row.times_seen
            for row in conn.execute(select(issue_tag).where(issue_tag.c.issue_id == repeated.id))
        }
    assert tags[("shop", "berlin")] == 5
    assert tags[("environment", "staging")] == 5
    assert tags[("release", "shop@1.2.3")] == 5
    assert {value for key, value in tags if key == "user"} == {"id:0", "id:1", "id:2"}
    assert {title for title in issues if title != "KeyError: 'discount'"} == {
        "ValueError: invalid literal for int() with base 10: 'three'",
        "ZeroDivisionError: division by zero",
        "Payment provider is slow",
        "Inventory sync finished with warnings",
    }
    assert issues["Inventory sync finished with warnings"].level == "warning"
