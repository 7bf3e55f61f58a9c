"""The HLS listener over real sockets: S3 delivery (streamed with Range, or by presigned
redirect), conditional requests, and viewers who hang up mid-segment."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from vidmesh.common.http import http_listener
from vidmesh.common.storage import MEDIA, BlobStore, FileBlobStore, S3BlobStore
from vidmesh.common.tokens import TokenCodec
from vidmesh.playback.hls import build_app

CODEC = TokenCodec("k" * 40, issuer="test", access_ttl=timedelta(minutes=5))


async def serving(store: BlobStore, *, redirect: bool = False) -> AsyncIterator[str]:
    async with http_listener(build_app(store, CODEC, redirect=redirect), "127.0.0.1", 0) as port:
        yield f"http://127.0.0.1:{port}"


async def segment(store: BlobStore, size: int) -> tuple[str, bytes]:
    """A stored segment and its signed URL path."""
    video_id = str(uuid.uuid4())
    prefix = f"videos/{video_id}/generations/1"
    data = os.urandom(size)
    await store.put_bytes(MEDIA, f"{prefix}/hls/360p/run-1/seg_00000.ts", data)
    token = CODEC.issue_playback(video_id, prefix, "ada", timedelta(minutes=5)).token
    return f"/hls/{video_id}/360p/run-1/seg_00000.ts?token={token}", data


@pytest.fixture
async def s3(s3_server: str) -> S3BlobStore:
    return S3BlobStore.from_url(s3_server)


async def test_s3_segments_stream_with_ranges_and_validators(s3: S3BlobStore) -> None:
    path, data = await segment(s3, 200_000)
    async for base in serving(s3):
        async with httpx.AsyncClient(base_url=base) as http:
            full = await http.get(path)
            assert full.status_code == 200
            assert full.content == data
            assert full.headers["last-modified"]
            assert full.headers["etag"]
            part = await http.get(path, headers={"range": "bytes=1000-1999"})
            assert part.status_code == 206
            assert part.content == data[1000:2000]
            assert part.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
            since = await http.get(
                path, headers={"if-modified-since": full.headers["last-modified"]}
            )
            assert since.status_code == 304


async def test_s3_segments_redirect_to_presigned_urls(s3: S3BlobStore) -> None:
    path, data = await segment(s3, 50_000)
    async for base in serving(s3, redirect=True):
        async with httpx.AsyncClient(base_url=base) as http:
            answer = await http.get(path)
            assert answer.status_code == 302
            assert answer.headers["cache-control"] == "private, max-age=300"
            assert answer.headers["access-control-allow-origin"] == "*"
            fetched = await http.get(answer.headers["location"])
            assert fetched.status_code == 200
            assert fetched.content == data
            forged = await http.get(path.split("?")[0] + "?token=forged")
            assert forged.status_code == 403, "the token is checked before redirecting"


async def test_a_viewer_hanging_up_mid_segment_is_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FileBlobStore(tmp_path / "objects")
    path, data = await segment(store, 16 * 1024 * 1024)
    caplog.set_level(logging.DEBUG, logger="vidmesh.playback.hls")
    hung_up = asyncio.Event()
    with noticing(logging.getLogger("vidmesh.playback.hls"), "closed the connection", hung_up):
        async for base in serving(store):
            await hang_up_mid_segment(base, path)
            await asyncio.wait_for(hung_up.wait(), timeout=10)
            async with httpx.AsyncClient(base_url=base) as http:
                ranged = await http.get(path, headers={"range": "bytes=0-9"})
                assert ranged.content == data[:10]
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert not problems, [r.getMessage() for r in problems]


async def hang_up_mid_segment(base: str, path: str) -> None:
    """Read the start of a large segment, then reset the connection (SO_LINGER 0)."""
    port = int(base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await reader.readexactly(64 * 1024)
    writer.transport.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
    )
    writer.close()


@contextlib.contextmanager
def noticing(logger: logging.Logger, text: str, event: asyncio.Event) -> Iterator[None]:
    """While inside, `event` is set when `logger` logs a record containing `text`."""
    handler = NoticeHandler(text, event)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


class NoticeHandler(logging.Handler):
    """Sets `event` when a record with `text` is logged (the server runs in this loop)."""

    def __init__(self, text: str, event: asyncio.Event) -> None:
        super().__init__(logging.DEBUG)
        self._text = text
        self._event = event

    def emit(self, record: logging.LogRecord) -> None:
        if self._text in record.getMessage():
            self._event.set()
