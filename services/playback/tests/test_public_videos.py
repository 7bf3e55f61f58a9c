"""PublicVideos: one gateway call per video per interval, shared by concurrent requests."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, cast

import pytest

from vidmesh.common.channels import ServiceCredential
from vidmesh.common.errors import NotFound, Unavailable
from vidmesh.common.tokens import TokenCodec
from vidmesh.playback.public import PublicMedia, PublicVideos
from vidmesh.v1 import video_state_pb2, video_state_pb2_grpc


class Gateway:
    """Answers AuthorizePlayback from a table; `fault` injects an outage."""

    def __init__(self) -> None:
        self.public: dict[str, bool] = {}
        self.calls = 0
        self.fault: Exception | None = None
        self.release = asyncio.Event()
        self.release.set()

    async def AuthorizePlayback(
        self, request: video_state_pb2.AuthorizePlaybackRequest, metadata: Any
    ) -> video_state_pb2.AuthorizePlaybackResponse:
        self.calls += 1
        await self.release.wait()
        if self.fault is not None:
            raise self.fault
        if request.video_id not in self.public:
            raise NotFound("VIDEO_NOT_FOUND", "No such video.")
        return video_state_pb2.AuthorizePlaybackResponse(
            media_prefix=f"videos/{request.video_id}/generations/1",
            public=self.public[request.video_id],
        )


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


def lookups(gateway: Gateway, monkeypatch: pytest.MonkeyPatch, clock: list[float]) -> PublicVideos:
    monkeypatch.setattr("vidmesh.playback.public.time.monotonic", lambda: clock[0])
    codec = TokenCodec("k" * 40, issuer="test", access_ttl=timedelta(minutes=5))
    states = cast("video_state_pb2_grpc.VideoStateServiceAsyncStub", gateway)
    return PublicVideos(states, ServiceCredential(codec, "playback"), check_seconds=5)


async def test_answers_are_remembered_for_the_interval(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [100.0]
    videos = lookups(gateway, monkeypatch, clock)
    gateway.public = {"a": True, "b": False}
    ladder = PublicMedia(media_prefix="videos/a/generations/1", live=False)
    assert await videos.ladder("a") == ladder
    assert await videos.ladder("b") is None, "not public"
    assert await videos.ladder("c") is None, "unknown"
    assert await videos.ladder("a") == ladder
    assert gateway.calls == 3, "one call per video"
    gateway.public["a"] = False
    clock[0] += 4.9
    assert await videos.ladder("a") == ladder
    clock[0] += 0.2
    assert await videos.ladder("a") is None, "made private: refused after the interval"


async def test_concurrent_misses_share_one_call(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    videos = lookups(gateway, monkeypatch, [0.0])
    gateway.public = {"a": True}
    gateway.release.clear()
    waiting = [asyncio.ensure_future(videos.ladder("a")) for _ in range(20)]
    await asyncio.sleep(0)
    gateway.release.set()
    answers = await asyncio.gather(*waiting)
    assert gateway.calls == 1
    assert all(answer is not None for answer in answers)


async def test_an_outage_keeps_known_answers_and_refuses_unknown_ones(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [0.0]
    videos = lookups(gateway, monkeypatch, clock)
    gateway.public = {"a": True}
    assert await videos.ladder("a") is not None
    gateway.fault = Unavailable("DEPENDENCY_FAILED", "Gateway is down.")
    clock[0] += 60
    assert await videos.ladder("a") is not None, "a public video stays playable"
    with pytest.raises(Unavailable):
        await videos.ladder("b")


async def test_memory_is_bounded(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    videos = lookups(gateway, monkeypatch, [0.0])
    videos.MAX_ENTRIES = 3
    for name in "abcde":
        await videos.ladder(name)
    assert list(videos._answers) == ["c", "d", "e"]
