"""HTTP 404s: drop an error that is a web framework's "not found" — a missing route or record
answered with 404, which the team we build for drops in `before_send` ("not errors, just missing
routes"). On by default (docs/filters.md): Sentry's own Python SDK integrations do not report 4xx
responses unless asked to (`failed_request_status_codes` is 500–599), so a 404 that reaches Shoal
was captured by hand or by an integration told to.

An SDK sends no exception attributes: only the type, its module, a message and the frames with
their source lines and variables. The message is not even `str(exc)`: sentry-python takes the
exception's `message` or `detail` attribute first (`sentry_sdk.utils.get_error_message`), so
Starlette's and FastAPI's `HTTPException(status_code=404, detail="Item not found")` arrives as
`HTTPException: Item not found`, and the status is only in the source line that raised it. So the
raised exception (the last of the chain) counts when
- its type is a "not found" one: Django's `Http404`, Pyramid's and aiohttp's `HTTPNotFound`,
  werkzeug's (Flask's) and Django REST framework's `NotFound`;
- or its message says 404 as an HTTP exception's `str` does: werkzeug's "404 Not Found: …"
  (subclasses included), Starlette's "404: …" (an SDK that sends `str(exc)`);
- or its type is an `…HTTPException` and: its message is the one a 404 without a detail gets
  ("Not Found"), or the line that raised it says 404 (`status_code=404`, `HTTPException(404`,
  `HTTP_404_NOT_FOUND`), or that frame has a local `status_code` of 404, or the event's `response`
  context says 404.
`requests`' "404 Client Error: …", httpx's and google-api-core's upstream 404s are left alone:
those are errors of the app calling something.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shoal import outcomes
from shoal.digest.filters.inbound import Inbound, frames, raised_exception, text
from shoal.store.inbound_filters import FilterSettings

REASON = outcomes.FILTER_HTTP_404

NOT_FOUND_TYPES = frozenset({"Http404", "HTTPNotFound"})
# `NotFound` alone is also google-api-core's upstream 404: only these modules' count.
NOT_FOUND_QUALIFIED = frozenset({"werkzeug.exceptions.NotFound", "rest_framework.exceptions.NotFound"})
_NOT_FOUND_MESSAGE = re.compile(r"404(?::| Not Found\b)")
_RAISED_WITH_404 = re.compile(r"status_code\s*=\s*404\b|HTTPException\(\s*404\b|HTTP_404_NOT_FOUND")


def check(event: Inbound, settings: FilterSettings) -> str | None:
    if not settings.is_on(REASON) or event.is_transaction:
        return None
    exception = raised_exception(event.data)
    if exception is None:
        return None
    return REASON if is_not_found(exception, event.data) else None


def is_not_found(exception: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    kind = text(exception.get("type")) or ""
    qualified = f"{text(exception.get('module')) or ''}.{kind}"
    if kind in NOT_FOUND_TYPES or qualified in NOT_FOUND_QUALIFIED:
        return True
    value = text(exception.get("value")) or ""
    if _NOT_FOUND_MESSAGE.match(value):
        return True
    if not kind.endswith("HTTPException"):
        return False
    return value == "Not Found" or _raised_with_404(exception) or _response_status(data) == 404


def _raised_with_404(exception: Mapping[str, Any]) -> bool:
    """The frame that raised it: `raise HTTPException(status_code=404, …)` in its source line, or
    `raise HTTPException(status_code=status_code)` with a local status_code of 404."""
    found = frames(exception)
    if not found:
        return False
    line = text(found[-1].get("context_line")) or ""
    variables = found[-1].get("vars")
    if _RAISED_WITH_404.search(line):
        return True
    return isinstance(variables, Mapping) and _status(variables.get("status_code")) == 404


def _response_status(data: Mapping[str, Any]) -> int | None:
    contexts = data.get("contexts")
    response = contexts.get("response") if isinstance(contexts, Mapping) else None
    return _status(response.get("status_code")) if isinstance(response, Mapping) else None


def _status(value: object) -> int | None:
    """404, as a number or as the text an SDK's serializer made of it ("404")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
