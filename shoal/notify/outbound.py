"""Every HTTP request a notification channel makes: one POST that cannot be turned against the
network Shoal runs in (SSRF), and the check behind it.

Whoever may configure a webhook may make Shoal send a request to any URL; without a guard a cloud
metadata service (`http://169.254.169.254/`), a database on localhost or an admin page on the office
network are one form away. So:

- only http and https;
- the host is resolved once, and refused if *any* of its addresses is not public (private,
  loopback, link-local, multicast, reserved, unspecified; an IPv4 address inside an IPv6 one, as in
  `::ffff:127.0.0.1`, is judged as that IPv4 address), unless SHOAL_OUTBOUND_ALLOW names the host or
  a network that holds the address;
- the socket connects to the address that was checked, not to the name. Resolving again at connect
  time would let a DNS server answer a public address to the check and 127.0.0.1 to the connect
  (DNS rebinding). The request still carries the original Host header, and TLS still sends the
  original name (SNI) and verifies the certificate against it;
- redirects are never followed: a 3xx could point anywhere, past every check above.

Why `http.client` and `ssl` rather than httpx, requests or urllib: those take a URL and resolve its
host themselves, with no supported way to say "connect to this address, but call it by that name"
for both the Host header and TLS. An `http.client` connection is a small class whose `connect()`
can be overridden to open the socket to the checked address while everything else (request line,
Host header, `server_hostname` for SNI and the certificate check) keeps using the name.

Errors name the host, never the whole URL: a Slack or Discord webhook's path is its secret.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from shoal.notify.base import DeliveryError, NotifySettings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Enough of an error reply to show why it failed ("no_service", a JSON detail), no more.
_MAX_REPLY_BYTES = 64 * 1024
_EXCERPT_CHARS = 200
# 408 Request Timeout and 429 Too Many Requests say "later"; every other 4xx says "never like this".
_RETRYABLE_4XX = frozenset({408, 429})


@dataclass(frozen=True)
class Target:
    """Where a URL says to send: scheme, host (no brackets), port, and path with query."""

    scheme: str
    host: str
    port: int
    path: str


@dataclass(frozen=True)
class Reply:
    """An answer's status and the start of its body; `post_json` returns only 2xx ones."""

    status: int
    body: bytes


def parse_url(url: str) -> Target:
    """The target of an http(s) URL; ValueError says what is wrong with it (for config checks)."""
    url = url.strip()
    # urlsplit drops tabs and newlines without a word (WHATWG's rule) and http.client refuses
    # control characters only at send time; say so here, where someone can fix the URL.
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from exc
    if parts.scheme not in _DEFAULT_PORTS:
        raise ValueError("must start with https:// (or http://)")
    if not parts.hostname:
        raise ValueError("has no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not hold a user name or password")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme], path)


def check_url(url: str, settings: NotifySettings) -> None:
    """Refuse, with the DeliveryError `post_json` would raise, a URL it would refuse for its form
    or its addresses; nothing is sent."""
    target = _target(url)
    check_host(target.host, target.port, settings)


def check_host(host: str, port: int, settings: NotifySettings) -> list[IPAddress]:
    """The addresses `host` resolves to, once every one of them passed the SSRF rule (module
    docstring); DeliveryError otherwise."""
    addresses = _resolve(host, port)
    if _host_allowed(host, settings.outbound_allow):
        return addresses
    for address in addresses:
        refusal = _refusal(address)
        if refusal and not _address_allowed(address, settings.outbound_allow):
            raise DeliveryError(_refused_message(host, address, refusal), permanent=True)
    return addresses


def post_json(url: str, body: bytes, headers: Mapping[str, str], settings: NotifySettings) -> Reply:
    """POST `body` as JSON to `url` once; the reply when it is a 2xx, else DeliveryError:
    permanent for a refused address, a redirect or a 4xx other than 408/429; transient for
    timeouts, connection errors, 5xx, 408 and 429."""
    target = _target(url)
    addresses = check_host(target.host, target.port, settings)
    connection = _connection(target, addresses, settings.outbound_timeout)
    all_headers = {"Content-Type": "application/json", "User-Agent": "Shoal", **headers}
    try:
        connection.request("POST", target.path, body=body, headers=all_headers)
        response = connection.getresponse()
        reply = Reply(response.status, response.read(_MAX_REPLY_BYTES))
    except TimeoutError as exc:
        raise DeliveryError(
            f"{target.host} did not answer within {settings.outbound_timeout:g} s", permanent=False
        ) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"cannot reach {target.host}: {_describe(exc)}", permanent=False) from exc
    finally:
        connection.close()
    _raise_for_status(target.host, reply)
    return reply


def _target(url: str) -> Target:
    try:
        return parse_url(url)
    except ValueError as exc:
        raise DeliveryError(f"the URL {exc}", permanent=True) from exc


def _resolve(host: str, port: int) -> list[IPAddress]:
    # getaddrinfo has no timeout of its own; the resolver's (resolv.conf) applies.
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DeliveryError(f"cannot resolve {host}: {_describe(exc)}", permanent=False) from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]))
        if address not in addresses:
            addresses.append(address)
    return addresses


def _refusal(address: IPAddress) -> str | None:
    """Why an address may not be reached ("a loopback address"), or None when it is public."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return _refusal(embedded)
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        # What remains non-global is shared space such as 100.64.0.0/10 (carrier NAT, Tailscale).
        (not address.is_global, "a non-public address"),
    )
    return next((label for failed, label in checks if failed), None)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    # ::ffff:a.b.c.d reaches a.b.c.d through the local IPv4 stack; 2002:aabb:ccdd:: (6to4) embeds
    # one too. Judged as IPv6 they would look like whatever Python's tables say of the prefix.
    if isinstance(address, ipaddress.IPv6Address):
        return address.ipv4_mapped or address.sixtofour
    return None


def _host_allowed(host: str, allow: tuple[str, ...]) -> bool:
    name = host.lower().rstrip(".")
    return any(entry.strip().lower().rstrip(".") == name for entry in allow)


def _address_allowed(address: IPAddress, allow: tuple[str, ...]) -> bool:
    candidates = [address]
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        candidates.append(embedded)
    for entry in allow:
        try:
            network = ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            continue  # a host name, matched by _host_allowed
        if any(candidate.version == network.version and candidate in network for candidate in candidates):
            return True
    return False


def _refused_message(host: str, address: IPAddress, refusal: str) -> str:
    allow = "allow it with SHOAL_OUTBOUND_ALLOW"
    if _is_literal(host, address):
        return f"refusing to send to {address} ({refusal}); {allow}"
    return f"refusing to send to {host}: it resolves to {address} ({refusal}); {allow}"


def _is_literal(host: str, address: IPAddress) -> bool:
    try:
        return ipaddress.ip_address(host) == address
    except ValueError:
        return False


def _connection(target: Target, addresses: list[IPAddress], timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(target.host, target.port, addresses, timeout)
    return _PinnedHTTPConnection(target.host, target.port, addresses, timeout)


def _open_socket(addresses: list[IPAddress], port: int, timeout: float) -> socket.socket:
    """A socket to the first checked address that accepts, as `socket.create_connection` would
    do for a name; but with the addresses we checked, so no second DNS answer is consulted."""
    last_error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout)
        except OSError as exc:
            last_error = exc
    assert last_error is not None  # getaddrinfo never returns an empty list without raising
    raise last_error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to a checked address; `host` stays the name, so the Host header is the name."""

    def __init__(self, host: str, port: int, addresses: list[IPAddress], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses
        self.seconds = timeout

    def connect(self) -> None:
        self.sock = _open_socket(self.addresses, self.port, self.seconds)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address; TLS sends the name (SNI) and verifies the certificate for it."""

    def __init__(self, host: str, port: int, addresses: list[IPAddress], timeout: float) -> None:
        self.tls = ssl.create_default_context()  # verifies the chain and the host name
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.addresses = addresses
        self.seconds = timeout

    def connect(self) -> None:
        raw = _open_socket(self.addresses, self.port, self.seconds)
        try:
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def _raise_for_status(host: str, reply: Reply) -> None:
    status = reply.status
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        raise DeliveryError(
            f"{host} answered {status}, a redirect; redirects are not followed, so configure the "
            "URL it redirects to",
            permanent=True,
        )
    permanent = 400 <= status < 500 and status not in _RETRYABLE_4XX
    excerpt = _excerpt(reply.body)
    raise DeliveryError(
        f"{host} answered {status}" + (f": {excerpt}" if excerpt else ""), permanent=permanent
    )


def _excerpt(body: bytes) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 1] + "…"


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
