"""Run a transcoder: settings → logging → dependencies → worker + admin server."""

from __future__ import annotations

import asyncio

from vidmesh.common.config import CommonSettings
from vidmesh.common.logs import configure_logging
from vidmesh.common.server import install_stop_signals, serve
from vidmesh.common.storage import open_store
from vidmesh.common.tokens import TokenCodec
from vidmesh.transcoder.app import transcoder
from vidmesh.transcoder.settings import TranscoderSettings


async def run() -> None:
    common = CommonSettings()
    settings = TranscoderSettings()
    configure_logging("transcoder", common.log_level)
    codec = TokenCodec.from_settings(common)
    stop = asyncio.Event()
    install_stop_signals(stop)
    store = open_store(common.storage_url)
    async with transcoder(settings, nats_url=common.nats_url, store=store, codec=codec) as app:
        await asyncio.gather(
            app.worker.run(stop),
            serve(
                app.bindings,
                codec=codec,
                settings=settings,
                stop=stop,
            ),
        )


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
