"""Fixtures for integration tests: a real gateway on a fresh database, and Envoy in front."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from harness import ADMIN_EMAIL, GatewayFactory, GatewayHarness

from vidmesh.common.local.envoy import EnvoyProxy
from vidmesh.common.local.postgres import PostgresCluster
from vidmesh.common.server import create_server
from vidmesh.common.tokens import TokenCodec
from vidmesh.gateway.app import gateway
from vidmesh.gateway.migrate import upgrade_to_head
from vidmesh.gateway.settings import GatewaySettings


@pytest.fixture(scope="session")
async def gateway_template(postgres_cluster: PostgresCluster) -> str:
    """A migrated database that test databases are copied from."""
    url = postgres_cluster.create_database("gateway_template")
    await upgrade_to_head(url)
    return "gateway_template"


@pytest.fixture
async def gateway_factory(
    database_factory: Callable[..., str], gateway_template: str, token_codec: TokenCodec
) -> AsyncIterator[GatewayFactory]:
    """Starts gateways on fresh databases (settings overridable); stops them after the test."""
    stack: list[tuple[Any, GatewayHarness]] = []

    async def start(**overrides: Any) -> GatewayHarness:
        settings = GatewaySettings(port=0, admin_emails=ADMIN_EMAIL, **overrides)
        url = database_factory(template=gateway_template)
        context = gateway(settings, url, token_codec)
        app = await context.__aenter__()
        server = await create_server(app.bindings, codec=token_codec)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        harness = GatewayHarness(server, channel, token_codec, url)
        stack.append((context, harness))
        return harness

    yield start
    for context, harness in reversed(stack):
        await harness.channel.close()
        await harness.server.stop(0)
        await context.__aexit__(None, None, None)


@pytest.fixture
async def gw(gateway_factory: GatewayFactory) -> GatewayHarness:
    """A gateway on its own database."""
    harness: GatewayHarness = await gateway_factory()
    return harness


@pytest.fixture
def edge(gw: GatewayHarness, envoy_factory: Callable[[int], EnvoyProxy]) -> EnvoyProxy:
    """A real Envoy in front of `gw`."""
    return envoy_factory(gw.port)
