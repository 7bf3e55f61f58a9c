"""Client addresses behind a trusted proxy."""

from __future__ import annotations

import pytest

from vidmesh.common.peers import client_address, peer_host

TRUSTED = {"127.0.0.1", "::1"}


@pytest.mark.parametrize(
    ("peer", "host"),
    [("ipv4:10.0.0.1:5000", "10.0.0.1"), ("ipv6:[::1]:443", "::1"), ("unix:/tmp/s", "unix")],
)
def test_peer_host(peer: str, host: str) -> None:
    assert peer_host(peer) == host


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    forwarded = {"x-forwarded-for": "6.6.6.6, 203.0.113.9"}
    assert client_address("ipv4:127.0.0.1:1", forwarded, TRUSTED) == "203.0.113.9"
    assert client_address("ipv4:192.0.2.1:1", forwarded, TRUSTED) == "192.0.2.1"
    assert client_address("ipv4:127.0.0.1:1", {"x-forwarded-for": "junk"}, TRUSTED) == "127.0.0.1"
    assert client_address("ipv4:127.0.0.1:1", {}, TRUSTED) == "127.0.0.1"
