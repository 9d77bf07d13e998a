"""API errors in Sentry's shape (Django REST framework's): `{"detail": …}` for a refusal,
`{field: [message, …]}` for a body that does not validate."""

from __future__ import annotations

from typing import Any

# Sentry's wording, so that clients matching on it keep working.
NOT_PROVIDED = "Authentication credentials were not provided."
INVALID_TOKEN = "Invalid token"
FORBIDDEN = "You do not have permission to perform this action."
NOT_FOUND = "The requested resource does not exist"


class ApiError(Exception):
    """Ends a request with `status` and the JSON `body`."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def not_found() -> ApiError:
    return ApiError(404, {"detail": NOT_FOUND})


def bad_request(detail: str) -> ApiError:
    return ApiError(400, {"detail": detail})


def invalid(errors: dict[str, str]) -> ApiError:
    """A 400 naming each field that is wrong, one message each, listed as DRF lists them."""
    return ApiError(400, {field: [message] for field, message in errors.items()})
