"""The filters that look at an error's exceptions: error types, error messages and HTTP 404s, on
events the real sentry-sdk made of real exceptions (Starlette's and werkzeug's among them)."""

from __future__ import annotations

from typing import Any

import pytest
import sentry_sdk
from starlette.exceptions import HTTPException as StarletteHTTPException
from werkzeug.exceptions import NotFound

from shoal import outcomes
from shoal.digest.filters import error_message, error_type, http_404
from shoal.digest.filters.inbound import Inbound
from shoal.store.inbound_filters import FilterSettings
from tests.digest.filters.sdk_events import event_of, sdk_capturing

ERROR_TYPE = FilterSettings(
    frozenset({outcomes.FILTER_ERROR_TYPE}),
    {outcomes.FILTER_ERROR_TYPE: ("ConnectionResetError", "BrokenPipeError", "requests.*")},
)
ONLY_404 = FilterSettings().only(outcomes.FILTER_HTTP_404)


def messages(*patterns: str) -> FilterSettings:
    return FilterSettings(
        frozenset({outcomes.FILTER_ERROR_MESSAGE}), {outcomes.FILTER_ERROR_MESSAGE: patterns}
    )


def raise_(exception: BaseException) -> Any:
    def raising() -> None:
        raise exception

    return raising


# ---------------------------------------------------------------------------------- error types


def test_a_client_disconnect_is_dropped_by_its_type() -> None:
    event = event_of(raise_(ConnectionResetError(104, "Connection reset by peer")))
    assert error_type.check(Inbound(event), ERROR_TYPE) == outcomes.FILTER_ERROR_TYPE
    assert error_type.check(Inbound(event_of(raise_(BrokenPipeError()))), ERROR_TYPE) is not None


def test_other_errors_are_kept_and_a_filter_switched_off_drops_nothing() -> None:
    event = event_of(raise_(KeyError("discount")))
    assert error_type.check(Inbound(event), ERROR_TYPE) is None
    reset = event_of(raise_(ConnectionResetError()))
    assert error_type.check(Inbound(reset), FilterSettings()) is None  # offered, not ticked


def test_the_raised_type_counts_not_its_cause() -> None:
    def wrapped() -> None:
        try:
            raise ConnectionResetError("peer gone")
        except ConnectionResetError as cause:
            raise RuntimeError("checkout failed") from cause

    event = event_of(wrapped)
    assert [e["type"] for e in event["exception"]["values"]] == ["ConnectionResetError", "RuntimeError"]
    assert error_type.check(Inbound(event), ERROR_TYPE) is None


def test_a_type_matches_qualified_with_its_module() -> None:
    event = {"exception": {"values": [{"type": "ConnectTimeout", "module": "requests.exceptions"}]}}
    assert error_type.check(Inbound(event), ERROR_TYPE) == outcomes.FILTER_ERROR_TYPE


def test_a_message_event_has_no_type_to_match() -> None:
    assert error_type.check(Inbound({"logentry": {"formatted": "ConnectionResetError"}}), ERROR_TYPE) is None


# ------------------------------------------------------------------------------- error messages


def test_an_error_message_glob_matches_type_colon_value() -> None:
    event = event_of(raise_(TimeoutError("read timed out after 30s")))
    assert error_message.check(Inbound(event), messages("*timed out*")) == outcomes.FILTER_ERROR_MESSAGE
    assert error_message.check(Inbound(event), messages("TimeoutError: read*")) is not None
    assert error_message.check(Inbound(event), messages("read timed out*")) is None  # the type comes first


def test_a_message_event_matches_by_its_formatted_message() -> None:
    with sdk_capturing() as captured:
        sentry_sdk.capture_message("Login failed")
    (event,) = captured
    assert error_message.check(Inbound(event), messages("login failed")) == outcomes.FILTER_ERROR_MESSAGE
    normalized = {"logentry": {"message": "Login failed for %s", "formatted": "Login failed for bob"}}
    assert error_message.check(Inbound(normalized), messages("Login failed for *")) is not None


def test_an_error_message_filter_never_drops_a_transaction() -> None:
    transaction = {"type": "transaction", "message": "Login failed"}
    assert error_message.check(Inbound(transaction), messages("*")) is None


# ------------------------------------------------------------------------------------ HTTP 404s


def test_a_starlette_or_fastapi_404_is_dropped_by_the_line_that_raised_it() -> None:
    def get_item() -> None:
        raise StarletteHTTPException(status_code=404, detail="Item not found")

    event = event_of(get_item)
    raised = event["exception"]["values"][-1]
    # The SDK sends the detail, not str(exc) ("404: Item not found"): the status is in the source.
    assert (raised["type"], raised["module"], raised["value"]) == (
        "HTTPException",
        "starlette.exceptions",
        "Item not found",
    )
    assert http_404.check(Inbound(event), ONLY_404) == outcomes.FILTER_HTTP_404


def test_a_404_without_a_detail_is_dropped_by_its_message() -> None:
    event = event_of(raise_(StarletteHTTPException(status_code=404)))
    assert event["exception"]["values"][-1]["value"] == "Not Found"
    assert http_404.check(Inbound(event), ONLY_404) == outcomes.FILTER_HTTP_404


def test_a_subclass_of_werkzeugs_not_found_is_dropped_by_its_message() -> None:
    class ItemMissing(NotFound):
        description = "No such item."

    assert http_404.check(Inbound(event_of(raise_(ItemMissing()))), ONLY_404) is not None


def test_a_werkzeug_or_flask_not_found_is_dropped() -> None:
    event = event_of(raise_(NotFound()))
    assert event["exception"]["values"][-1]["value"].startswith("404 Not Found")
    assert http_404.check(Inbound(event), ONLY_404) == outcomes.FILTER_HTTP_404


def test_django_and_pyramid_not_found_types_are_dropped_by_name() -> None:
    for kind, module in (("Http404", "django.http.response"), ("HTTPNotFound", "pyramid.httpexceptions")):
        event = {"exception": {"values": [{"type": kind, "module": module, "value": "No Order matches"}]}}
        assert http_404.check(Inbound(event), ONLY_404) == outcomes.FILTER_HTTP_404


def test_an_http_exception_raised_with_a_status_code_variable_of_404_is_dropped() -> None:
    def not_found() -> None:
        status_code = 404
        raise StarletteHTTPException(status_code=status_code, detail="gone")

    event = event_of(not_found)
    event["exception"]["values"][-1]["value"] = "gone"  # an HTTPException whose __str__ is the detail
    assert http_404.check(Inbound(event), ONLY_404) == outcomes.FILTER_HTTP_404


def test_other_http_statuses_are_kept() -> None:
    def login() -> None:
        raise StarletteHTTPException(status_code=401, detail="Invalid credentials")

    for raising in (login, raise_(StarletteHTTPException(status_code=500))):
        assert http_404.check(Inbound(event_of(raising)), ONLY_404) is None


@pytest.mark.parametrize(
    ("kind", "module", "value"),
    [
        (
            "HTTPError",
            "requests.exceptions",
            "404 Client Error: Not Found for url: https://api.example.com/x",
        ),
        ("HTTPStatusError", "httpx", "Client error '404 Not Found' for url 'https://api.example.com/x'"),
        ("NotFound", "google.api_core.exceptions", "404 GET https://storage.googleapis.com/b: Not found"),
        ("KeyError", "builtins", "'404'"),
    ],
)
def test_a_404_from_an_upstream_the_app_called_is_kept(kind: str, module: str, value: str) -> None:
    event = {"exception": {"values": [{"type": kind, "module": module, "value": value}]}}
    assert http_404.check(Inbound(event), ONLY_404) is None


def test_the_404_filter_switched_off_keeps_404s() -> None:
    event = event_of(raise_(StarletteHTTPException(status_code=404)))
    off = FilterSettings(frozenset(), {})
    assert http_404.check(Inbound(event), off) is None
