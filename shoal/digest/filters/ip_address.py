"""IP addresses: drop an event when the user's address (`user.ip_address`) or the address of the
HTTP client that sent it (ingest's spool entry) is one of the project's addresses or inside one of
its CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`), as Sentry's `sentry:blacklisted_ips`.

Both addresses, because they answer different questions: a browser SDK sends from the user's
machine, a backend SDK from the server, whose events carry the end user's address in `user`.
Patterns are checked when saved (`ip_address_error`); one that still cannot be read matches
nothing.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from shoal import outcomes
from shoal.digest.filters.inbound import Inbound, user_ip
from shoal.store.inbound_filters import FilterSettings

REASON = outcomes.FILTER_IP_ADDRESS
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def check(event: Inbound, settings: FilterSettings) -> str | None:
    patterns = settings.patterns_of(REASON)
    if not settings.is_on(REASON) or not patterns:
        return None
    networks = _networks(patterns)
    for address in (user_ip(event.data), event.client_ip):
        parsed = _address(address)
        if parsed is not None and any(parsed.version == n.version and parsed in n for n in networks):
            return REASON
    return None


def ip_address_error(pattern: str) -> str | None:
    """Why a pattern is not an address or CIDR range, or None."""
    try:
        ipaddress.ip_network(pattern, strict=False)
    except ValueError:
        return f"“{pattern[:60]}” is not an IP address or a CIDR range such as 10.0.0.0/8."
    return None


@lru_cache(maxsize=256)
def _networks(patterns: tuple[str, ...]) -> tuple[Network, ...]:
    found = []
    for pattern in patterns:
        try:
            found.append(ipaddress.ip_network(pattern.strip(), strict=False))
        except ValueError:
            continue
    return tuple(found)


def _address(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not value:
        return None
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None
