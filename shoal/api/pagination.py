"""Sentry's pagination: a `cursor` query parameter `value:offset:is_prev`, and a `Link` header with
a previous and a next page, each saying whether it has results (reference/protocol.md §8).
sentry-cli follows `rel="next"` while `results="true"`."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from shoal.api.errors import bad_request

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Cursor:
    value: int
    offset: int
    is_prev: bool

    def __str__(self) -> str:
        return f"{self.value}:{self.offset}:{int(self.is_prev)}"


@dataclass(frozen=True)
class Page:
    """Where the pages before and after the one served start, and whether they hold anything."""

    previous: Cursor
    has_previous: bool
    next: Cursor
    has_next: bool


def cursor_of(request: Request) -> Cursor | None:
    raw = request.query_params.get("cursor")
    if not raw:
        return None
    parts = raw.split(":")
    if len(parts) != 3 or not all(part.lstrip("-").isdigit() for part in parts):
        raise bad_request("Invalid cursor parameter.")
    value, offset, is_prev = (int(part) for part in parts)
    # Values reach SQL: keep them within 64 bits, where the drivers take them.
    if offset < 0 or not -(2**63) <= value < 2**63 or offset >= 2**63:
        raise bad_request("Invalid cursor parameter.")
    return Cursor(value, offset, bool(is_prev))


def per_page_of(request: Request) -> int:
    raw = request.query_params.get("per_page", str(MAX_PER_PAGE))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PER_PAGE:
        raise bad_request("Invalid per_page parameter.")
    return int(raw)


def link_header(request: Request, page: Page) -> str:
    return ", ".join(
        [
            _link(request, "previous", page.previous, page.has_previous),
            _link(request, "next", page.next, page.has_next),
        ]
    )


def _link(request: Request, rel: str, cursor: Cursor, results: bool) -> str:
    url = request.url.include_query_params(cursor=str(cursor))
    return f'<{url}>; rel="{rel}"; results="{str(results).lower()}"; cursor="{cursor}"'


def offset_page(cursor: Cursor | None, per_page: int, total: int) -> tuple[int, Page]:
    """For a short list paged by position: where this page starts, and its neighbours."""
    start = cursor.offset if cursor else 0
    return start, Page(
        previous=Cursor(0, max(start - per_page, 0), True),
        has_previous=start > 0,
        next=Cursor(0, start + per_page, False),
        has_next=start + per_page < total,
    )
