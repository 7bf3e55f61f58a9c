"""Run playback: its wiring (gateway channel, HLS listener, servicer) under the shared
runtime."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from vidmesh.common.runtime import Runtime, run_service
from vidmesh.playback.app import Playback, playback
from vidmesh.playback.settings import PlaybackSettings


def main() -> None:
    settings = PlaybackSettings()

    def wire(runtime: Runtime) -> AbstractAsyncContextManager[Playback]:
        return playback(
            settings, store=runtime.store, codec=runtime.codec, reuse_port=settings.reuse_port
        )

    run_service("playback", settings, wire)


if __name__ == "__main__":
    main()
