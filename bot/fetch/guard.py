"""Server-side request forgery guard: which addresses briefbot may fetch from."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from bot.core.normalize import redact_url
from bot.sources.base import SourceError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Cloud metadata services answer on these even where they are not "private" by RFC.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)


def blocked_reason(address: IPAddress, allowed: Sequence[Network] = ()) -> str | None:
    """Why `address` must not be fetched, or None if it is public (or in an explicitly allowed network)."""
    if isinstance(address, ipaddress.IPv6Address):  # IPv6 forms that carry an IPv4 address are judged by it
        embedded = address.ipv4_mapped or address.sixtofour  # (Teredo, 2001::/32, is refused as private)
        if embedded is not None:
            return blocked_reason(embedded, allowed)
    if any(address in network for network in allowed):
        return None
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "a non-public address"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def check_url(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver, allowed: Sequence[Network] = ()
) -> list[str]:
    """Refuse non-http(s) schemes, and hosts that resolve to any non-public address (unless allowed).
    Returns the resolved addresses."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise SourceError("blocked", f"refused {parts.scheme or 'scheme-less'} URL: only http and https are fetched")
    host = parts.hostname
    if not host:
        raise SourceError("blocked", f"refused URL without a host: {redact_url(url)}")
    if _odd_numeric_host(host):
        raise SourceError("blocked", f"refused {host}: write IP addresses in plain dotted form, not octal, hex or "
                                     "one integer (such spellings are a common way to sneak past filters)")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as exc:
        raise SourceError("blocked", f"refused URL with a bad port: {redact_url(url)}") from exc
    try:
        addresses = await resolver(host, port)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise SourceError("dns", f"could not resolve host {host}: {exc}") from exc
    if not addresses:
        raise SourceError("dns", f"host {host} has no addresses")
    if not allow_private:
        for text in addresses:
            reason = blocked_reason(ipaddress.ip_address(text.split("%", 1)[0]), allowed)
            if reason:
                raise SourceError(
                    "blocked",
                    f"refused {host}: it resolves to {text}, {reason} "
                    "(set BRIEFBOT_ALLOW_PRIVATE_URLS=true to allow internal addresses)",
                )
    return addresses


_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.I)


def _odd_numeric_host(host: str) -> bool:
    """A host made only of numeric labels that is not a plain dotted-quad IPv4 address."""
    labels = host.rstrip(".").split(".")
    if not all(_NUMERIC_LABEL.match(label) for label in labels):
        return False
    try:
        return str(ipaddress.IPv4Address(host)) != host
    except ValueError:
        return True


def check_peer(peer: str | None, host: str, *, allow_private: bool, allowed: Sequence[Network] = ()) -> None:
    """Re-check the address actually connected to, so a DNS answer that changed between the check and
    the connection (DNS rebinding) cannot reach an internal address."""
    if allow_private or not peer:
        return
    reason = blocked_reason(ipaddress.ip_address(peer.split("%", 1)[0]), allowed)
    if reason:
        raise SourceError("blocked", f"refused {host}: the connection went to {peer}, {reason}")
