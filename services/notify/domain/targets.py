"""Which webhook targets are refused: a URL that is not plain http(s) to a host, and any host with
an address that is not public (private, loopback, link-local, multicast, reserved, unspecified,
shared or documentation ranges, also inside an IPv4-mapped IPv6 address) unless a setting allows them."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.errors import RuleViolation

SCHEMES = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Target:
    host: str
    port: int


def target_of(url: str) -> Target:
    """The host and port a URL points at; RuleViolation for anything but `http(s)://host[:port]/...`
    without credentials in it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RuleViolation(f"not a URL: {exc}", field="url") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise RuleViolation("an http or https URL with a host", field="url")
    if parts.username is not None or parts.password is not None:
        raise RuleViolation("no credentials in the URL: the signature authenticates the sender", field="url")
    return Target(parts.hostname, port or SCHEMES[parts.scheme])


def is_public(address: str) -> bool:
    """Whether `address` (an IP address in text) is a public unicast address."""
    ip = ipaddress.ip_address(address)  # a scoped IPv6 address (`fe80::1%eth0`) included
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def refused_addresses(addresses: Iterable[str]) -> list[str]:
    """The addresses of a host that are not public, in the order given."""
    return [a for a in addresses if not is_public(a)]


def check_addresses(host: str, addresses: list[str], *, allow_private: bool) -> None:
    """RuleViolation when the host has no address, or (unless `allow_private`) any address that is
    not public: every address is checked, since a client may connect to any of them."""
    if not addresses:
        raise RuleViolation(f"{host} has no address", field="url")
    refused = refused_addresses(addresses)
    if refused and not allow_private:
        raise RuleViolation(
            f"{host} resolves to an address that is not public ({', '.join(refused[:3])}); "
            "private, loopback and link-local targets are refused unless NOTIFY_WEBHOOK_ALLOW_PRIVATE_TARGETS is set",
            field="url",
        )
