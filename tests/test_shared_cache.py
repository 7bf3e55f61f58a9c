"""Debian's nginx with `proxy_cache` in front of Envoy, configured as docs/delivery.md says:
public segments are served from the cache, private ones never stored, and a public video made
private stops playing through the cache once its playlist expires."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from edge_stack import account, first_uri, upload_ready
from harness import eventually
from media import clip

from vidmesh.devstack.envoy import EnvoyProxy, repo_root
from vidmesh.devstack.nginx import CACHE_LOCATION, Nginx
from vidmesh.devstack.process import free_port

PLAYLIST_MAX_AGE = 2


@pytest.fixture
def playback_overrides() -> dict[str, Any]:
    """Short public lifetimes, so that expiry is seen within a test."""
    return {"public_check_seconds": 1, "public_playlist_max_age": PLAYLIST_MAX_AGE}


@pytest.fixture
async def cache(edge_proxy: EnvoyProxy, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    nginx = Nginx(tmp_path / "nginx", free_port(), upstream_port=edge_proxy.edge.listen_port)
    await nginx.start_async()
    try:
        async with httpx.AsyncClient(base_url=nginx.url, timeout=60) as client:
            yield client
    finally:
        await nginx.stop_async()


def origin_hits(caplog: pytest.LogCaptureFixture, path: str) -> int:
    """Requests for `path` that reached playback (its access log records)."""
    return sum(
        1
        for record in caplog.records
        if record.getMessage() == "http" and getattr(record, "path", "") == path
    )


async def test_public_segments_come_from_the_cache_and_private_ones_never_do(
    http: httpx.AsyncClient,
    cache: httpx.AsyncClient,
    media_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="vidmesh.http")
    owner = await account(http, "cached@example.com")
    public = await upload_ready(http, owner, clip(media_dir / "cached.mp4"), "public")
    master = await cache.get(f"/hls/{public}/master.m3u8")
    assert master.status_code == 200
    assert master.headers["x-cache-status"] == "MISS"
    rendition = first_uri(master.text).rsplit("/", 1)[0]
    variant = await cache.get(f"/hls/{public}/{first_uri(master.text)}")
    segment = f"/hls/{public}/{rendition}/{first_uri(variant.text)}"
    first = await cache.get(segment)
    second = await cache.get(segment)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers["x-cache-status"] == "MISS"
    assert second.headers["x-cache-status"] == "HIT"
    assert second.content == first.content
    assert origin_hits(caplog, segment) == 1, "the hit never reached playback"

    private = await upload_ready(http, owner, clip(media_dir / "uncached.mp4"), "private")
    info = (await http.get(f"/v1/videos/{private}/playback", headers=owner)).json()
    signed = await cache.get(info["masterPlaylistUrl"])
    signed_variant = await cache.get(f"/hls/{private}/{first_uri(signed.text)}")
    signed_rendition = first_uri(signed.text).split("?")[0].rsplit("/", 1)[0]
    private_segment = f"/hls/{private}/{signed_rendition}/{first_uri(signed_variant.text)}"
    answers = [await cache.get(private_segment) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert [a.headers["x-cache-status"] for a in answers] == ["MISS", "MISS"], "never stored"
    assert origin_hits(caplog, private_segment.split("?")[0]) == 2
    refused = [await cache.get(f"/hls/{private}/master.m3u8") for _ in range(2)]
    assert [r.status_code for r in refused] == [403, 403]
    assert refused[1].headers["x-cache-status"] == "MISS", "refusals are not stored either"


async def test_a_video_made_private_stops_playing_through_the_cache(
    http: httpx.AsyncClient, cache: httpx.AsyncClient, media_dir: Path
) -> None:
    owner = await account(http, "unpublish@example.com")
    video_id = await upload_ready(http, owner, clip(media_dir / "unpublish.mp4"), "public")
    master = f"/hls/{video_id}/master.m3u8"
    await cache.get(master)
    assert (await cache.get(master)).headers["x-cache-status"] == "HIT"
    hide = {"visibility": "VISIBILITY_PRIVATE"}
    changed = await http.patch(
        f"/v1/videos/{video_id}?updateMask=visibility", json=hide, headers=owner
    )
    assert changed.status_code == 200

    async def refused() -> bool:
        return (await cache.get(master)).status_code == 403

    # Playlist lifetime plus playback's re-check interval, with room for a slow machine.
    await eventually(refused, timeout=PLAYLIST_MAX_AGE + 1 + 5, what="the cache stops serving")


def test_the_documented_cache_config_is_the_tested_one() -> None:
    docs = (repo_root() / "docs" / "delivery.md").read_text()
    assert CACHE_LOCATION in docs
