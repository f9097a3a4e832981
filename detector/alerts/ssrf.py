"""Webhook URLs must not reach into our own network (server-side request forgery).

Anyone who can register a webhook chooses a URL our server will POST to. Without a check,
``http://169.254.169.254/latest/meta-data/`` or ``http://localhost:5432/`` turn the sender
into a proxy for the cloud metadata service or internal ports. :func:`check_url` refuses
URLs that are not plain http(s), that carry credentials, or whose host is (or resolves to)
an address that is not publicly routable.

A check at registration is not enough on its own: DNS can answer with a public address when
checked and a private one when connected (DNS rebinding). So the HTTP client also checks the
address it actually connected to before any byte of the request is sent; see
:mod:`detector.alerts.transport`, which wraps an httpx transport that way.

``allow_private`` is for self-hosted setups that deliver to a LAN (a chat server next door,
a test receiver on localhost): it lifts the loopback, private, link-local and shared (CGNAT)
ranges, but cloud metadata endpoints, unspecified, multicast and reserved addresses stay
refused, since no webhook receiver legitimately lives there.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from detector.errors import HostResolutionError, UnsafeURLError

__all__ = [
    "CheckedURL",
    "IPAddress",
    "Resolver",
    "blocked_reason",
    "check_url",
    "redact_url",
    "resolve_host",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Iterable[str]]
"""``resolve(host, port)`` -> the IP addresses (as text) the host resolves to."""

_SCHEMES = {"http": 80, "https": 443}
# Cloud metadata services: AWS/GCP/Azure/OpenStack, AWS IPv6, AWS ECS task metadata,
# Alibaba Cloud. Refused even with allow_private: they hand out credentials.
_METADATA = {
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
}
_PRIVATE_USE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the low 32 bits are an IPv4 address
# A host name whose last label is a number is an IPv4 address in a form resolvers accept but
# ipaddress does not ("127.1", "0x7f.1", "2130706433"); real top-level domains are never numeric.
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)
# Characters that some URL parsers treat as separators and others do not.
_AMBIGUOUS = re.compile(r"[\x00-\x20\\\x7f]")


@dataclass(frozen=True, slots=True)
class CheckedURL:
    """A URL that passed :func:`check_url`, with the addresses its host resolved to."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def resolve_host(host: str, port: int) -> list[str]:
    """Resolve ``host`` with :func:`socket.getaddrinfo`; the addresses in resolver order.

    Examples
    --------
    >>> resolve_host("127.0.0.1", 80)
    ['127.0.0.1']
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def blocked_reason(address: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why a webhook must not connect to ``address``, or None when it may.

    IPv4 addresses embedded in IPv6 ones (mapped ``::ffff:a.b.c.d``, 6to4, Teredo, NAT64)
    are judged as the IPv4 address they reach.

    Examples
    --------
    >>> from ipaddress import ip_address
    >>> blocked_reason(ip_address("169.254.169.254"), allow_private=True)
    'a cloud metadata endpoint'
    >>> blocked_reason(ip_address("::ffff:10.0.0.1"))
    'private (10.0.0.1)'
    >>> blocked_reason(ip_address("10.0.0.1"), allow_private=True) is None
    True
    >>> blocked_reason(ip_address("93.184.215.14")) is None
    True
    """
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        reason = blocked_reason(embedded, allow_private=allow_private)
        return None if reason is None else f"{reason} ({embedded})"
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        # fe80::1%eth0 is still fe80::1; equality with a scope id would miss the metadata set.
        address = ipaddress.IPv6Address(str(address).partition("%")[0])
    if address in _METADATA:
        return "a cloud metadata endpoint"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    private = _private_kind(address)
    if private is not None:
        return None if allow_private else private
    if address.is_reserved or not address.is_global:
        # Benchmarking, documentation, IETF protocol assignments and the like.
        return "reserved or not globally routable"
    return None


def check_url(
    url: str, *, allow_private: bool = False, resolve: Resolver = resolve_host
) -> CheckedURL:
    """Check that a webhook may be sent to ``url``; return it with its resolved addresses.

    Every address the host resolves to must be allowed, not just one: the client may connect
    to any of them.

    Parameters
    ----------
    url
        The webhook URL.
    allow_private
        Accept loopback, private, link-local and shared (CGNAT) addresses.
    resolve
        Resolves a host name to addresses; tests pass a fake, so no DNS is needed.

    Raises
    ------
    UnsafeURLError
        Not http(s), no host, credentials in the URL, or a refused address. The message names
        the URL (its path and query redacted: webhook URLs often carry tokens there) and
        the address.
    HostResolutionError
        The host does not resolve.

    Examples
    --------
    >>> check_url("https://hooks.example.com/x", resolve=lambda host, port: ["93.184.215.14"])
    ... # doctest: +NORMALIZE_WHITESPACE
    CheckedURL(url='https://hooks.example.com/x', scheme='https', host='hooks.example.com',
               port=443, addresses=(IPv4Address('93.184.215.14'),))
    >>> try:
    ...     check_url("http://localhost:8080/hook", resolve=lambda host, port: ["127.0.0.1"])
    ... except UnsafeURLError as exc:
    ...     print(exc.url, "|", exc.reason)
    http://localhost:8080/... | localhost resolves to 127.0.0.1, which is loopback
    """
    parts = _split(url)
    host = parts.hostname or ""
    port = parts.port if parts.port is not None else _SCHEMES[parts.scheme]
    literal = _ip_literal(host)
    if literal is not None:
        addresses: tuple[IPAddress, ...] = (literal,)
    else:
        _check_host_name(url, host)
        addresses = _resolve(url, host, port, resolve)
    for address in addresses:
        reason = blocked_reason(address, allow_private=allow_private)
        if reason is not None:
            what = str(address) if literal is not None else f"{host} resolves to {address}, which"
            raise UnsafeURLError(redact_url(url), f"{what} is {reason}", address=str(address))
    return CheckedURL(url=url, scheme=parts.scheme, host=host, port=port, addresses=addresses)


def redact_url(url: str) -> str:
    """``url`` fit for logs and error messages: credentials, path and query hidden.

    Slack, Discord and most chat webhooks carry their token in the path.

    Examples
    --------
    >>> redact_url("https://user:pw@hooks.slack.com/services/T0/B0/XYZ?x=1")
    'https://***@hooks.slack.com/...'
    >>> redact_url("https://example.com")
    'https://example.com'
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = "***@" + netloc.rpartition("@")[2]
        rest = "/..." if parts.path.strip("/") or parts.query or parts.fragment else ""
        return f"{parts.scheme}://{netloc}{rest}" if parts.scheme else "<unparsable URL>"
    except ValueError:
        return "<unparsable URL>"


def _split(url: str) -> SplitResult:
    if _AMBIGUOUS.search(url):
        raise UnsafeURLError(redact_url(url), "whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError as exc:
        raise UnsafeURLError(redact_url(url), f"not a valid URL ({exc})") from None
    if parts.scheme not in _SCHEMES:
        raise UnsafeURLError(
            redact_url(url), f"scheme must be http or https, got: {parts.scheme or 'none'!r}"
        )
    if not parts.hostname:
        raise UnsafeURLError(redact_url(url), "no host")
    if "@" in parts.netloc:
        raise UnsafeURLError(redact_url(url), "credentials in the URL are not allowed")
    return parts


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _check_host_name(url: str, host: str) -> None:
    if not host.isascii():
        # Python's idna codec (IDNA 2003) and httpx (IDNA 2008) can map a Unicode name to
        # different hosts; the punycode form is unambiguous.
        raise UnsafeURLError(redact_url(url), f"use the punycode (xn--) form of {host!r}")
    if _NUMERIC_LABEL.fullmatch(host.rstrip(".").rpartition(".")[2]):
        raise UnsafeURLError(redact_url(url), f"{host!r} is an IP address in a non-standard form")


def _resolve(url: str, host: str, port: int, resolve: Resolver) -> tuple[IPAddress, ...]:
    try:
        found = list(resolve(host, port))
    except OSError as exc:  # socket.gaierror, timeouts
        raise HostResolutionError(redact_url(url), host, str(exc)) from exc
    if not found:
        raise HostResolutionError(redact_url(url), host, "no addresses")
    addresses = []
    for text in found:
        address = _ip_literal(text)
        if address is None:
            raise HostResolutionError(redact_url(url), host, f"resolver returned {text!r}")
        addresses.append(address)
    return tuple(addresses)


def _private_kind(address: IPAddress) -> str | None:
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address in _SHARED:
        return "shared address space (CGNAT)"
    # RFC 1918 and unique local IPv6 (fc00::/7): the ranges LANs use. Python's is_private is
    # wider (documentation, benchmarking...), and those stay refused even with allow_private.
    if any(address in network for network in _PRIVATE_USE):
        return "private"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client address the relay forwards to
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None
