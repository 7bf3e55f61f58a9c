"""Who is on the other end of a call, seen through a trusted proxy when there is one."""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping


def peer_host(peer: str) -> str:
    """The address part of a grpc peer string (`ipv4:1.2.3.4:5`, `ipv6:[::1]:5`, `unix:...`)."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rsplit(":", 1)[0]
    if kind == "ipv6":
        host = rest.rsplit(":", 1)[0]
        return host.strip("[]")
    return kind or "unknown"


def client_address(peer: str, metadata: Mapping[str, str], trusted: Collection[str]) -> str:
    """The client's address: the last `x-forwarded-for` hop when the peer is a trusted proxy.

    Envoy (with `use_remote_address`) appends the address it saw, so only the last entry is
    trustworthy; anything before it is whatever the client chose to send.
    """
    host = peer_host(peer)
    forwarded = metadata.get("x-forwarded-for", "")
    if host in trusted and forwarded:
        candidate = forwarded.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return host
    return host
