"""One way to run a service process: settings, logging, tracing, dependencies, servers, loops.

`run_service()` is every service's `main()`. It configures JSON logging and the tracer
provider, builds the shared dependencies (token codec, blob store), enters the service's own
wiring in an `AsyncExitStack` (so whatever it opened, NATS, channels, the database, listeners,
is closed in reverse order however the process ends), then runs the gRPC server (with the
shared interceptor: errors, auth, logging, metrics, tracing; health, reflection and the
`/metrics` listener) and every background loop of the wiring in one `TaskGroup`.

SIGTERM or SIGINT sets one stop event: the server drains (health NOT_SERVING, in-flight calls
get their grace period), every loop returns at its next check, and only then are the
dependencies closed. A loop that crashes cancels the group and the process exits non-zero, so
the supervisor (compose, Kubernetes, `vidmesh up`) restarts it: no task runs untracked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from vidmesh.common.config import CommonSettings, ServerSettings
from vidmesh.common.logs import configure_logging
from vidmesh.common.outages import periodically
from vidmesh.common.server import ServiceBinding, install_stop_signals, serve
from vidmesh.common.storage import BlobStore, open_store
from vidmesh.common.tokens import TokenCodec
from vidmesh.common.tracing import configure_tracing

_log = logging.getLogger("vidmesh.runtime")


@dataclass(frozen=True, slots=True)
class Loop:
    """A background loop of a service: `run(stop)` returns soon after `stop` is set."""

    name: str
    run: Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def every(seconds: float, what: str, step: Callable[[], Awaitable[object]]) -> Loop:
    """A loop running `step` every `seconds` (see `periodically` for how failures are kept)."""
    return Loop(what.replace(" ", "-"), lambda stop: periodically(step, seconds, what, stop))


class Wiring(Protocol):
    """What a service's wiring yields: its gRPC servicers and its background loops."""

    @property
    def bindings(self) -> Sequence[ServiceBinding]: ...

    @property
    def loops(self) -> Sequence[Loop]: ...


async def run_loops(loops: Sequence[Loop], stop: asyncio.Event) -> None:
    """Run `loops` together until each has returned (after `stop`); one crash stops them all."""
    async with asyncio.TaskGroup() as group:
        for loop in loops:
            group.create_task(loop.run(stop), name=loop.name)


@dataclass(frozen=True, slots=True)
class Runtime:
    """The dependencies every service shares, built from `CommonSettings`."""

    common: CommonSettings
    codec: TokenCodec
    store: BlobStore


Wire = Callable[[Runtime], AbstractAsyncContextManager[Wiring]]


def run_service(name: str, settings: ServerSettings, wire: Wire) -> None:
    """Run service `name` until SIGTERM or SIGINT, then drain and close everything."""
    asyncio.run(_run(name, settings, wire))


async def _run(name: str, settings: ServerSettings, wire: Wire) -> None:
    common = CommonSettings()
    configure_logging(name, common.log_level)
    stop = asyncio.Event()
    install_stop_signals(stop)
    async with contextlib.AsyncExitStack() as dependencies:
        dependencies.callback(configure_tracing(name))
        runtime = Runtime(
            common=common,
            codec=TokenCodec.from_settings(common),
            store=open_store(common.storage_url),
        )
        wiring = await dependencies.enter_async_context(wire(runtime))
        async with asyncio.TaskGroup() as group:
            group.create_task(
                serve(wiring.bindings, codec=runtime.codec, settings=settings, stop=stop),
                name="grpc-server",
            )
            group.create_task(run_loops(wiring.loops, stop), name="loops")
        _log.info("closing dependencies")
