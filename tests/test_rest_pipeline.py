"""The pipeline through a real Envoy only: `curl -T`-style uploads, live progress, admin REST."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from harness import GatewayHarness, IngestHarness, TranscoderFactory, TranscoderHarness
from media import clip

from vidmesh.devstack.envoy import EnvoyProxy


@pytest.fixture
async def http(
    gw: GatewayHarness,
    ing: IngestHarness,
    transcoder_factory: TranscoderFactory,
    envoy_factory: Callable[..., EnvoyProxy],
) -> AsyncIterator[httpx.AsyncClient]:
    worker: TranscoderHarness = await transcoder_factory()
    edge: EnvoyProxy = envoy_factory(gw.port, ing.port, worker.port)
    async with httpx.AsyncClient(base_url=edge.url, timeout=120) as client:
        yield client


async def body(path: Path, size: int = 100_000) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


def reason(response: httpx.Response) -> str:
    details = response.json()["details"]
    return str(next(d["reason"] for d in details if d["@type"].endswith("ErrorInfo")))


async def test_raw_body_upload_streams_progress_until_ready(
    http: httpx.AsyncClient, gw: GatewayHarness, media_dir: Path
) -> None:
    owner = await gw.register()
    source = clip(media_dir / "landscape.mp4", size="640x360", seconds=9)
    headers = {
        "authorization": f"Bearer {owner.access_token}",
        "x-title": "Caf%C3%A9 at dawn",
        "x-filename": source.name,
        "x-upload-length": str(source.stat().st_size),
        "x-visibility": "public",
    }
    uploaded = await http.post("/v1/videos:upload", content=body(source), headers=headers)
    assert uploaded.status_code == 200, uploaded.text
    video = uploaded.json()["video"]
    assert (video["state"], video["title"], video["visibility"]) == (
        "STATE_QUEUED",
        "Café at dawn",
        "VISIBILITY_PUBLIC",
    )
    auth = {"authorization": f"Bearer {owner.access_token}"}
    async with http.stream("GET", f"/v1/videos/{video['videoId']}:watch", headers=auth) as stream:
        text = "".join([chunk async for chunk in stream.aiter_text()])
    states = [item["video"]["state"] for item in json.loads(text)]
    assert states[-1] == "STATE_READY"
    ready = await http.get(f"/v1/videos/{video['videoId']}")
    assert [r["name"] for r in ready.json()["video"]["renditions"]] == ["360p", "240p"]


async def test_raw_body_upload_errors(
    http: httpx.AsyncClient, gw: GatewayHarness, tmp_path: Path
) -> None:
    owner = await gw.register()
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 50)
    auth = {"authorization": f"Bearer {owner.access_token}", "x-title": "t"}
    missing = await http.post("/v1/videos:upload", content=text.read_bytes(), headers=auth)
    assert (missing.status_code, reason(missing)) == (400, "INVALID_HEADER")
    sized = {**auth, "x-upload-length": str(text.stat().st_size)}
    bad = await http.post("/v1/videos:upload", content=text.read_bytes(), headers=sized)
    assert (bad.status_code, reason(bad)) == (400, "UNSUPPORTED_MEDIA")
    put = await http.put("/v1/videos:upload", content=text.read_bytes(), headers=sized)
    assert (put.status_code, reason(put)) == (400, "UNSUPPORTED_MEDIA"), "curl -T sends PUT"
    anonymous = await http.post(
        "/v1/videos:upload", content=b"x", headers={"x-title": "t", "x-upload-length": "1"}
    )
    assert (anonymous.status_code, reason(anonymous)) == (401, "MISSING_TOKEN")


async def test_dead_letters_over_rest_are_for_admins(
    http: httpx.AsyncClient, gw: GatewayHarness
) -> None:
    user = await gw.register()
    admin = await gw.register("admin@example.com")
    denied = await http.get(
        "/v1/admin/dead-letters", headers={"authorization": f"Bearer {user.access_token}"}
    )
    assert (denied.status_code, reason(denied)) == (403, "ADMIN_REQUIRED")
    listed = await http.get(
        "/v1/admin/dead-letters", headers={"authorization": f"Bearer {admin.access_token}"}
    )
    assert listed.status_code == 200
    assert listed.json()["deadLetters"] == []
