"""Run gateway: settings → logging → dependencies → serve()."""

from __future__ import annotations

import asyncio

from vidmesh.common.config import CommonSettings
from vidmesh.common.logs import configure_logging
from vidmesh.common.server import install_stop_signals, serve
from vidmesh.common.storage import open_store
from vidmesh.common.tokens import TokenCodec
from vidmesh.gateway.app import gateway
from vidmesh.gateway.settings import GatewaySettings


async def run() -> None:
    common = CommonSettings()
    settings = GatewaySettings()
    configure_logging("gateway", common.log_level)
    codec = TokenCodec.from_settings(common)
    stop = asyncio.Event()
    install_stop_signals(stop)
    store = open_store(common.storage_url)
    async with gateway(settings, common.database_url, codec, store) as app:
        stop_watchers = asyncio.create_task(stop.wait())
        stop_watchers.add_done_callback(lambda _: app.hub.closing.set())
        await serve(
            app.bindings,
            codec=codec,
            settings=settings,
            stop=stop,
        )


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
