"""Run ingest: settings → logging → dependencies → serve()."""

from __future__ import annotations

import asyncio

from vidmesh.common.config import CommonSettings
from vidmesh.common.logs import configure_logging
from vidmesh.common.server import serve
from vidmesh.common.storage import open_store
from vidmesh.common.tokens import TokenCodec
from vidmesh.ingest.app import ingest
from vidmesh.ingest.settings import IngestSettings


async def run() -> None:
    common = CommonSettings()
    settings = IngestSettings()
    configure_logging("ingest", common.log_level)
    codec = TokenCodec.from_settings(common)
    store = open_store(common.storage_url)
    async with ingest(settings, nats_url=common.nats_url, store=store, codec=codec) as app:
        await serve(
            app.bindings,
            codec=codec,
            settings=settings,
        )


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
