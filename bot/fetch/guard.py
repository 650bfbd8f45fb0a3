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

# Cloud metadata and credential services: they hand out the machine's keys to whoever asks, so they are refused
# even with BRIEFBOT_ALLOW_PRIVATE_URLS=true (AWS, GCP, Azure, DigitalOcean and OpenStack use 169.254.169.254; AWS
# ECS 169.254.170.2, EKS pod identity 169.254.170.23 and fd00:ec2::23, AWS IPv6 fd00:ec2::254, GCP IPv6 fd20:ce::254,
# Tencent Cloud 169.254.0.23, Alibaba 100.100.100.200, Oracle Cloud Classic 192.0.0.192, Azure's WireServer
# 168.63.129.16).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in (
        "169.254.169.254", "169.254.170.2", "169.254.170.23", "169.254.0.23", "100.100.100.200", "192.0.0.192",
        "168.63.129.16", "fd00:ec2::254", "fd00:ec2::23", "fd20:ce::254",
    )
)
# IPv6 prefixes that carry an IPv4 address in their last 32 bits and reach it through a translator (NAT64).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # the deprecated ::a.b.c.d form
# A metadata address is fetched only when BRIEFBOT_ALLOWED_NETWORKS names it on purpose: through a network this
# narrow at least, so a catch-all such as 0.0.0.0/0, 169.0.0.0/8 or the whole link-local 169.254.0.0/16 (allowed for
# ordinary link-local devices) does not open it by accident.
_NARROWEST_WIDE_PREFIX = {4: 24, 6: 64}


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, 6to4, NAT64, IPv4-compatible), or None."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None or address.sixtofour is not None:
        return address.ipv4_mapped or address.sixtofour
    if any(address in prefix for prefix in _NAT64) or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def metadata_address(address: IPAddress) -> IPAddress | None:
    """The cloud metadata address `address` reaches (itself, or the IPv4 address it embeds), or None."""
    for candidate in (address, embedded_ipv4(address)):
        if candidate is not None and candidate in METADATA_ADDRESSES:
            return candidate
    return None


def _names_on_purpose(network: Network, address: IPAddress) -> bool:
    return address in network and network.prefixlen >= _NARROWEST_WIDE_PREFIX[network.version]


def blocked_reason(address: IPAddress, allowed: Sequence[Network] = (), *, allow_private: bool = False) -> str | None:
    """Why `address` must not be fetched, or None if it is public, in an explicitly allowed network, or internal
    with `allow_private`. Metadata addresses are refused unless an allowed network names them on purpose."""
    metadata = metadata_address(address)
    if metadata is not None:
        if any(_names_on_purpose(network, metadata) for network in allowed):
            return None
        return "a cloud metadata address"
    if allow_private:
        return None
    if isinstance(address, ipaddress.IPv6Address):  # IPv6 forms that carry an IPv4 address are judged by it
        embedded = address.ipv4_mapped or address.sixtofour  # (Teredo, 2001::/32, is refused as private)
        if embedded is not None:
            return blocked_reason(embedded, allowed)
    if any(address in network for network in allowed):
        return None
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


def refusal_hint(address: IPAddress, reason: str) -> str:
    """What to do about a refusal: allow that one address, not every internal address."""
    if reason == "a cloud metadata address":
        return ("refused even with BRIEFBOT_ALLOW_PRIVATE_URLS=true; list it in BRIEFBOT_ALLOWED_NETWORKS only if "
                "you mean to fetch it")
    # IPv4-mapped and 6to4 addresses are judged by the IPv4 address inside them, so only its /32 can allow them.
    if isinstance(address, ipaddress.IPv6Address):
        address = address.ipv4_mapped or address.sixtofour or address
    width = 32 if address.version == 4 else 128
    return (f"to fetch from it on purpose, e.g. a local test server, set BRIEFBOT_ALLOWED_NETWORKS={address}/{width}")


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def check_url(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver, allowed: Sequence[Network] = ()
) -> list[str]:
    """Refuse non-http(s) schemes, and hosts that resolve to any non-public address (unless allowed; metadata
    addresses even then). Returns the resolved addresses."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. "http://[::1" (an unclosed IPv6 bracket)
        raise SourceError("blocked", f"refused a URL that cannot be read ({exc})") from exc
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
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        reason = blocked_reason(address, allowed, allow_private=allow_private)
        if reason:
            raise SourceError("blocked", f"refused {host}: it resolves to {text}, {reason} "
                                         f"({refusal_hint(address, reason)})")
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
    the connection (DNS rebinding) cannot reach an internal address (nor, ever, a metadata address)."""
    if not peer:
        return
    reason = blocked_reason(ipaddress.ip_address(peer.split("%", 1)[0]), allowed, allow_private=allow_private)
    if reason:
        raise SourceError("blocked", f"refused {host}: the connection went to {peer}, {reason}")
