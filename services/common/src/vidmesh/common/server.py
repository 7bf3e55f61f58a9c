"""One way to start a service: health, reflection, the shared interceptor, graceful drain.

`create_server()` binds (port 0 picks a free port, for tests) and returns the running server;
`serve()` runs it until SIGTERM or SIGINT, then drains: health goes NOT_SERVING so load
balancers stop sending, in-flight calls get `grace_seconds` to finish, and then it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from vidmesh.common.config import ServerSettings
from vidmesh.common.http import http_listener
from vidmesh.common.interceptor import ServiceInterceptor
from vidmesh.common.metrics import metrics_app
from vidmesh.common.tokens import TokenCodec

_log = logging.getLogger("vidmesh.server")

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
MAX_METADATA_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class ServiceBinding:
    """A servicer to expose: its full proto service name and how to add it to a server."""

    name: str
    register: Callable[[grpc.aio.Server], None]


@dataclass(slots=True)
class RunningServer:
    """A started server, the port it is bound to, and its health servicer."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    service_names: Sequence[str] = field(default_factory=tuple)

    async def stop(self, grace: float) -> None:
        """Report NOT_SERVING, let in-flight calls finish for `grace` seconds, then stop."""
        for name in (*self.service_names, ""):
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace)


async def create_server(
    bindings: Sequence[ServiceBinding],
    *,
    codec: TokenCodec,
    host: str = "127.0.0.1",
    port: int = 0,
    reuse_port: bool = False,
) -> RunningServer:
    """Build, bind and start a gRPC server exposing `bindings`, health and reflection; with
    `reuse_port` several processes may serve one port (otherwise a taken port is an error)."""
    server = grpc.aio.server(
        interceptors=[ServiceInterceptor(codec)],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", int(reuse_port)),
            # Above Envoy's 16 KiB header cap, so an over-long header is Envoy's clean 431
            # rather than gRPC's soft limit, which refuses at random between soft and hard.
            ("grpc.max_metadata_size", MAX_METADATA_BYTES),
            ("grpc.absolute_max_metadata_size", MAX_METADATA_BYTES),
        ],
    )
    for binding in bindings:
        binding.register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [binding.name for binding in bindings]
    reflection.enable_server_reflection(
        [
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    bound = server.add_insecure_port(address)
    if bound == 0:
        raise OSError(f"could not bind {address}")
    await server.start()
    for name in (*names, ""):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server=server, port=bound, health=health_servicer, service_names=names)


def install_stop_signals(stop: asyncio.Event) -> None:
    """Set `stop` on SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def serve(
    bindings: Sequence[ServiceBinding],
    *,
    codec: TokenCodec,
    settings: ServerSettings,
    stop: asyncio.Event | None = None,
) -> None:
    """Run a server until `stop` is set (by default, until SIGTERM or SIGINT), then drain."""
    if stop is None:
        stop = asyncio.Event()
        install_stop_signals(stop)
    grace_seconds = settings.grace_seconds
    running = await create_server(
        bindings,
        codec=codec,
        host=settings.host,
        port=settings.port,
        reuse_port=settings.reuse_port,
    )
    _log.info("serving", extra={"port": running.port, "services": [b.name for b in bindings]})
    async with contextlib.AsyncExitStack() as exposed:
        if settings.metrics_port >= 0:
            port = await exposed.enter_async_context(
                http_listener(metrics_app(), settings.host, settings.metrics_port)
            )
            _log.info("metrics", extra={"port": port})
        await stop.wait()
        _log.info("draining", extra={"grace_seconds": grace_seconds})
        await running.stop(grace_seconds)
    _log.info("stopped")
