"""Run playback: settings → logging → dependencies → HLS listener + serve()."""

from __future__ import annotations

import asyncio

from vidmesh.common.config import CommonSettings
from vidmesh.common.logs import configure_logging
from vidmesh.common.server import serve
from vidmesh.common.storage import open_store
from vidmesh.common.tokens import TokenCodec
from vidmesh.playback.app import playback
from vidmesh.playback.settings import PlaybackSettings


async def run() -> None:
    common = CommonSettings()
    settings = PlaybackSettings()
    configure_logging("playback", common.log_level)
    codec = TokenCodec.from_settings(common)
    store = open_store(common.storage_url)
    async with playback(settings, store=store, codec=codec, reuse_port=settings.reuse_port) as app:
        await serve(
            app.bindings,
            codec=codec,
            settings=settings,
        )


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
