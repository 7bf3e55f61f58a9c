"""Test flows more than one test module uses: the Upload request stream, uploading a file,
following a video until it settles, and where its ladder is stored. (Servers, accounts and
error checks are in `harness`; no test module imports another.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from harness import Account, IngestHarness

from vidmesh.common.storage import MEDIA, FileBlobStore
from vidmesh.v1 import ingest_pb2, video_pb2

CHUNK = 64 * 1024


def chunked(data: bytes, size: int = CHUNK) -> Iterable[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


async def upload_requests(
    data: bytes, title: str = "Clip", **metadata: object
) -> AsyncIterator[ingest_pb2.UploadRequest]:
    fields = {"title": title, "size_bytes": len(data), "filename": "clip.mp4", **metadata}
    yield ingest_pb2.UploadRequest(metadata=ingest_pb2.UploadMetadata(**fields))  # type: ignore[arg-type]
    for piece in chunked(data):
        yield ingest_pb2.UploadRequest(chunk=piece)


async def watch_until_done(
    ing: IngestHarness, owner: Account, video_id: str
) -> list[video_pb2.Video]:
    stream = ing.gw.videos.WatchVideo(
        video_pb2.WatchVideoRequest(video_id=video_id), metadata=owner.metadata
    )
    return [message.video async for message in stream]


async def upload_and_finish(
    ing: IngestHarness, owner: Account, source: Path
) -> tuple[video_pb2.Video, list[video_pb2.Video]]:
    response = await ing.stub.Upload(
        upload_requests(await asyncio.to_thread(source.read_bytes)), metadata=owner.metadata
    )
    history = await watch_until_done(ing, owner, response.video.video_id)
    return history[-1], history


def master_of(store: FileBlobStore, video: video_pb2.Video, media_prefix: str) -> Path:
    path = store.local_path(MEDIA, f"{media_prefix}/hls/master.m3u8")
    assert path is not None
    return path


def media_prefix(video: video_pb2.Video) -> str:
    return f"videos/{video.video_id}/generations/1"


async def upload(ing: IngestHarness, owner: Account, source: Path) -> video_pb2.Video:
    response = await ing.stub.Upload(
        upload_requests(await asyncio.to_thread(source.read_bytes)), metadata=owner.metadata
    )
    return response.video


async def settled(ing: IngestHarness, owner: Account, video_id: str) -> video_pb2.Video:
    return (await watch_until_done(ing, owner, video_id))[-1]
