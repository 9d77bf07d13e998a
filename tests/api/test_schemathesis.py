"""schemathesis against the OpenAPI document of `/api/0/` (`GET /api/0/schema/`), on a real
`shoal run` holding issues made by the real sentry-sdk and a release: for every operation it
documents, generated requests (valid ones, some aimed at things that exist, and invalid ones) never
get a 5xx (but the 501 that source map uploads document), and every answer has a documented
status, content type and body.

The number of examples per operation is bounded (EXAMPLES), so the whole run takes well under a
minute; `SHOAL_SCHEMATHESIS_EXAMPLES` raises it for a longer hunt.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok
from sqlalchemy import create_engine, text

from shoal.store import tokens
from shoal.store.db import normalize_url
from tests.api.client import Api, create_token, items
from tests.conftest import POSTGRES_URL, require_postgres
from tests.support.server import RunningShoal, start_shoal, wait_until

EXAMPLES = int(os.environ.get("SHOAL_SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# 5xx answers found and not yet fixed, by store and operation, with where the fix belongs. Their
# operations still get every other check; add an entry only with its fix named, remove it with the fix.
KNOWN_SERVER_ERRORS: dict[tuple[str, str], str] = {}

SDK_SCRIPT = textwrap.dedent(
    """
    import sys
    import sentry_sdk
    import sentry_sdk.crons

    sentry_sdk.init(dsn=sys.argv[1], release="shop@1.0.0", environment="production")
    sentry_sdk.set_user({"id": "42", "email": "buyer@example.com"})
    sentry_sdk.set_tag("shop", "berlin")
    sentry_sdk.add_breadcrumb(category="cart", message="added 2 items", level="info")

    def checkout(order):
        return order["discount"]

    try:
        checkout({"total": 10})
    except KeyError:
        sentry_sdk.capture_exception()
    sentry_sdk.capture_message("Payment provider is slow")
    sentry_sdk.crons.capture_checkin(monitor_slug="nightly-report", status="ok")
    sentry_sdk.flush(timeout=10)
    """
)


@dataclass(frozen=True)
class Seeded:
    store: str  # sqlite | postgres
    server: RunningShoal
    token: str
    real: dict[str, Any]  # a value for each path parameter that names something that exists


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for SQLite (`shoal run`'s default), else a PostgreSQL schema of the module's own: the
    two stores refuse different inputs (PostgreSQL takes no NUL character in text)."""
    if request.param == "sqlite":
        yield None
        return
    require_postgres()
    schema = f"shoal_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(POSTGRES_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, store_url: str | None) -> Iterator[Seeded]:
    server = start_shoal(tmp_path_factory.mktemp("schemathesis") / "data", database_url=store_url)
    try:
        sent = subprocess.run(
            [sys.executable, "-c", SDK_SCRIPT, server.dsn],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert sent.returncode == 0, sent.stderr
        server.wait_for_events(2)
        token = create_token(server, "--scopes", " ".join(sorted(tokens.KNOWN_SCOPES)))
        api = Api(server, token)
        assert (
            api.post(
                "organizations/default/releases/", {"version": "1.0.0", "projects": ["my-project"]}
            ).status
            == 201
        )
        monitor = "organizations/default/monitors/nightly-report/"
        wait_until(lambda: api.get(monitor).status == 200, 30, "the monitor of the SDK's check-in")
        issue_id = int(items(api.get("projects/default/my-project/issues/"))[0]["id"])
        event_id = items(api.get("projects/default/my-project/events/"))[0]["eventID"]
        real = {
            "org_slug": "default",
            "project_slug": "my-project",
            "issue_id": issue_id,
            "event_id": event_id,
            "version": "1.0.0",
            "rule_id": int(items(api.get("projects/default/my-project/rules/"))[0]["id"]),
            "monitor_slug": "nightly-report",
        }
        yield Seeded("sqlite" if store_url is None else "postgres", server, token, real)
    finally:
        server.stop()


def test_no_generated_request_gets_a_5xx_and_every_answer_matches_the_document(seeded: Seeded) -> None:
    schema = schemathesis.openapi.from_url(f"{seeded.server.url}/api/0/schema/")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the document does not load: {result}"
        operations.append(result.ok())
    assert len(operations) >= 40
    failures: list[str] = []
    for operation in operations:
        try:
            _exercise(operation, seeded)
        except Exception as failure:  # schemathesis raises a group of check failures
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert not failures, "\n\n".join(failures)


def _exercise(operation: Any, seeded: Seeded) -> None:
    """Run EXAMPLES generated requests of one operation through the checks."""
    real = {p.name: seeded.real[p.name] for p in operation.path_parameters}
    strategy = st.one_of(
        operation.as_strategy(path_parameters=real),
        operation.as_strategy(),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=real),
    )
    headers = {"Authorization": f"Bearer {seeded.token}"}
    # Source map uploads are documented as "not supported yet", a 501 (docs/api.md); any other
    # operation's 5xx is a bug.
    known = (seeded.store, f"{operation.method.upper()} {operation.path}") in KNOWN_SERVER_ERRORS
    checks = CHECKS[1:] if known or "501" in operation.definition.raw["responses"] else CHECKS

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        response = case.call(base_url=seeded.server.url, headers=headers)
        case.validate_response(response, checks=checks)

    check()
