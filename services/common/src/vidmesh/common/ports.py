"""Every listener's default port, in one table.

The services' settings, `vidmesh up` (and its `--*-port` flags), the CLI's default addresses,
the Envoy renderer and the compose checks all read it, so a port changes in one place. In
containers each service has its own address and keeps its default; `vidmesh up` and the tests
run everything on one host and override whichever they need.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class Ports:
    http: int = 8080  # Envoy: the API, the web app and HLS, the only public port
    envoy_admin: int = 9901
    gateway: int = 50051
    ingest: int = 50052
    ingest_http: int = 8052  # tus resumable uploads
    transcoder: int = 50054
    playback: int = 50053
    playback_http: int = 8053  # HLS delivery
    web: int = 8090  # the built web app (`vidmesh up`)
    postgres: int = 5432
    nats: int = 4222
    gateway_metrics: int = 9151
    ingest_metrics: int = 9152
    playback_metrics: int = 9153
    transcoder_metrics: int = 9154


DEFAULT_PORTS = Ports()
PORT_NAMES = tuple(field.name for field in fields(Ports))


def local_address(port: int) -> str:
    """`127.0.0.1:<port>`: where a service finds another one on the same host by default."""
    return f"127.0.0.1:{port}"
