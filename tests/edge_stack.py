"""Helpers for tests that drive the whole stack through Envoy as a browser or player would."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from harness import run_command


async def account(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    body = {"email": email, "password": "a long enough password"}
    response = await http.post("/v1/auth/register", json=body)
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['credentials']['accessToken']}"}


async def upload_ready(
    http: httpx.AsyncClient, auth: dict[str, str], source: Path, visibility: str
) -> str:
    headers = {
        **auth,
        "x-title": source.stem,
        "x-upload-length": str((await asyncio.to_thread(source.stat)).st_size),
        "x-visibility": visibility,
    }
    uploaded = await http.put(
        "/v1/videos:upload", content=await asyncio.to_thread(source.read_bytes), headers=headers
    )
    assert uploaded.status_code == 200, uploaded.text
    video_id = str(uploaded.json()["video"]["videoId"])
    async with http.stream("GET", f"/v1/videos/{video_id}:watch", headers=auth) as stream:
        states = [m["video"]["state"] for m in json.loads(await stream.aread())]
    assert states[-1] == "STATE_READY", states
    return video_id


async def ffmpeg_plays(url: str) -> None:
    done = await run_command(
        "ffmpeg", "-v", "error", "-i", url, "-map", "0", "-f", "null", "-", timeout=120
    )
    assert done.code == 0, done.err[-500:]
    assert not done.err.strip(), done.err[-500:]


def first_uri(playlist: str) -> str:
    """The first URI line of an HLS playlist (a variant, or a segment)."""
    return next(line for line in playlist.splitlines() if line and not line.startswith("#"))
