"""The upload domain shared by every door: declare, stream to disk while hashing, commit.

Commit rules (ARCHITECTURE §5): the byte count equals the declared length, the SHA-256 matches
when one was given, and the caller is still there; then ffprobe validates the file, the original
moves into the `raw` bucket, the video becomes QUEUED and the job is published. A one-shot upload
that does not commit is failed and its bytes removed; a resumable one keeps its bytes until it
completes, is cancelled or expires.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import Error as JetStreamError

from vidmesh.common.errors import (
    Cancelled,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from vidmesh.common.jobs import job_id, publish_job
from vidmesh.common.storage import RAW, BlobStore
from vidmesh.common.validation import DESCRIPTION_MAX, TITLE_MAX, limit_text, require_text
from vidmesh.common.video_states import VideoStates
from vidmesh.ingest.spool import Session, Spool
from vidmesh.ingest.validation import MediaLimits, validate_media
from vidmesh.v1 import transcode_pb2, video_pb2

_log = logging.getLogger(__name__)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
FILENAME_MAX = 255


def source_key(video_id: str) -> str:
    return f"uploads/{video_id}/source"


@dataclass(frozen=True, slots=True)
class Declared:
    """What the client says it is about to send."""

    title: str
    size_bytes: int
    description: str = ""
    filename: str = ""
    sha256: str = ""
    visibility: video_pb2.Visibility.ValueType = video_pb2.VISIBILITY_UNSPECIFIED
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class IntakeLimits:
    max_size_bytes: int
    media: MediaLimits


class Intake:
    def __init__(
        self,
        spool: Spool,
        store: BlobStore,
        states: VideoStates,
        jetstream: JetStreamContext,
        limits: IntakeLimits,
    ) -> None:
        self._spool = spool
        self._store = store
        self._states = states
        self._js = jetstream
        self._limits = limits

    def _check(self, declared: Declared) -> Declared:
        title = require_text(declared.title, "title", max_length=TITLE_MAX)
        limit_text(declared.description, "description", max_length=DESCRIPTION_MAX)
        limit_text(declared.filename, "filename", max_length=FILENAME_MAX)
        if declared.size_bytes < 0:
            raise InvalidArgument(
                "INVALID_SIZE", "'size_bytes' must not be negative.", field="size_bytes"
            )
        sha256 = declared.sha256.strip().lower()
        if sha256 and not _SHA256.match(sha256):
            raise InvalidArgument(
                "INVALID_SHA256", "'sha256' must be 64 hexadecimal digits.", field="sha256"
            )
        return Declared(
            title=title,
            size_bytes=declared.size_bytes,
            description=declared.description,
            filename=declared.filename,
            sha256=sha256,
            visibility=declared.visibility,
            request_id=declared.request_id,
        )

    async def begin(self, owner_id: str, declared: Declared, *, resumable: bool) -> Session:
        """Create the video (UPLOADING) and a session to receive its bytes."""
        checked = self._check(declared)
        video = await self._states.create(
            owner_id,
            title=checked.title,
            description=checked.description,
            visibility=checked.visibility,
            filename=checked.filename,
            size_bytes=checked.size_bytes,
            request_id=checked.request_id,
        )
        if checked.size_bytes > self._limits.max_size_bytes:
            # Refused like every other bad source: the video exists and says why it failed.
            limit = self._limits.max_size_bytes
            message = f"The file is larger than the {limit}-byte limit."
            await self._states.failed(video.video_id, "TOO_LARGE", message)
            raise ResourceExhausted(
                "TOO_LARGE",
                message,
                metadata={"max_size_bytes": str(limit), "video_id": video.video_id},
            )
        return self._spool.create(
            owner_id=owner_id,
            video_id=video.video_id,
            size_bytes=checked.size_bytes,
            sha256=checked.sha256,
            filename=checked.filename,
            resumable=resumable,
        )

    async def upload(
        self,
        owner_id: str,
        declared: Declared,
        chunks: AsyncIterator[bytes],
        is_active: Callable[[], bool],
    ) -> video_pb2.Video:
        """A one-shot upload: everything in one call, or nothing."""
        session = await self.begin(owner_id, declared, resumable=False)
        try:
            await session.append(chunks)
            return await self._commit(session, is_active)
        except BaseException as error:
            await asyncio.shield(self._abandon_after(session, error))
            raise

    def session(self, owner_id: str, upload_id: str) -> Session:
        session = self._spool.get(upload_id)
        if session.info.owner_id != owner_id:
            raise PermissionDenied("NOT_UPLOAD_OWNER", "This upload belongs to someone else.")
        return session

    async def write(
        self,
        owner_id: str,
        upload_id: str,
        offset: int,
        chunks: AsyncIterator[bytes],
        is_active: Callable[[], bool],
        check: Callable[[], None] | None = None,
    ) -> tuple[Session, video_pb2.Video | None]:
        """Append to a resumable upload from `offset`; commit when it is complete.

        `check` runs after the bytes are stored and before anything else; if it raises, the
        bytes of this call are dropped again (tus checksums).
        """
        session = self.session(owner_id, upload_id)
        if session.lock.locked():
            raise FailedPrecondition("UPLOAD_BUSY", "Another write to this upload is running.")
        async with session.lock:
            if offset != session.offset:
                raise FailedPrecondition(
                    "OFFSET_MISMATCH",
                    f"The upload continues at byte {session.offset}, not {offset}.",
                    metadata={"offset": str(session.offset)},
                )
            self._spool.touch(session)
            await session.append(chunks)
            if check is not None:
                try:
                    check()
                except ServiceError:
                    session.truncate(offset)
                    raise
            if session.offset < session.info.size_bytes:
                return session, None
            try:
                return session, await self._commit(session, is_active)
            except ServiceError as error:
                if error.reason != "UPLOAD_ABORTED":
                    await asyncio.shield(self._abandon_after(session, error))
                raise

    async def cancel(self, owner_id: str, upload_id: str) -> None:
        session = self.session(owner_id, upload_id)
        await self._abandon(session, "UPLOAD_CANCELLED", "The uploader cancelled the upload.")

    async def expire(self, now: datetime | None = None) -> int:
        """Abandon resumable uploads that saw no bytes for the TTL; returns how many."""
        expired = self._spool.expired(now or datetime.now(UTC))
        for session in expired:
            await self._abandon(session, "UPLOAD_EXPIRED", "The upload was abandoned and expired.")
        return len(expired)

    async def _commit(self, session: Session, is_active: Callable[[], bool]) -> video_pb2.Video:
        info = session.info
        if not is_active():
            raise Cancelled("UPLOAD_ABORTED", "The client went away before the end.")
        if session.offset != info.size_bytes:
            raise InvalidArgument(
                "SIZE_MISMATCH",
                f"Received {session.offset} of the declared {info.size_bytes} bytes.",
                metadata={"received": str(session.offset), "declared": str(info.size_bytes)},
            )
        digest = await session.sha256()
        if info.sha256 and digest != info.sha256:
            raise InvalidArgument(
                "CHECKSUM_MISMATCH", "The SHA-256 of the bytes received does not match."
            )
        media = await validate_media(session.data_path, info.size_bytes, self._limits.media)
        await self._store.put_file(RAW, source_key(info.video_id), session.data_path, move=True)
        job = job_id(info.video_id, 1)
        video = await self._states.queued(
            info.video_id,
            job,
            filename=info.filename,
            size_bytes=info.size_bytes,
            sha256=digest,
            media=media,
        )
        await self._publish(info.video_id, info.owner_id, job)
        self._spool.discard(session)
        return video

    async def _publish(self, video_id: str, owner_id: str, job: str) -> None:
        message = transcode_pb2.TranscodeJob(
            job_id=job,
            video_id=video_id,
            attempt=1,
            source_key=source_key(video_id),
            owner_id=owner_id,
        )
        message.enqueue_time.GetCurrentTime()
        for delay in (0.2, 1.0, 3.0, 0.0):
            try:
                await publish_job(self._js, message)
                return
            except (NatsError, JetStreamError, TimeoutError) as error:
                _log.warning("publishing a job failed", extra={"job_id": job, "error": str(error)})
                if not delay:
                    break
                await asyncio.sleep(delay)
        await self._states.failed(
            video_id, "QUEUE_UNAVAILABLE", "The transcode queue could not be reached."
        )
        raise Unavailable("QUEUE_UNAVAILABLE", "The transcode queue is unavailable; try again.")

    async def _abandon_after(self, session: Session, error: BaseException) -> None:
        if isinstance(error, ServiceError):
            error.metadata.setdefault("video_id", session.info.video_id)
            if error.reason == "QUEUE_UNAVAILABLE":
                self._spool.discard(session)
                return
            await self._abandon(session, error.reason, error.message)
        else:
            await self._abandon(session, "UPLOAD_ABORTED", "The upload did not complete.")

    async def _abandon(self, session: Session, reason: str, message: str) -> None:
        """Remove the bytes and leave the video FAILED with the reason (best effort)."""
        self._spool.discard(session)
        await self._store.delete(RAW, source_key(session.info.video_id))
        try:
            await self._states.failed(session.info.video_id, reason, message)
        except ServiceError as error:
            _log.warning(
                "could not mark an abandoned upload failed",
                extra={"video_id": session.info.video_id, "reason": error.reason},
            )
