"""Run gateway: its wiring (database, change listener, servicers, loops) under the shared
runtime."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from vidmesh.common.runtime import Runtime, run_service
from vidmesh.gateway.app import Gateway, gateway
from vidmesh.gateway.settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings()

    def wire(runtime: Runtime) -> AbstractAsyncContextManager[Gateway]:
        return gateway(settings, runtime.common.database_url, runtime.codec, runtime.store)

    run_service("gateway", settings, wire)


if __name__ == "__main__":
    main()
