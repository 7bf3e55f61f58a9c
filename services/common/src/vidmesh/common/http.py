"""Plain-HTTP listeners (tus in ingest, HLS in playback) next to a service's gRPC server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web


@contextlib.asynccontextmanager
async def http_listener(app: web.Application, host: str, port: int) -> AsyncIterator[int]:
    """Serve `app` on `host:port` (0 picks a free port) and yield the bound port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        yield int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
    finally:
        await runner.cleanup()
