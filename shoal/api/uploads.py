"""`sentry-cli sourcemaps upload` (and debug-file uploads) start with
`GET /api/0/organizations/{org}/chunk-upload/`. Shoal does not store source maps or debug files yet,
so that answers 501 with a sentence sentry-cli prints, instead of the 404 it would report as
"organization not found".
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shoal.api import auth
from shoal.api.errors import ApiError
from shoal.api.paths import ORGANIZATION
from shoal.api.releases import reach

NOT_SUPPORTED = (
    "Shoal does not store source maps or debug files yet: sentry-cli sourcemaps upload is not supported."
)


async def not_supported(request: Request) -> Response:
    return await run_in_threadpool(_refuse, request)


def _refuse(request: Request) -> Response:
    owner = auth.token_owner(request)
    with auth.engine_of(request).connect() as conn:
        reach(conn, owner, request.path_params["org_slug"])
    # 501, not one of the statuses sentry-cli retries (502, 503, 504, 507, 524).
    raise ApiError(501, {"detail": NOT_SUPPORTED})


ROUTES = [
    Route(f"{ORGANIZATION}/chunk-upload/", not_supported, methods=["GET", "POST"]),
    Route(f"{ORGANIZATION}/artifactbundle/assemble/", not_supported, methods=["POST"]),
]
