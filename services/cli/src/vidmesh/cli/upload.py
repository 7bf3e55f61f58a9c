"""`vidmesh upload`: a resumable upload with a progress line.

The session of each file is remembered (by path, size and mtime) so running the same command
again after an interruption continues from the server's offset instead of starting over;
dropped connections are retried with backoff within one run too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from vidmesh.cli.session import CliError, Metadata, config_dir
from vidmesh.v1 import ingest_pb2, ingest_pb2_grpc, video_pb2

CHUNK = 1024 * 1024
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def retryable(error: grpc.aio.AioRpcError) -> bool:
    """A drop worth resuming from the server's offset.

    Besides transient codes this includes grpcio's masked status (grpc/grpc#36066): when the
    server ends a call while we are still writing, the asyncio client may say INTERNAL
    `execute_batch` instead of the server's status; GetUpload then tells what really happened.
    """
    if error.code() in RETRYABLE:
        return True
    masked = "execute_batch" in (error.debug_error_string() or "")
    return error.code() == grpc.StatusCode.INTERNAL and masked


VISIBILITIES = {
    "public": video_pb2.VISIBILITY_PUBLIC,
    "unlisted": video_pb2.VISIBILITY_UNLISTED,
    "private": video_pb2.VISIBILITY_PRIVATE,
}


def _state_file(path: Path) -> Path:
    status = path.stat()
    key = f"{path.resolve()}:{status.st_size}:{status.st_mtime_ns}"
    return config_dir() / "uploads" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def remember(path: Path, upload_id: str) -> None:
    state = _state_file(path)
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"upload_id": upload_id}))


def _remembered(path: Path) -> str | None:
    try:
        return str(json.loads(_state_file(path).read_text())["upload_id"])
    except (OSError, ValueError, KeyError):
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


class Progress:
    def __init__(self, total: int) -> None:
        self.total = max(total, 1)
        self.started = time.monotonic()
        self.first = 0

    def show(self, done: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = (done - self.first) / elapsed / 1e6
        width = 30
        filled = int(width * done / self.total)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r[{bar}] {100 * done / self.total:5.1f}%  {rate:7.1f} MB/s")
        sys.stderr.flush()


async def _requests(
    path: Path, upload_id: str, offset: int, progress: Progress
) -> AsyncIterator[ingest_pb2.WriteUploadRequest]:
    header = ingest_pb2.WriteUploadHeader(upload_id=upload_id, offset=offset)
    yield ingest_pb2.WriteUploadRequest(header=header)
    sent = offset
    with path.open("rb") as handle:
        handle.seek(offset)
        while chunk := handle.read(CHUNK):
            sent += len(chunk)
            progress.show(sent)
            yield ingest_pb2.WriteUploadRequest(chunk=chunk)


async def upload_file(
    stub: ingest_pb2_grpc.IngestServiceAsyncStub,
    metadata: Metadata,
    path: Path,
    *,
    title: str,
    visibility: str,
    attempts: int = 5,
) -> video_pb2.Video:
    if not await asyncio.to_thread(path.is_file):
        raise CliError(f"{path}: no such file")
    size = (await asyncio.to_thread(path.stat)).st_size
    upload_id = _remembered(path)
    offset = 0
    if upload_id:
        try:
            found = await stub.GetUpload(
                ingest_pb2.GetUploadRequest(upload_id=upload_id), metadata=metadata
            )
            offset = found.upload.offset
            sys.stderr.write(f"resuming at byte {offset} of {size}\n")
        except grpc.aio.AioRpcError:
            upload_id = None
    if not upload_id:
        created = await stub.CreateUpload(
            ingest_pb2.CreateUploadRequest(
                metadata=ingest_pb2.UploadMetadata(
                    title=title,
                    filename=path.name,
                    size_bytes=size,
                    sha256=await asyncio.to_thread(_sha256, path),
                    visibility=VISIBILITIES[visibility],
                )
            ),
            metadata=metadata,
        )
        upload_id = created.upload.upload_id
        remember(path, upload_id)
    progress = Progress(size)
    progress.first = offset
    for attempt in range(attempts):
        try:
            response = await stub.WriteUpload(
                _requests(path, upload_id, offset, progress), metadata=metadata
            )
        except grpc.aio.AioRpcError as error:
            if not retryable(error):
                _state_file(path).unlink(missing_ok=True)
                raise
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(min(2**attempt, 30))
            found = await stub.GetUpload(
                ingest_pb2.GetUploadRequest(upload_id=upload_id), metadata=metadata
            )
            offset = found.upload.offset
            continue
        sys.stderr.write("\n")
        if response.HasField("video"):
            _state_file(path).unlink(missing_ok=True)
            return response.video
        offset = response.upload.offset
    raise CliError("the upload did not complete; run the same command again to resume")
