"""`vidmesh up` as a newcomer runs it: everything starts, answers, and stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
from stack_runner import read_until, running_stack

from vidmesh.common.local.process import port_open


async def test_up_serves_and_stops_everything_on_interrupt(vidmesh_workdir: Path) -> None:
    data_dir = vidmesh_workdir / "stack"
    async with running_stack(data_dir, "--admin-emails", "root@example.com") as stack:
        assert f"http://localhost:{stack.ports['http']}" in stack.banner
        async with httpx.AsyncClient(base_url=stack.url) as http:
            registered = await http.post(
                "/v1/auth/register",
                json={"email": "root@example.com", "password": "0123456789ab"},
            )
            assert registered.status_code == 200
            assert registered.json()["user"]["role"] == "ROLE_ADMIN"
            page = await http.get("/watch/anything")
            assert page.status_code == 200
            assert '<div id="root">' in page.text, "the web app answers its own routes"
        stack.process.send_signal(signal.SIGINT)
        stack.process.send_signal(signal.SIGINT)
        rest = await read_until(stack.output, "Stopped.", 60)
        assert "Traceback" not in rest
        assert await asyncio.wait_for(stack.process.wait(), 30) == 0
    assert not [name for name, port in stack.ports.items() if port_open(port)], "all stopped"
