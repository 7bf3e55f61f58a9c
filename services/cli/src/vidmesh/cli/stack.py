"""`vidmesh up`: the whole platform on this machine, with embedded defaults and no Docker.

Data lives under one directory (default `./.vidmesh/`) and survives restarts: the PostgreSQL
cluster, the JetStream store, generated secrets and logs. Every process started here is stopped
on Ctrl-C or SIGTERM; one that crashes is restarted while the rest keep serving (see
`supervisor`); and each one dies with this process if it is killed, so no orphan keeps a port.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from vidmesh.cli.supervisor import Supervised, Supervisor
from vidmesh.common.ports import PORT_NAMES, Ports
from vidmesh.common.tracing import otlp_traces_url
from vidmesh.devstack.envoy import EdgeConfig, EnvoyProxy, repo_root
from vidmesh.devstack.nats import NatsServer
from vidmesh.devstack.postgres import PostgresCluster
from vidmesh.devstack.process import (
    ManagedProcess,
    ServerProcess,
    StartupError,
    free_port,
    grpc_serving,
    http_ok,
    port_open,
)


@dataclass(frozen=True, slots=True)
class StackSecrets:
    jwt_secret: str
    postgres_password: str


def load_secrets(data_dir: Path) -> StackSecrets:
    """Secrets made once per data directory and kept private (0600)."""
    path = data_dir / "secrets.json"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        values = {
            "jwt_secret": secrets.token_urlsafe(48),
            "postgres_password": secrets.token_urlsafe(24),
        }
        path.touch(mode=0o600)
        path.write_text(json.dumps(values))
    values = json.loads(path.read_text())
    return StackSecrets(values["jwt_secret"], values["postgres_password"])


def ensure_ffmpeg() -> None:
    """ffmpeg and ffprobe come from the system: install Debian's package as root, else explain."""
    if shutil.which("ffmpeg") and shutil.which("ffprobe"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("  installing ffmpeg (apt-get) …", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "ffmpeg"]):
            done = subprocess.run(
                argv, check=False, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
            )
        if done.returncode == 0 and shutil.which("ffprobe"):
            return
    raise StartupError("ffmpeg and ffprobe are needed: install your system's ffmpeg package")


class LocalStack:
    """Starts and supervises PostgreSQL, NATS, the services and Envoy."""

    def __init__(
        self,
        data_dir: Path,
        ports: Ports,
        *,
        admin_emails: str = "",
        transcoders: int = 1,
        transcoder_cpus: tuple[int, ...] = (),
        playbacks: int = 1,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.ports = ports
        self.admin_emails = admin_emails
        self.transcoders = transcoders
        # Pin transcoder i to CPU transcoder_cpus[i] (simulated one-core hosts, benchmarks).
        self.transcoder_cpus = transcoder_cpus
        self.playbacks = playbacks
        self._stopping = threading.Event()
        self._stoppers: list[Callable[[], None]] = []
        self.processes: dict[str, ManagedProcess] = {}
        self.supervisor = Supervisor()

    def _check_ports(self) -> None:
        for name in PORT_NAMES:
            port = getattr(self.ports, name)
            if port_open(port):
                raise StartupError(
                    f"port {port} ({name}) is already in use; stop what uses it or pick "
                    f"another with --{name.replace('_', '-')}-port"
                )

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def start(self) -> None:
        self._check_ports()
        ensure_ffmpeg()
        web_root = repo_root() / "web" / "dist"
        if not (web_root / "index.html").is_file():
            raise StartupError(f"the web app is not built ({web_root}): run 'make web'")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o755)
        logs = self.data_dir / "logs"
        keys = load_secrets(self.data_dir)

        postgres = PostgresCluster(
            self.data_dir / "postgres", port=self.ports.postgres, password=keys.postgres_password
        )
        self._server("postgres", postgres)
        database_url = postgres.create_database("vidmesh")

        nats = NatsServer(self.data_dir / "nats" / "store", port=self.ports.nats)
        self._server("nats-server", nats)

        env = {
            "VIDMESH_DATABASE_URL": database_url,
            "VIDMESH_NATS_URL": nats.url,
            "VIDMESH_STORAGE_URL": f"file://{self.data_dir / 'storage'}",
            "VIDMESH_JWT_SECRET": keys.jwt_secret,
            "VIDMESH_GATEWAY_PORT": str(self.ports.gateway),
            "VIDMESH_GATEWAY_METRICS_PORT": str(self.ports.gateway_metrics),
            "VIDMESH_INGEST_METRICS_PORT": str(self.ports.ingest_metrics),
            "VIDMESH_GATEWAY_ADMIN_EMAILS": self.admin_emails,
            # A machine of one's own: webhooks may go to receivers on it (localhost) unless
            # the environment says otherwise; compose and Kubernetes keep them refused.
            "VIDMESH_GATEWAY_WEBHOOK_ALLOW_PRIVATE": os.environ.get(
                "VIDMESH_GATEWAY_WEBHOOK_ALLOW_PRIVATE", "true"
            ),
        }
        env.update(
            {
                "VIDMESH_INGEST_PORT": str(self.ports.ingest),
                "VIDMESH_INGEST_GATEWAY_ADDRESS": f"127.0.0.1:{self.ports.gateway}",
                "VIDMESH_INGEST_SPOOL_DIR": str(self.data_dir / "spool"),
                "VIDMESH_INGEST_HTTP_PORT": str(self.ports.ingest_http),
                "VIDMESH_TRANSCODER_GATEWAY_ADDRESS": f"127.0.0.1:{self.ports.gateway}",
                "VIDMESH_PLAYBACK_PORT": str(self.ports.playback),
                "VIDMESH_PLAYBACK_HTTP_PORT": str(self.ports.playback_http),
                "VIDMESH_PLAYBACK_GATEWAY_ADDRESS": f"127.0.0.1:{self.ports.gateway}",
            }
        )
        # Gateway first (it owns the schema), the transcoder next (it owns the queue topology).
        self._service("gateway", self.ports.gateway, env, logs)
        for index in range(self.transcoders):
            # The first one serves the admin API Envoy routes to; all of them share the chunks.
            port = self.ports.transcoder if index == 0 else free_port()
            own = {
                "VIDMESH_TRANSCODER_PORT": str(port),
                "VIDMESH_TRANSCODER_METRICS_PORT": str(
                    self.ports.transcoder_metrics if index == 0 else free_port()
                ),
                "VIDMESH_TRANSCODER_WORK_DIR": str(self.data_dir / "transcoder" / str(index)),
                "VIDMESH_TRANSCODER_WORKER_NAME": f"transcoder-{index}",
            }
            name = "transcoder" if index == 0 else f"transcoder-{index}"
            pinned = self.transcoder_cpus
            cpu = pinned[index % len(pinned)] if pinned else None
            self._service(name, port, {**env, **own}, logs, module="transcoder", cpu=cpu)
        self._service("ingest", self.ports.ingest, env, logs)
        for index in range(self.playbacks):
            # All share the HLS port (the kernel spreads Envoy's connections over them); the
            # first serves the gRPC port Envoy routes to, the others their own for health.
            port = self.ports.playback if index == 0 else free_port()
            own = {
                "VIDMESH_PLAYBACK_PORT": str(port),
                "VIDMESH_PLAYBACK_METRICS_PORT": str(
                    self.ports.playback_metrics if index == 0 else free_port()
                ),
            }
            if self.playbacks > 1:
                own["VIDMESH_PLAYBACK_REUSE_PORT"] = "true"
            name = "playback" if index == 0 else f"playback-{index}"
            self._service(name, port, {**env, **own}, logs, module="playback")

        self._web(web_root, logs)

        edge = EdgeConfig(
            listen_port=self.ports.http,
            admin_port=self.ports.envoy_admin,
            gateway_port=self.ports.gateway,
            ingest_port=self.ports.ingest,
            ingest_http_port=self.ports.ingest_http,
            transcoder_port=self.ports.transcoder,
            playback_port=self.ports.playback,
            playback_http_port=self.ports.playback_http,
            web_port=self.ports.web,
            traces_url=otlp_traces_url(),
        )
        envoy = EnvoyProxy(edge, self.data_dir / "envoy")
        self._server("envoy", envoy)

    def _service(
        self,
        name: str,
        port: int,
        env: dict[str, str],
        logs: Path,
        *,
        module: str = "",
        cpu: int | None = None,
    ) -> None:
        argv = [sys.executable, "-m", f"vidmesh.{module or name}"]
        if cpu is not None:
            argv = ["taskset", "--cpu-list", str(cpu), *argv]
        process = ManagedProcess(name, argv, log_path=logs / f"{name}.log", env=env)
        self.processes[name] = process

        self._launch(name, process, grpc_serving(port), 120)

    def _web(self, root: Path, logs: Path) -> None:
        argv = [sys.executable, "-m", "vidmesh.cli.webapp", "--root", str(root)]
        process = ManagedProcess(
            "web", [*argv, "--port", str(self.ports.web)], log_path=logs / "web.log"
        )
        self.processes["web"] = process

        self._launch("web", process, http_ok(f"http://127.0.0.1:{self.ports.web}/"), 60)

    def _launch(
        self, name: str, process: ManagedProcess, ready: Callable[[], bool], timeout: float
    ) -> None:
        """Start one of the stack's own processes, wait until it serves, then supervise it."""
        self._begin(name, process.stop)
        process.start()
        process.wait_ready(ready, timeout)
        self.supervisor.add(
            Supervised(name, process.start, ready, process.stop, process.running, process.log_path)
        )

    def _server(self, name: str, server: ServerProcess) -> None:
        """Start a local server (PostgreSQL, NATS, Envoy), wait until it serves, supervise it."""
        self._begin(name, server.stop)
        server.start()
        self.supervisor.add(
            Supervised(
                name, server.launch, server.ready, server.stop, server.running, server.log_path
            )
        )

    def _begin(self, name: str, stop: Callable[[], None]) -> None:
        if self._stopping.is_set():
            raise StartupError("interrupted")
        print(f"  starting {name} …", flush=True)
        self._stoppers.append(stop)

    @contextlib.contextmanager
    def signals_handled(self) -> Iterator[None]:
        """Turn SIGINT/SIGTERM into a stop request for as long as the stack runs and stops.

        Ctrl-C reaches make, uv and this process at once, and uv forwards it again: handlers
        stay installed until every child is stopped, so a second signal cannot cut a stop short.
        The children run in their own sessions and hear only from us.
        """
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def wait(self) -> None:
        """Block until a stop is requested, restarting crashed processes meanwhile.

        Raises `CrashLoop` when one keeps crashing.
        """
        while not self._stopping.wait(0.5):
            self.supervisor.check()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stopping.set()

    def stop(self) -> None:
        for stop in reversed(self._stoppers):
            stop()
        self._stoppers.clear()
