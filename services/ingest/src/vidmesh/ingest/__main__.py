"""Run ingest: its wiring (NATS, spool, tus listener, servicer, upload maintenance) under the
shared runtime."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from vidmesh.common.runtime import Runtime, run_service
from vidmesh.ingest.app import Ingest, ingest
from vidmesh.ingest.settings import IngestSettings


def main() -> None:
    settings = IngestSettings()

    def wire(runtime: Runtime) -> AbstractAsyncContextManager[Ingest]:
        return ingest(
            settings, nats_url=runtime.common.nats_url, store=runtime.store, codec=runtime.codec
        )

    run_service("ingest", settings, wire)


if __name__ == "__main__":
    main()
