"""Where a webhook may be sent: https only, and never to an address inside our own network (SSRF).

A URL is checked by resolving its host and refusing any private, loopback, link-local (the cloud metadata
service, 169.254.169.254 and fd00:ec2::254), unspecified, multicast or otherwise non-global address, unless
the host is listed in `CCM_WEBHOOK_ALLOWED_HOSTS` (which also allows plain http). Resolving goes through
`getaddrinfo`, so the decimal and hex spellings of an address (`2130706433`, `0x7f000001`) and names such as
`localhost` are judged by the address they reach. The check returns the address it approved, and the
request connects to that address (see `ccm.webhooks.client`), so a DNS answer that changes between the
check and the connection (DNS rebinding) cannot move the request elsewhere.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


class UnsafeUrl(ValueError):
    """A URL a webhook may not be sent to; the text says why."""


@dataclass(frozen=True)
class Target:
    """A checked URL and the addresses its request may connect to (every one of them was checked)."""

    url: str
    host: str
    addresses: tuple[str, ...]


def check_url(url: str, allowed_hosts: Collection[str]) -> Target:
    """Resolve and vet `url`; raises `UnsafeUrl` naming the problem."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeUrl(f"the URL is malformed: {error}") from None
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeUrl("the URL has no host")
    allowed = host in {h.lower() for h in allowed_hosts}
    if parts.scheme != "https" and not (parts.scheme == "http" and allowed):
        raise UnsafeUrl("the URL must use https (http only for hosts in CCM_WEBHOOK_ALLOWED_HOSTS)")
    if parts.username or parts.password:
        raise UnsafeUrl("the URL may not carry credentials")
    addresses = resolve(host, port or (443 if parts.scheme == "https" else 80))
    if not allowed:
        for address in addresses:
            refuse_internal(host, address)
    return Target(url=url, host=host, addresses=tuple(dict.fromkeys(str(a) for a in addresses)))


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (all must be safe: a client may pick any of them)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as error:
        raise UnsafeUrl(f"the host '{host}' does not resolve") from error
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise UnsafeUrl(f"the host '{host}' does not resolve")
    return addresses


def refuse_internal(host: str, address: IPAddress) -> None:
    """Raise when `address` is not a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    reason = _kind(address)
    if reason:
        raise UnsafeUrl(f"the host '{host}' resolves to {reason} address {address}")


def _kind(address: IPAddress) -> str | None:
    checks = (
        (address in METADATA_ADDRESSES, "a cloud metadata"),
        (address.is_loopback, "a loopback"),
        (address.is_unspecified, "an unspecified"),
        (address.is_link_local, "a link-local"),
        (address.is_multicast, "a multicast"),
        (address.is_private, "a private"),
        (not address.is_global, "a non-public"),
    )
    return next((reason for matched, reason in checks if matched), None)
