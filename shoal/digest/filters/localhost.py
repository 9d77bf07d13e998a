"""Localhost: drop an event from a developer's own machine, as Sentry's localhost filter does: the
user's address is 127.0.0.1 or ::1; or the request URL is a `file:` URL or its host is
`localhost`, a subdomain of it, or 127.0.0.1; or `X-Forwarded-For` is a loopback address; or,
without a URL, the `Host` or `X-Forwarded-Host` header names localhost or 127.0.0.1. Off by
default. The address the envelope came from is not looked at: a backend SDK on the same machine
as Shoal sends from 127.0.0.1 whatever its users do.
"""

from __future__ import annotations

from shoal import outcomes
from shoal.digest.filters.inbound import Inbound, header, request_url, user_ip
from shoal.store.inbound_filters import FilterSettings

REASON = outcomes.FILTER_LOCALHOST
LOCAL_ADDRESSES = frozenset({"127.0.0.1", "::1"})
LOCAL_HOSTS = ("localhost", "127.0.0.1")


def check(event: Inbound, settings: FilterSettings) -> str | None:
    if not settings.is_on(REASON):
        return None
    return REASON if is_local(event) else None


def is_local(event: Inbound) -> bool:
    data = event.data
    if user_ip(data) in LOCAL_ADDRESSES or header(data, "X-Forwarded-For") in LOCAL_ADDRESSES:
        return True
    url = request_url(data)
    if url is not None and (url.scheme == "file" or _local_host(url.hostname)):
        return True
    if url is None:
        for name in ("Host", "X-Forwarded-Host"):
            value = header(data, name)
            if value is not None and value.split(":", 1)[0].lower() in LOCAL_HOSTS:
                return True
    return False


def _local_host(host: str | None) -> bool:
    """localhost, one of its subdomains (foo.localhost), or 127.0.0.1; not localhost.com."""
    if not host:
        return False
    return any(host == local or host.endswith("." + local) for local in LOCAL_HOSTS)
