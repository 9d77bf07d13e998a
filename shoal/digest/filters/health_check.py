"""Health-check transactions: drop a transaction for a load balancer's or orchestrator's probe,
as Sentry's "health check" filter does, with its current globs (`HEALTH_CHECK_GLOBS`, reference
§4.1). On by default, as in Sentry. Errors are never dropped by it: a health check that fails is
news.

Sentry matches only the transaction name. Shoal matches the name **and the request URL's path**:
with `transaction_style="endpoint"` (the chapter's FastAPI setup) the name is the view function,
`app.main.health`, which no glob (and no `before_send_transaction` comparing with "/health")
recognises, while the URL still says `/health`. The path, not the whole URL, so a host named
`health.example.com` matches nothing.
"""

from __future__ import annotations

from shoal import outcomes
from shoal.digest.filters.globs import any_match
from shoal.digest.filters.inbound import Inbound, request_url, text
from shoal.store.inbound_filters import FilterSettings

REASON = outcomes.FILTER_HEALTH_CHECK

# `{/,}`: with or without a trailing slash. They match `GET /healthz`, `/k8s/ready/`,
# `/status/up`, and not `/api/healthy-recipes`, `/pings`, `/upload` or `/readystate`.
HEALTH_CHECK_GLOBS = (
    "*healthcheck*",
    "*heartbeat*",
    "*/health{/,}",
    "*/healthy{/,}",
    "*/healthz{/,}",
    "*/health_check{/,}",
    "*/_health{/,}",
    r"*/\[_health\]{/,}",
    "*/live{/,}",
    "*/livez{/,}",
    "*/ready{/,}",
    "*/readyz{/,}",
    "*/ping{/,}",
    "*/up{/,}",
)


def check(event: Inbound, settings: FilterSettings) -> str | None:
    if not settings.is_on(REASON) or not event.is_transaction:
        return None
    return REASON if any_match(_names(event), HEALTH_CHECK_GLOBS) else None


def _names(event: Inbound) -> list[str]:
    names = [name] if (name := text(event.data.get("transaction"))) else []
    url = request_url(event.data)
    if url is not None and url.path:
        names.append(url.path)
    return names
