"""`vidmesh up` as a newcomer runs it: everything starts, answers, and stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

import httpx
from harness import eventually
from stack_runner import read_until, running_stack

from vidmesh.devstack.process import port_open


async def test_up_serves_and_stops_everything_on_interrupt(vidmesh_workdir: Path) -> None:
    data_dir = vidmesh_workdir / "stack"
    args = ("--admin-emails", "root@example.com", "--playback", "2")
    async with running_stack(data_dir, *args) as stack:
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
        await both_playbacks_serve(data_dir, stack.ports["playback-http"])
        stack.process.send_signal(signal.SIGINT)
        stack.process.send_signal(signal.SIGINT)
        rest = await read_until(stack.output, "Stopped.", 60)
        assert "Traceback" not in rest
        assert await asyncio.wait_for(stack.process.wait(), 30) == 0
    assert not [name for name, port in stack.ports.items() if port_open(port)], "all stopped"


async def both_playbacks_serve(data_dir: Path, port: int) -> None:
    """`--playback 2`: two processes share the HLS port and the kernel spreads connections."""
    hls = f"http://127.0.0.1:{port}/hls/{uuid.uuid4()}/master.m3u8"
    for _ in range(40):
        async with httpx.AsyncClient() as fresh:  # a new connection each time
            assert (await fresh.get(hls)).status_code == 403
    logs = [data_dir / "logs" / name for name in ("playback.log", "playback-1.log")]

    async def both_answered() -> bool:
        return all(log.is_file() and "/hls/" in log.read_text() for log in logs)

    await eventually(both_answered, what="both playback processes answered HLS requests")


def children_of(pid: int) -> dict[str, int]:
    """The processes `pid` started, by a short name (`vidmesh.gateway`, `postgres`, `envoy`, …)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if parent != pid or not argv[0]:
            continue
        words = [a.decode() for a in argv if a]
        name = words[2] if len(words) > 2 and words[1] == "-m" else Path(words[0]).name
        found[name] = int(entry.name)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_up_restarts_a_crashed_service_and_dies_without_orphans(
    vidmesh_workdir: Path,
) -> None:
    data_dir = vidmesh_workdir / "stack-supervised"
    async with running_stack(data_dir) as stack:
        children = children_of(stack.process.pid)
        assert {"vidmesh.gateway", "vidmesh.ingest", "postgres", "nats-server", "envoy"} <= set(
            children
        ), children
        os.kill(children["vidmesh.gateway"], signal.SIGKILL)
        said = await read_until(stack.output, "gateway is back", 90)
        assert "gateway exited; restarting it" in said
        async with httpx.AsyncClient(base_url=stack.url) as http:

            async def serving() -> bool:
                # Envoy routes to the new gateway once its health check has passed again.
                return (await http.get("/v1/videos")).status_code == 200

            await eventually(serving, timeout=30, what="Envoy routes to the restarted gateway")
            registered = await http.post(
                "/v1/auth/register",
                json={"email": "back@example.com", "password": "0123456789ab"},
            )
            assert registered.status_code == 200, registered.text
        # Killed outright, `vidmesh up` takes every child with it.
        pids = list(children_of(stack.process.pid).values())
        stack.process.kill()
        await stack.process.wait()

        async def all_gone() -> bool:
            return not any(alive(pid) for pid in pids) and not any(
                port_open(port) for port in stack.ports.values()
            )

        await eventually(all_gone, timeout=30, what="no orphan outlives vidmesh up")
    # The next run starts cleanly over what the killed one left behind.
    async with running_stack(data_dir) as again, httpx.AsyncClient(base_url=again.url) as http:
        login = await http.post(
            "/v1/auth/login", json={"email": "back@example.com", "password": "0123456789ab"}
        )
        assert login.status_code == 200, login.text
