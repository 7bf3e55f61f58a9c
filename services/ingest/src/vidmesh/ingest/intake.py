"""The upload domain shared by every door: declare, stream to disk while hashing, commit.

Commit rules (ARCHITECTURE §5): the byte count equals the declared length, the SHA-256 matches
when one was given, and the caller is still there; then ffprobe validates the file, the original
moves into the `raw` bucket, the video becomes QUEUED and the job is published. A one-shot upload
that does not commit is failed and its bytes removed; a resumable one keeps its bytes until it
completes, is cancelled or expires.

Once the bytes are in and checked, the upload is durable: the rest of the commit (store, report,
publish; each safe to repeat) is retried for a short while in the request, then in the
background by `maintain()`, until gateway and the queue take it. The client learns "committing"
instead of an error, and never has to send the bytes again. Reports of failure are kept the same
way until gateway has them, so no video is left UPLOADING by an outage or a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.js import JetStreamContext

from vidmesh.common.errors import (
    Aborted,
    Cancelled,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from vidmesh.common.layout import source_key
from vidmesh.common.outages import outages_as_unavailable, until_acknowledged
from vidmesh.common.queue_topology import publish_job
from vidmesh.common.storage import RAW, BlobStore
from vidmesh.common.transcode_tasks import generation_of, job_id, plan_job
from vidmesh.common.validation import (
    DESCRIPTION_MAX,
    INT64_MAX,
    TITLE_MAX,
    limit_text,
    require_text,
)
from vidmesh.common.video_states import VideoStates
from vidmesh.ingest import metrics
from vidmesh.ingest.media_checks import MediaLimits, validate_media
from vidmesh.ingest.spool import COMMITTED, COMMITTING, FAILING, Session, Spool
from vidmesh.v1 import video_pb2, video_state_pb2

_log = logging.getLogger(__name__)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
FILENAME_MAX = 255


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
    # How long a request waits for gateway or the queue before answering "committing".
    commit_wait_seconds: float = 10.0


def check_declared(declared: Declared) -> Declared:
    """`declared` with its text checked and its hash normalised (lower case): the same rules
    for every door, before anything is created."""
    title = require_text(declared.title, "title", max_length=TITLE_MAX)
    limit_text(declared.description, "description", max_length=DESCRIPTION_MAX)
    limit_text(declared.filename, "filename", max_length=FILENAME_MAX)
    limit_text(declared.request_id, "request_id", max_length=64)
    if not 0 <= declared.size_bytes <= INT64_MAX:
        raise InvalidArgument(
            "INVALID_SIZE", "'size_bytes' must be a byte count.", field="size_bytes"
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


class Intake:
    def __init__(
        self,
        spool: Spool,
        store: BlobStore,
        states: VideoStates,
        jetstream: JetStreamContext,
        limits: IntakeLimits,
        *,
        renew_every: float = 60.0,
    ) -> None:
        self._spool = spool
        self._renew_every = renew_every
        self._renewed = -float("inf")
        self._store = store
        self._states = states
        self._js = jetstream
        self._limits = limits
        self._active: set[str] = set()  # one-shot uploads receiving in this process

    async def _create(self, owner_id: str, checked: Declared) -> video_pb2.Video:
        """Gateway creates the video and reserves its declared length against the owner's
        quotas (a refusal leaves no video behind)."""
        try:
            return await self._states.create(
                owner_id,
                title=checked.title,
                description=checked.description,
                visibility=checked.visibility,
                filename=checked.filename,
                size_bytes=checked.size_bytes,
                request_id=checked.request_id,
            )
        except ResourceExhausted as refused:
            metrics.UPLOADS_REJECTED.labels(refused.reason).inc()
            raise

    async def _open_session(
        self, owner_id: str, video: video_pb2.Video, checked: Declared, *, resumable: bool
    ) -> Session:
        if checked.size_bytes > self._limits.max_size_bytes:
            # Refused like every other bad source: the video exists and says why it failed.
            limit = self._limits.max_size_bytes
            message = f"The file is larger than the {limit}-byte limit."
            await self._states.failed(video.video_id, "TOO_LARGE", message)
            metrics.UPLOADS_REJECTED.labels("TOO_LARGE").inc()
            raise ResourceExhausted(
                "TOO_LARGE",
                message,
                metadata={"max_size_bytes": str(limit), "video_id": video.video_id},
            )
        session = self._spool.create(
            owner_id=owner_id,
            video_id=video.video_id,
            size_bytes=checked.size_bytes,
            sha256=checked.sha256,
            filename=checked.filename,
            resumable=resumable,
        )
        metrics.UPLOADS_STARTED.labels(metrics.kind(resumable)).inc()
        return session

    async def begin(self, owner_id: str, declared: Declared, *, resumable: bool) -> Session:
        """Create the video (UPLOADING) and a session to receive its bytes."""
        checked = _counted(check_declared, declared)
        video = await self._create(owner_id, checked)
        return await self._open_session(owner_id, video, checked, resumable=resumable)

    async def upload(
        self,
        owner_id: str,
        declared: Declared,
        chunks: AsyncIterator[bytes],
        is_active: Callable[[], bool],
    ) -> video_pb2.Video:
        """A one-shot upload: everything in one call, or nothing.

        With a `request_id` (REST: `Idempotency-Key`) a retried call returns the video of the
        first one: as it is if that one finished or is committing, without reading the bytes.
        """
        checked = _counted(check_declared, declared)
        video = await self._create(owner_id, checked)
        if video.state != video_pb2.Video.STATE_UPLOADING:
            return video
        earlier = self._spool.find_video(video.video_id)
        if earlier is not None and not earlier.receiving:
            return self._committing_video(earlier)
        if earlier is not None and self._alive(earlier):
            raise Aborted(
                "UPLOAD_IN_PROGRESS",
                "An upload with this idempotency key is still receiving its bytes.",
                metadata={"video_id": video.video_id},
                retry_after_seconds=5,
            )
        if earlier is not None:
            # Left by a request that died with an earlier ingest process: this retry takes over.
            self._spool.discard(earlier)
        session = await self._open_session(owner_id, video, checked, resumable=False)
        self._active.add(session.info.upload_id)
        try:
            await _appended(session, chunks)
            return await self._commit(session, is_active)
        except BaseException as error:
            if session.receiving:
                await asyncio.shield(self._abandon_after(session, error))
            raise
        finally:
            self._active.discard(session.info.upload_id)

    def _alive(self, session: Session) -> bool:
        """Whether someone is still sending this session's bytes."""
        return (
            session.info.resumable
            or session.lock.locked()
            or session.info.upload_id in self._active
        )

    def session(self, owner_id: str, upload_id: str) -> Session:
        session = self._spool.get(upload_id)
        if session.info.owner_id != owner_id:
            raise PermissionDenied("NOT_UPLOAD_OWNER", "This upload belongs to someone else.")
        if session.info.phase == FAILING:
            raise NotFound(
                "UPLOAD_NOT_FOUND",
                f"The upload failed ({session.info.failure_reason}); start a new one.",
                metadata={"reason": session.info.failure_reason},
            )
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
        bytes of this call are dropped again (tus checksums). A write to an upload whose bytes
        are all here already (a retry whose answer was lost) is answered as complete.
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
            if not session.receiving:
                return session, await self._settle(session)
            self._spool.touch(session)
            await _appended(session, chunks)
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
                if error.reason != "UPLOAD_ABORTED" and session.receiving:
                    await asyncio.shield(self._abandon_after(session, error))
                raise

    async def cancel(self, owner_id: str, upload_id: str) -> None:
        session = self.session(owner_id, upload_id)
        if not session.receiving:
            raise FailedPrecondition(
                "UPLOAD_COMPLETE", "Every byte has arrived; delete the video instead."
            )
        await self._abandon(session, "UPLOAD_CANCELLED", "The uploader cancelled the upload.")

    async def expire(self, now: datetime | None = None) -> int:
        """Abandon resumable uploads that saw no bytes for the TTL; returns how many."""
        expired = self._spool.expired(now or datetime.now(UTC))
        for session in expired:
            await self._abandon(session, "UPLOAD_EXPIRED", "The upload was abandoned and expired.")
        return len(expired)

    async def maintain(self, now: datetime | None = None) -> None:
        """Settle what the spool still owes: commits, failure reports, crashed and expired
        uploads, old tombstones; then renew the leases of the uploads in progress."""
        moment = now or datetime.now(UTC)
        await self.expire(moment)
        in_progress = []
        for session in self._spool.sessions():
            if session.lock.locked() or session.info.upload_id in self._active:
                in_progress.append(session.info.video_id)
                continue
            phase = session.info.phase
            if phase == COMMITTING:
                in_progress.append(session.info.video_id)
                with contextlib.suppress(ServiceError):
                    await self._settle(session, wait=0.0)
            elif phase == FAILING:
                await self._report_failure(session)
            elif phase == COMMITTED:
                if session.info.expire_time <= moment:
                    self._spool.discard(session)
            elif not session.info.resumable:
                # A one-shot upload nobody in this process is receiving: its request died
                # with an earlier ingest process.
                await self._abandon(
                    session, "UPLOAD_ABORTED", "The upload was cut off before the end."
                )
            else:
                in_progress.append(session.info.video_id)
        clock = asyncio.get_running_loop().time()
        if in_progress and clock - self._renewed >= self._renew_every:
            await self._renew(in_progress)
            self._renewed = clock

    async def _renew(self, video_ids: list[str]) -> None:
        try:
            ended = set(await self._states.renew_uploads(video_ids))
        except Unavailable as error:
            _log.warning("upload leases not renewed", extra={"reason": error.reason})
            return
        for session in self._spool.sessions():
            if (
                session.info.video_id in ended
                and session.receiving
                and not session.lock.locked()
                and session.info.upload_id not in self._active
            ):
                # Deleted or failed meanwhile: nobody will ever commit these bytes.
                _log.info("upload ended elsewhere", extra={"video_id": session.info.video_id})
                self._spool.discard(session)

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
        request = self._states.queued_request(
            info.video_id,
            job_id(info.video_id, 1),
            filename=info.filename,
            size_bytes=info.size_bytes,
            sha256=digest,
            media=media,
        )
        self._spool.prepare_commit(session, request.SerializeToString())
        return await self._settle(session)

    async def _settle(self, session: Session, wait: float | None = None) -> video_pb2.Video:
        """Finish a commit, waiting out a short outage; after that, answer "committing"."""
        if session.info.phase == COMMITTED:
            return self._committing_video(session, state=video_pb2.Video.STATE_QUEUED)
        try:
            return await until_acknowledged(
                lambda: self._finish_commit(session),
                what="committing an upload",
                deadline=self._limits.commit_wait_seconds if wait is None else wait,
            )
        except Unavailable as error:
            _log.warning(
                "upload committing in the background",
                extra={"video_id": session.info.video_id, "reason": error.reason},
            )
            return self._committing_video(session)
        except ServiceError as error:
            # Gateway refused for good (the video was deleted or failed meanwhile).
            _log.warning(
                "commit refused; upload dropped",
                extra={"video_id": session.info.video_id, "reason": error.reason},
            )
            await self._store.delete(RAW, source_key(session.info.video_id))
            self._spool.discard(session)
            raise

    async def _finish_commit(self, session: Session) -> video_pb2.Video:
        """Store the original, mark the video QUEUED, publish its job: each safe to repeat."""
        info = session.info
        try:
            if session.data_path.exists():
                await self._store.put_file(
                    RAW, source_key(info.video_id), session.data_path, move=True
                )
            request = video_state_pb2.MarkQueuedRequest.FromString(session.commit_path.read_bytes())
        except OSError as error:
            raise Unavailable(
                "STORAGE_UNAVAILABLE", f"Storing the original failed: {error}"
            ) from None
        video = await self._states.queued(request)
        await self._publish(info.video_id, info.owner_id, request.job_id)
        metrics.UPLOADS_COMMITTED.labels(metrics.kind(info.resumable)).inc()
        if info.resumable:
            self._spool.tombstone(session)  # a retried PATCH or HEAD still finds it complete
        else:
            self._spool.discard(session)
        return video

    @staticmethod
    def _committing_video(
        session: Session, state: video_pb2.Video.State.ValueType = video_pb2.Video.STATE_UPLOADING
    ) -> video_pb2.Video:
        """What a caller learns of a video whose bytes are safe but whose commit is pending."""
        return video_pb2.Video(
            video_id=session.info.video_id, owner_id=session.info.owner_id, state=state
        )

    async def _publish(self, video_id: str, owner_id: str, job: str) -> None:
        message = plan_job(
            video_id, generation_of(job) or 1, source_key=source_key(video_id), owner_id=owner_id
        )
        with outages_as_unavailable():
            await publish_job(self._js, message)

    async def _abandon_after(self, session: Session, error: BaseException) -> None:
        if isinstance(error, ServiceError):
            error.metadata.setdefault("video_id", session.info.video_id)
            await self._abandon(session, error.reason, error.message)
        else:
            await self._abandon(session, "UPLOAD_ABORTED", "The upload did not complete.")

    async def _abandon(self, session: Session, reason: str, message: str) -> None:
        """Remove the bytes and leave the video FAILED with the reason (reported until heard)."""
        metrics.UPLOADS_REJECTED.labels(reason).inc()
        self._spool.failing(session, reason, message)
        await self._store.delete(RAW, source_key(session.info.video_id))
        await self._report_failure(session)

    async def _report_failure(self, session: Session) -> None:
        info = session.info
        try:
            await self._states.failed(info.video_id, info.failure_reason, info.failure_message)
        except Unavailable as error:
            _log.warning(
                "failure of an upload not reported yet; will retry",
                extra={"video_id": info.video_id, "reason": error.reason},
            )
            return
        except ServiceError as error:
            # Deleted, or already past UPLOADING: nothing left to report.
            _log.info(
                "failure of an upload not recorded",
                extra={"video_id": info.video_id, "reason": error.reason},
            )
        self._spool.discard(session)


def _counted(check: Callable[[Declared], Declared], declared: Declared) -> Declared:
    """`check(declared)`, counting a refusal by its reason."""
    try:
        return check(declared)
    except ServiceError as error:
        metrics.UPLOADS_REJECTED.labels(error.reason).inc()
        raise


async def _appended(session: Session, chunks: AsyncIterator[bytes]) -> None:
    """Append to the session, counting the bytes that reached the spool."""
    before = session.offset
    try:
        await session.append(chunks)
    finally:
        metrics.UPLOAD_BYTES.inc(max(session.offset - before, 0))
