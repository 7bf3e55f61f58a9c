"""End to end through Envoy only: upload, watch, playback info, and HLS that ffmpeg can play."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import GatewayHarness, IngestHarness, TranscoderHarness
from media import clip

from vidmesh.common.local.envoy import EnvoyProxy
from vidmesh.common.tokens import TokenCodec


@pytest.fixture
async def edge_url(
    gw: GatewayHarness,
    ing: IngestHarness,
    transcoder_factory: Any,
    playback_server: tuple[int, int],
    envoy_factory: Any,
) -> str:
    worker: TranscoderHarness = await transcoder_factory()
    proxy: EnvoyProxy = envoy_factory(gw.port, ing.port, worker.port, *playback_server)
    return proxy.url


@pytest.fixture
async def http(edge_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=edge_url, timeout=120) as client:
        yield client


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
        "x-upload-length": str(source.stat().st_size),
        "x-visibility": visibility,
    }
    uploaded = await http.put("/v1/videos:upload", content=source.read_bytes(), headers=headers)
    assert uploaded.status_code == 200, uploaded.text
    video_id = str(uploaded.json()["video"]["videoId"])
    async with http.stream("GET", f"/v1/videos/{video_id}:watch", headers=auth) as stream:
        states = [m["video"]["state"] for m in json.loads(await stream.aread())]
    assert states[-1] == "STATE_READY", states
    return video_id


async def ffmpeg_plays(url: str) -> None:
    process = await asyncio.create_subprocess_exec(
        "ffmpeg",
        "-v",
        "error",
        "-i",
        url,
        "-map",
        "0",
        "-f",
        "null",
        "-",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0 and not err.strip(), err.decode()[-500:]


async def test_upload_watch_and_play_through_envoy(
    http: httpx.AsyncClient, edge_url: str, media_dir: Path
) -> None:
    owner = await account(http, "owner@example.com")
    video_id = await upload_ready(
        http, owner, clip(media_dir / "landscape.mp4", size="640x360", seconds=9), "public"
    )
    info = await http.get(f"/v1/videos/{video_id}/playback")
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["masterPlaylistUrl"].startswith(f"/hls/{video_id}/master.m3u8?token=")
    assert [r["name"] for r in body["renditions"]] == ["360p", "240p"]
    master = await http.get(body["masterPlaylistUrl"])
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert "360p/index.m3u8?token=" in master.text
    await ffmpeg_plays(edge_url + body["masterPlaylistUrl"])
    for name in ("posterUrl", "storyboardUrl", "storyboardVttUrl"):
        assert (await http.get(body[name])).status_code == 200

    media = await http.get(f"/hls/{video_id}/240p/index.m3u8?token={body['token']}")
    segment_url = f"/hls/{video_id}/240p/" + next(
        line for line in media.text.splitlines() if line.startswith("seg_")
    )
    full = await http.get(segment_url)
    assert full.status_code == 200 and full.headers["content-type"] == "video/mp2t"
    assert "immutable" in full.headers["cache-control"]
    ranged = await http.get(segment_url, headers={"range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.content == full.content[100:200]
    head = await http.head(segment_url)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(full.content)
    cached = await http.get(segment_url, headers={"if-none-match": full.headers["etag"]})
    assert cached.status_code == 304


async def test_private_videos_play_for_their_owner_only(
    http: httpx.AsyncClient, edge_url: str, media_dir: Path, token_codec: TokenCodec
) -> None:
    owner = await account(http, "private-owner@example.com")
    other = await account(http, "nosy@example.com")
    video_id = await upload_ready(http, owner, clip(media_dir / "plain.mp4"), "private")
    assert (await http.get(f"/v1/videos/{video_id}/playback")).status_code == 404
    assert (await http.get(f"/v1/videos/{video_id}/playback", headers=other)).status_code == 404
    mine = (await http.get(f"/v1/videos/{video_id}/playback", headers=owner)).json()
    await ffmpeg_plays(edge_url + mine["masterPlaylistUrl"])

    master = f"/hls/{video_id}/master.m3u8"
    assert (await http.get(master)).status_code == 403
    assert (await http.get(master + "?token=forged")).status_code == 403
    expired = token_codec.issue_playback(video_id, "videos/x", "someone", timedelta(seconds=-60))
    assert (await http.get(f"{master}?token={expired.token}")).status_code == 403
    unlisted = await upload_ready(http, owner, clip(media_dir / "plain.mp4"), "unlisted")
    foreign = (await http.get(f"/v1/videos/{unlisted}/playback")).json()["token"]
    assert (await http.get(f"{master}?token={foreign}")).status_code == 403, "bound to its video"

    token = mine["token"]
    for path in ("../../etc/passwd", "..%2F..%2Fsecret.ts", "%2e%2e/master.m3u8", "x.exe"):
        response = await http.get(f"/hls/{video_id}/{path}?token={token}")
        assert response.status_code in (400, 403, 404), (path, response.status_code)
    missing = await http.get(f"/hls/{video_id}/999p/index.m3u8?token={token}")
    assert missing.status_code == 404
