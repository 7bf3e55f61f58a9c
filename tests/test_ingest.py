"""Ingest on real gateway, NATS, storage and ffprobe: the gRPC doors, commit rules, rejections."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from flows import chunked, upload_requests
from harness import Account, IngestHarness, eventually, expect_error
from media import audio_only, clip, truncated

from vidmesh.common.storage import RAW
from vidmesh.v1 import ingest_pb2, video_pb2

Code = grpc.StatusCode


async def video_of(ing: IngestHarness, owner: Account, video_id: str) -> video_pb2.Video:
    response = await ing.gw.videos.GetVideo(
        video_pb2.GetVideoRequest(video_id=video_id), metadata=owner.metadata
    )
    return response.video


async def only_video(ing: IngestHarness, owner: Account) -> video_pb2.Video:
    listed = await ing.gw.videos.ListVideos(
        video_pb2.ListVideosRequest(scope=video_pb2.ListVideosRequest.SCOPE_MINE),
        metadata=owner.metadata,
    )
    assert len(listed.videos) == 1
    return listed.videos[0]


async def test_a_streamed_upload_is_stored_probed_and_queued(
    ing: IngestHarness, media_dir: Path
) -> None:
    owner = await ing.gw.register()
    data = clip(media_dir / "plain.mp4").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    response = await ing.stub.Upload(
        upload_requests(data, sha256=digest, visibility=video_pb2.VISIBILITY_PUBLIC),
        metadata=owner.metadata,
    )
    video = response.video
    assert video.state == video_pb2.Video.STATE_QUEUED
    assert (video.width, video.height) == (320, 180)
    assert video.source.sha256 == digest
    assert video.source.size_bytes == len(data)
    assert "h264" in video.source.codecs
    assert "aac" in video.source.codecs
    assert 1.9 < video.duration.ToTimedelta().total_seconds() < 2.2
    assert await ing.store.read_all(RAW, f"uploads/{video.video_id}/source") == data
    jobs = await ing.queued_jobs()
    assert [(j.job_id, j.video_id, j.generation, j.task.task_id) for j in jobs] == [
        (f"{video.video_id}:1", video.video_id, 1, f"{video.video_id}:1:plan")
    ]
    assert jobs[0].source_key == f"uploads/{video.video_id}/source"
    assert ing.spooled() == []


async def test_resumable_upload_survives_an_interruption(
    ing: IngestHarness, media_dir: Path
) -> None:
    owner = await ing.gw.register()
    data = clip(media_dir / "plain.mp4").read_bytes()
    created = await ing.stub.CreateUpload(
        ingest_pb2.CreateUploadRequest(
            metadata=ingest_pb2.UploadMetadata(title="Resumed", size_bytes=len(data))
        ),
        metadata=owner.metadata,
    )
    upload_id = created.upload.upload_id
    half = len(data) // 2

    async def write(offset: int, body: bytes) -> AsyncIterator[ingest_pb2.WriteUploadRequest]:
        header = ingest_pb2.WriteUploadHeader(upload_id=upload_id, offset=offset)
        yield ingest_pb2.WriteUploadRequest(header=header)
        for piece in chunked(body):
            yield ingest_pb2.WriteUploadRequest(chunk=piece)

    # The link drops after about half the bytes: the client's call is cancelled mid-stream.
    async def interrupted() -> AsyncIterator[ingest_pb2.WriteUploadRequest]:
        async for request in write(0, data[:half]):
            yield request
        call.cancel()

    call = ing.stub.WriteUpload(interrupted(), metadata=owner.metadata)
    with pytest.raises(asyncio.CancelledError):
        await call
    state = await _upload_at_rest(ing, owner, upload_id)
    offset = state.upload.offset
    assert 0 <= offset <= half
    if offset:
        await expect_error(
            ing.stub.WriteUpload(write(0, data), metadata=owner.metadata),
            Code.FAILED_PRECONDITION,
            "OFFSET_MISMATCH",
        )
    done = await ing.stub.WriteUpload(write(offset, data[offset:]), metadata=owner.metadata)
    assert done.video.state == video_pb2.Video.STATE_QUEUED
    assert done.upload.offset == len(data)
    assert await ing.store.read_all(RAW, f"uploads/{done.video.video_id}/source") == data
    # The committed upload is still known (a client whose answer was lost asks again).
    after = await ing.stub.GetUpload(
        ingest_pb2.GetUploadRequest(upload_id=upload_id), metadata=owner.metadata
    )
    assert after.upload.offset == len(data)
    assert after.upload.state == ingest_pb2.UploadSession.STATE_COMMITTED


async def test_uploads_belong_to_their_owner(ing: IngestHarness) -> None:
    owner, other = await ing.gw.register(), await ing.gw.register()
    created = await ing.stub.CreateUpload(
        ingest_pb2.CreateUploadRequest(
            metadata=ingest_pb2.UploadMetadata(title="Mine", size_bytes=10)
        ),
        metadata=owner.metadata,
    )
    request = ingest_pb2.GetUploadRequest(upload_id=created.upload.upload_id)
    await expect_error(
        ing.stub.GetUpload(request, metadata=other.metadata),
        Code.PERMISSION_DENIED,
        "NOT_UPLOAD_OWNER",
    )
    await expect_error(ing.stub.GetUpload(request), Code.UNAUTHENTICATED, "MISSING_TOKEN")
    await ing.stub.CancelUpload(
        ingest_pb2.CancelUploadRequest(upload_id=created.upload.upload_id), metadata=owner.metadata
    )
    video = await video_of(ing, owner, created.upload.video_id)
    assert (video.state, video.failure.reason) == (video_pb2.Video.STATE_FAILED, "UPLOAD_CANCELLED")
    assert ing.spooled() == []


async def test_an_aborted_upload_commits_nothing(ing: IngestHarness, media_dir: Path) -> None:
    owner = await ing.gw.register()
    data = clip(media_dir / "plain.mp4").read_bytes()

    async def my_videos() -> list[video_pb2.Video]:
        listed = await ing.gw.videos.ListVideos(
            video_pb2.ListVideosRequest(scope=video_pb2.ListVideosRequest.SCOPE_MINE),
            metadata=owner.metadata,
        )
        return list(listed.videos)

    async def bytes_arrived() -> bool:
        return any(path.stat().st_size > 0 for path in ing.spool_dir.glob("*/data"))

    async def abandoned() -> AsyncIterator[ingest_pb2.UploadRequest]:
        requests = upload_requests(data)
        yield await anext(requests)
        yield await anext(requests)
        await eventually(bytes_arrived, what="the first chunk reached the spool")
        call.cancel()

    call = ing.stub.Upload(abandoned(), metadata=owner.metadata)
    with pytest.raises(asyncio.CancelledError):
        await call

    async def failed() -> bool:
        videos = await my_videos()
        return bool(videos) and videos[0].state == video_pb2.Video.STATE_FAILED

    await eventually(failed, what="the aborted upload's video failed")
    # grpcio may end the request stream normally when the client aborts; then the byte count
    # is what refuses the commit.
    assert (await my_videos())[0].failure.reason in ("UPLOAD_ABORTED", "SIZE_MISMATCH")
    assert await ing.store.list(RAW, "uploads/") == []
    assert await ing.queued_jobs() == []
    assert ing.spooled() == []


async def _upload_at_rest(
    ing: IngestHarness, owner: Account, upload_id: str
) -> ingest_pb2.GetUploadResponse:
    """The session once the server has finished the interrupted write (its lock is free)."""
    session = ing.intake.session(owner.user_id, upload_id)
    async with session.lock:
        return await ing.stub.GetUpload(
            ingest_pb2.GetUploadRequest(upload_id=upload_id), metadata=owner.metadata
        )


@pytest.mark.parametrize(
    ("make", "code", "reason"),
    [
        (lambda d: _text(d / "notes.mp4"), Code.INVALID_ARGUMENT, "UNSUPPORTED_MEDIA"),
        (lambda d: _empty(d / "empty.mp4"), Code.INVALID_ARGUMENT, "EMPTY_FILE"),
        (lambda d: audio_only(d / "tone.m4a"), Code.INVALID_ARGUMENT, "NO_VIDEO_STREAM"),
        (
            lambda d: truncated(clip(d / "index-at-end.mp4", faststart=False), d / "cut-end.mp4"),
            Code.INVALID_ARGUMENT,
            "TRUNCATED",
        ),
        (
            lambda d: truncated(clip(d / "index-at-front.mp4", seconds=4), d / "cut-front.mp4"),
            Code.INVALID_ARGUMENT,
            "TRUNCATED",
        ),
        (
            lambda d: clip(d / "absurd.mp4", size="8192x32", seconds=1, audio=False),
            Code.INVALID_ARGUMENT,
            "RESOLUTION_TOO_HIGH",
        ),
    ],
    ids=[
        "text",
        "zero-bytes",
        "audio-only",
        "truncated-index-at-end",
        "truncated-index-at-front",
        "absurd-size",
    ],
)
async def test_bad_sources_fail_with_their_reason(
    ing: IngestHarness, media_dir: Path, make: object, code: Code, reason: str
) -> None:
    owner = await ing.gw.register()
    data = make(media_dir).read_bytes()  # type: ignore[operator]
    details = await expect_error(
        ing.stub.Upload(upload_requests(data), metadata=owner.metadata), code, reason
    )
    video = await only_video(ing, owner)
    assert details["metadata"]["video_id"] == video.video_id
    assert (video.state, video.failure.reason) == (video_pb2.Video.STATE_FAILED, reason)
    assert video.failure.message
    assert await ing.store.list(RAW, "uploads/") == []
    assert await ing.queued_jobs() == [], "rejected sources are never queued"
    assert ing.spooled() == []


def _text(path: Path) -> Path:
    path.write_text("This is not a video.\n" * 100)
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


async def test_size_and_checksum_must_match(ing: IngestHarness, media_dir: Path) -> None:
    owner = await ing.gw.register()
    data = clip(media_dir / "plain.mp4").read_bytes()

    async def short() -> AsyncIterator[ingest_pb2.UploadRequest]:
        yield ingest_pb2.UploadRequest(
            metadata=ingest_pb2.UploadMetadata(title="t", size_bytes=len(data) + 10)
        )
        for piece in chunked(data):
            yield ingest_pb2.UploadRequest(chunk=piece)

    await expect_error(
        ing.stub.Upload(short(), metadata=owner.metadata), Code.INVALID_ARGUMENT, "SIZE_MISMATCH"
    )

    async def long() -> AsyncIterator[ingest_pb2.UploadRequest]:
        yield ingest_pb2.UploadRequest(
            metadata=ingest_pb2.UploadMetadata(title="t", size_bytes=len(data) - 10)
        )
        for piece in chunked(data):
            yield ingest_pb2.UploadRequest(chunk=piece)

    await expect_error(
        ing.stub.Upload(long(), metadata=owner.metadata), Code.INVALID_ARGUMENT, "SIZE_MISMATCH"
    )
    await expect_error(
        ing.stub.Upload(upload_requests(data, sha256="0" * 64), metadata=owner.metadata),
        Code.INVALID_ARGUMENT,
        "CHECKSUM_MISMATCH",
    )

    # Refused on the metadata alone. Only the metadata is sent: a grpcio aio client that is still
    # writing when the server ends the call may report INTERNAL instead of the server's status
    # (grpc/grpc#36066), which would test grpcio rather than ingest.
    async def bad_digest() -> AsyncIterator[ingest_pb2.UploadRequest]:
        yield ingest_pb2.UploadRequest(
            metadata=ingest_pb2.UploadMetadata(title="t", size_bytes=len(data), sha256="xyz")
        )

    await expect_error(
        ing.stub.Upload(bad_digest(), metadata=owner.metadata),
        Code.INVALID_ARGUMENT,
        "INVALID_SHA256",
    )
    assert await ing.store.list(RAW, "uploads/") == []
    assert await ing.queued_jobs() == []


async def test_limits(ingest_factory: object, media_dir: Path) -> None:
    ing: IngestHarness = await ingest_factory(max_size_bytes=500_000, max_duration_seconds=1.5)  # type: ignore[operator]
    owner = await ing.gw.register()
    big = ingest_pb2.UploadMetadata(title="big", size_bytes=500_001)

    async def declared_too_big() -> AsyncIterator[ingest_pb2.UploadRequest]:
        yield ingest_pb2.UploadRequest(metadata=big)

    details = await expect_error(
        ing.stub.Upload(declared_too_big(), metadata=owner.metadata),
        Code.RESOURCE_EXHAUSTED,
        "TOO_LARGE",
    )
    too_big = await video_of(ing, owner, details["metadata"]["video_id"])
    assert (too_big.state, too_big.failure.reason) == (video_pb2.Video.STATE_FAILED, "TOO_LARGE")
    assert await ing.queued_jobs() == []
    assert ing.spooled() == []
    data = clip(media_dir / "plain.mp4").read_bytes()
    assert len(data) < 500_000
    await expect_error(
        ing.stub.Upload(upload_requests(data), metadata=owner.metadata),
        Code.RESOURCE_EXHAUSTED,
        "TOO_LONG",
    )


async def test_metadata_must_come_first(ing: IngestHarness) -> None:
    owner = await ing.gw.register()

    async def chunk_first() -> AsyncIterator[ingest_pb2.UploadRequest]:
        yield ingest_pb2.UploadRequest(chunk=b"abc")

    await expect_error(
        ing.stub.Upload(chunk_first(), metadata=owner.metadata),
        Code.INVALID_ARGUMENT,
        "METADATA_REQUIRED",
    )

    async def untitled() -> AsyncIterator[ingest_pb2.UploadRequest]:
        yield ingest_pb2.UploadRequest(metadata=ingest_pb2.UploadMetadata(title="", size_bytes=1))

    await expect_error(
        ing.stub.Upload(untitled(), metadata=owner.metadata),
        Code.INVALID_ARGUMENT,
        "FIELD_REQUIRED",
    )


async def test_abandoned_resumable_uploads_expire(ing: IngestHarness) -> None:
    owner = await ing.gw.register()
    created = await ing.stub.CreateUpload(
        ingest_pb2.CreateUploadRequest(metadata=ingest_pb2.UploadMetadata(title="t", size_bytes=5)),
        metadata=owner.metadata,
    )
    from datetime import UTC, datetime, timedelta

    assert await ing.intake.expire(datetime.now(UTC)) == 0
    assert await ing.intake.expire(datetime.now(UTC) + timedelta(days=2)) == 1
    video = await video_of(ing, owner, created.upload.video_id)
    assert (video.state, video.failure.reason) == (video_pb2.Video.STATE_FAILED, "UPLOAD_EXPIRED")
    assert ing.spooled() == []
