"""`vidmesh up` as a newcomer runs it: everything starts, answers, and stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import httpx

from vidmesh.cli.stack import PORT_NAMES
from vidmesh.common.local.process import free_port, port_open

VIDMESH = str(Path(sys.executable).parent / "vidmesh")


async def read_until(stream: asyncio.StreamReader, marker: str, timeout: float) -> str:
    seen = ""
    async with asyncio.timeout(timeout):
        while marker not in seen:
            line = await stream.readline()
            if not line:
                raise AssertionError(f"output ended before {marker!r}:\n{seen}")
            seen += line.decode()
    return seen


async def test_up_serves_and_stops_everything_on_interrupt(vidmesh_workdir: Path) -> None:
    ports = {name.replace("_", "-"): free_port() for name in PORT_NAMES}
    flags = [arg for name, port in ports.items() for arg in (f"--{name}-port", str(port))]
    process = await asyncio.create_subprocess_exec(
        VIDMESH,
        "up",
        "--data-dir",
        str(vidmesh_workdir / "stack"),
        "--admin-emails",
        "root@example.com",
        *flags,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    try:
        banner = await read_until(process.stdout, "Press Ctrl-C", 180)
        assert f"http://localhost:{ports['http']}" in banner
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['http']}") as http:
            registered = await http.post(
                "/v1/auth/register",
                json={"email": "root@example.com", "password": "0123456789ab"},
            )
            assert registered.status_code == 200
            assert registered.json()["user"]["role"] == "ROLE_ADMIN"
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGINT)
        rest = await read_until(process.stdout, "Stopped.", 60)
        assert "Traceback" not in rest
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert not [name for name, port in ports.items() if port_open(port)], "all processes stopped"
