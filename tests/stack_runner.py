"""`vidmesh up` as a subprocess on free ports, for the tests that need the whole platform."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from harness import run_command

from vidmesh.common.ports import PORT_NAMES
from vidmesh.devstack.envoy import repo_root
from vidmesh.devstack.process import free_port

VIDMESH = str(Path(sys.executable).parent / "vidmesh")


async def read_until(
    stream: asyncio.StreamReader,
    marker: str,
    timeout: float,  # noqa: ASYNC109 - the failure shows what was read so far
) -> str:
    """The output up to and including the line with `marker`."""
    seen = ""
    try:
        async with asyncio.timeout(timeout):
            while marker not in seen:
                line = await stream.readline()
                if not line:
                    raise AssertionError(f"output ended before {marker!r}:\n{seen}")
                seen += line.decode()
    except TimeoutError:
        raise AssertionError(f"no {marker!r} within {timeout:g} s:\n{seen}") from None
    return seen


@dataclass
class RunningStack:
    process: asyncio.subprocess.Process
    ports: dict[str, int]
    banner: str
    data_dir: Path

    @property
    def output(self) -> asyncio.StreamReader:
        assert self.process.stdout is not None
        return self.process.stdout

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['http']}"


async def ensure_web_built() -> None:
    """Build the web app (`make web`) when `vidmesh up` would find it missing or older than its
    sources: only the suites that run the whole stack need it, so `make test-unit` and a run of
    service tests never pay for a web build."""
    async with _WEB_BUILD:
        if await asyncio.to_thread(_web_is_current):
            return
        made = await run_command(
            "make", "--no-print-directory", "web", cwd=repo_root(), timeout=600
        )
        assert made.code == 0, made.output[-3000:]


def _web_is_current() -> bool:
    web = repo_root() / "web"
    built = web / "dist" / "index.html"
    sources = [*web.joinpath("src").rglob("*"), web / "index.html", web / "package-lock.json"]
    newest = max(path.stat().st_mtime for path in sources if path.is_file())
    return built.is_file() and built.stat().st_mtime >= newest


_WEB_BUILD = asyncio.Lock()


@contextlib.asynccontextmanager
async def running_stack(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> AsyncIterator[RunningStack]:
    """Start `vidmesh up` (with `env` added to ours; the web app built first if it is stale),
    wait for its banner, and make sure it is gone afterwards."""
    await ensure_web_built()
    ports = {name.replace("_", "-"): free_port() for name in PORT_NAMES}
    flags = [arg for name, port in ports.items() for arg in (f"--{name}-port", str(port))]
    process = await asyncio.create_subprocess_exec(
        VIDMESH,
        "up",
        "--data-dir",
        str(data_dir),
        *args,
        *flags,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    try:
        banner = await read_until(process.stdout, "Press Ctrl-C", 180)
        yield RunningStack(process, ports, banner, data_dir)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 60)
            except TimeoutError:
                process.kill()
                await process.wait()
