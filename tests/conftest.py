"""Fixtures for integration tests: a real gateway on a fresh database, and Envoy in front."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
import nats
import pytest
from harness import (
    ADMIN_EMAIL,
    BackgroundLoops,
    GatewayFactory,
    GatewayHarness,
    IngestFactory,
    IngestHarness,
    TranscoderFactory,
    TranscoderHarness,
)
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from vidmesh.common.queue_topology import QueuePolicy, ensure_topology
from vidmesh.common.runtime import run_loops
from vidmesh.common.server import RunningServer, create_server
from vidmesh.common.storage import BlobStore, FileBlobStore
from vidmesh.common.tokens import TokenCodec
from vidmesh.common.transcode_tasks import DLQ_STREAM, JOBS_STREAM
from vidmesh.devstack.envoy import EnvoyProxy
from vidmesh.devstack.nats import NatsServer
from vidmesh.devstack.postgres import PostgresCluster
from vidmesh.gateway.app import gateway
from vidmesh.gateway.migrate import upgrade_to_head
from vidmesh.gateway.settings import GatewaySettings
from vidmesh.ingest.app import ingest
from vidmesh.ingest.settings import IngestSettings
from vidmesh.playback.app import playback
from vidmesh.playback.settings import PlaybackSettings
from vidmesh.transcoder.app import transcoder
from vidmesh.transcoder.settings import TranscoderSettings
from vidmesh.v1 import ingest_pb2_grpc


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/ runs the services (in-process or as processes) on real servers:
    the integration tier. The unit tier lives next to the code, in services/*/tests."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
async def gateway_template(postgres_cluster: PostgresCluster) -> str:
    """A migrated database that test databases are copied from."""
    url = postgres_cluster.create_database("gateway_template")
    await upgrade_to_head(url)
    return "gateway_template"


async def serving(
    stack: contextlib.AsyncExitStack, bindings: Any, codec: TokenCodec
) -> RunningServer:
    """A gRPC server for `bindings` on a free port, stopped when `stack` closes."""
    server = await create_server(bindings, codec=codec)

    async def stop() -> None:
        await server.stop(0)

    stack.push_async_callback(stop)
    return server


@pytest.fixture
async def gateway_factory(
    database_factory: Callable[..., str],
    gateway_template: str,
    token_codec: TokenCodec,
    store: FileBlobStore,
) -> AsyncIterator[GatewayFactory]:
    """Starts gateways on fresh databases (settings overridable); stops them after the test."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> GatewayHarness:
            settings = GatewaySettings(port=0, admin_emails=ADMIN_EMAIL, **overrides)
            url = database_factory(template=gateway_template)
            app = await stack.enter_async_context(gateway(settings, url, token_codec, store))
            server = await serving(stack, app.bindings, token_codec)
            stack.push_async_callback(BackgroundLoops(app.loops).stop)
            channel = await stack.enter_async_context(
                grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
            )
            return GatewayHarness(server, channel, token_codec, url)

        yield start


@pytest.fixture
async def gw(gateway_factory: GatewayFactory) -> GatewayHarness:
    """A gateway on its own database."""
    harness: GatewayHarness = await gateway_factory()
    return harness


@pytest.fixture
def edge(gw: GatewayHarness, envoy_factory: Callable[..., EnvoyProxy]) -> EnvoyProxy:
    """A real Envoy in front of `gw`."""
    return envoy_factory(gw.port)


@pytest.fixture
async def jetstream(nats_server: NatsServer) -> AsyncIterator[JetStreamContext]:
    """JetStream with a fresh transcode topology for this test."""
    client = await nats.connect(nats_server.url)
    js = client.jetstream()
    for name in (JOBS_STREAM, DLQ_STREAM):
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(name)
    await ensure_topology(js, QueuePolicy())
    yield js
    await client.close()


@pytest.fixture
def store(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / "objects")


@pytest.fixture
async def ingest_factory(
    gw: GatewayHarness,
    nats_server: NatsServer,
    jetstream: JetStreamContext,
    store: FileBlobStore,
    token_codec: TokenCodec,
    tmp_path: Path,
) -> AsyncIterator[IngestFactory]:
    """Starts ingest servers (settings overridable) talking to `gw`, NATS and `store`."""
    count = itertools.count()
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> IngestHarness:
            options: dict[str, Any] = {
                "port": 0,
                "http_port": 0,
                "gateway_address": f"127.0.0.1:{gw.port}",
                "spool_dir": tmp_path / f"spool-{next(count)}",
            }
            settings = IngestSettings(**{**options, **overrides})
            app = await stack.enter_async_context(
                ingest(settings, nats_url=nats_server.url, store=store, codec=token_codec)
            )
            server = await serving(stack, app.bindings, token_codec)
            stack.push_async_callback(BackgroundLoops(app.loops).stop)
            channel = await stack.enter_async_context(
                grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
            )
            return IngestHarness(
                gw=gw,
                port=server.port,
                stub=ingest_pb2_grpc.IngestServiceStub(channel),
                intake=app.intake,
                http_port=app.http_port,
                store=store,
                spool_dir=settings.spool_dir,
                jetstream=jetstream,
            )

        yield start


@pytest.fixture
async def ing(ingest_factory: IngestFactory) -> IngestHarness:
    return await ingest_factory()


@pytest.fixture(scope="session")
def media_dir(vidmesh_workdir: Path) -> Path:
    path = vidmesh_workdir / "media"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
async def transcoder_factory(
    gw: GatewayHarness,
    nats_server: NatsServer,
    jetstream: JetStreamContext,
    store: FileBlobStore,
    token_codec: TokenCodec,
    tmp_path: Path,
) -> AsyncIterator[TranscoderFactory]:
    """Starts in-process transcoders (worker loop + admin server); stops them after the test."""
    count = itertools.count()
    async with contextlib.AsyncExitStack() as stack:

        async def start(
            store_override: BlobStore | None = None, **overrides: Any
        ) -> TranscoderHarness:
            index = next(count)
            options: dict[str, Any] = {
                "port": 0,
                "gateway_address": f"127.0.0.1:{gw.port}",
                "work_dir": tmp_path / f"work-{index}",
                "worker_name": f"test-worker-{index}",
                "backoff_seconds": 0.2,
                "preset": "ultrafast",
            }
            settings = TranscoderSettings(**{**options, **overrides})
            app = await stack.enter_async_context(
                transcoder(
                    settings,
                    nats_url=nats_server.url,
                    store=store_override or store,
                    codec=token_codec,
                )
            )
            server = await serving(stack, app.bindings, token_codec)
            stop = asyncio.Event()
            task = asyncio.create_task(run_loops(app.loops, stop))

            async def stop_loops() -> None:
                stop.set()
                await task

            stack.push_async_callback(stop_loops)
            return TranscoderHarness(
                worker=app.worker, port=server.port, settings=settings, stop=stop, task=task
            )

        yield start


@pytest.fixture
def playback_overrides() -> dict[str, Any]:
    """Playback settings a test module changes (it overrides this fixture)."""
    return {}


@pytest.fixture
async def playback_server(
    gw: GatewayHarness,
    store: FileBlobStore,
    token_codec: TokenCodec,
    playback_overrides: dict[str, Any],
) -> AsyncIterator[tuple[int, int]]:
    """Playback (gRPC port, HLS HTTP port) in front of `gw` and `store`."""
    settings = PlaybackSettings(
        port=0, http_port=0, gateway_address=f"127.0.0.1:{gw.port}", **playback_overrides
    )
    async with playback(settings, store=store, codec=token_codec) as app:
        server = await create_server(app.bindings, codec=token_codec)
        yield server.port, app.http_port
        await server.stop(0)


@pytest.fixture
async def edge_proxy(
    gw: GatewayHarness,
    ing: IngestHarness,
    transcoder_factory: TranscoderFactory,
    playback_server: tuple[int, int],
    envoy_factory: Callable[..., EnvoyProxy],
) -> EnvoyProxy:
    worker = await transcoder_factory()
    return envoy_factory(gw.port, ing.port, worker.port, *playback_server, ing.http_port)


@pytest.fixture
def edge_url(edge_proxy: EnvoyProxy) -> str:
    return edge_proxy.url


@pytest.fixture
async def http(edge_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=edge_url, timeout=120) as client:
        yield client
