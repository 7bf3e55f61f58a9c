"""Run a transcoder: its wiring (worker, admin server, loops) under the shared runtime."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from vidmesh.common.runtime import Runtime, run_service
from vidmesh.transcoder.app import Transcoder, transcoder
from vidmesh.transcoder.settings import TranscoderSettings


def main() -> None:
    settings = TranscoderSettings()

    def wire(runtime: Runtime) -> AbstractAsyncContextManager[Transcoder]:
        return transcoder(
            settings, nats_url=runtime.common.nats_url, store=runtime.store, codec=runtime.codec
        )

    run_service("transcoder", settings, wire)


if __name__ == "__main__":
    main()
