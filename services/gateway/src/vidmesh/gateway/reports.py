"""What ingest and the transcoder report about a video, applied through the state machine."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vidmesh.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from vidmesh.common.layout import is_custom_poster
from vidmesh.common.validation import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    limit_text,
    parse_uuid,
    require_text,
)
from vidmesh.gateway import metrics
from vidmesh.gateway.catalog import parse_video_id, video_not_found
from vidmesh.gateway.lifecycle import TERMINAL, check_transition, is_playable, stale_job
from vidmesh.gateway.models import User, Video, VideoState, VideoTransition, Visibility
from vidmesh.gateway.notifications import announce_change
from vidmesh.gateway.quotas import Quotas
from vidmesh.gateway.timeline import note_run
from vidmesh.gateway.webhooks import enqueue
from vidmesh.v1 import video_state_pb2

# The failure of an upload whose bytes never arrived in full; its idempotency key may retry it.
ABORTED_UPLOAD = "UPLOAD_ABORTED"


@dataclass(frozen=True, slots=True)
class NewVideo:
    owner_id: str
    title: str
    description: str = ""
    visibility: Visibility = Visibility.PRIVATE
    filename: str = ""
    size_bytes: int = 0
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What ffprobe found in the original (all optional)."""

    filename: str = ""
    size_bytes: int = 0
    sha256: str = ""
    container: str = ""
    codecs: tuple[str, ...] = ()
    duration_seconds: float | None = None
    width: int = 0
    height: int = 0


@dataclass(frozen=True, slots=True)
class StoredRenditions:
    """What a finished transcode stored: its renditions, where, how long, and its poster."""

    renditions: list[dict[str, Any]]
    media_prefix: str
    duration_seconds: float | None = None
    poster_key: str = ""


@dataclass(frozen=True, slots=True)
class Failure:
    reason: str
    message: str = field(default="")


def _require_job(job_id: str) -> str:
    if not job_id:
        raise InvalidArgument("FIELD_REQUIRED", "'job_id' is required.", field="job_id")
    return limit_text(job_id, "job_id", max_length=100)


def _processed(video: Video, job_id: str) -> bool:
    """Whether this generation was being processed at some point."""
    return any(
        step.state is VideoState.PROCESSING and step.job_id == job_id for step in video.transitions
    )


class StateReports:
    """The internal operations behind VideoStateService; every one is idempotent."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        upload_lease: timedelta,
        quotas: Quotas,
    ) -> None:
        self._sessions = sessions
        self._upload_lease = upload_lease
        self._quotas = quotas

    async def create(self, new: NewVideo) -> Video:
        owner = parse_uuid(new.owner_id, "owner_id", "INVALID_ARGUMENT")
        title = require_text(new.title, "title", max_length=TITLE_MAX)
        description = limit_text(new.description, "description", max_length=DESCRIPTION_MAX)
        request_id = limit_text(new.request_id, "request_id", max_length=64) or None
        now = datetime.now(UTC)
        try:
            async with self._sessions.begin() as session:
                user = await session.get(User, owner, with_for_update=True)
                if user is None:
                    raise NotFound("USER_NOT_FOUND", "The owner does not exist.")
                if request_id is not None:
                    existing = await session.scalar(
                        select(Video)
                        .where(Video.owner_id == owner, Video.request_id == request_id)
                        .with_for_update()
                    )
                    if existing is not None:
                        if existing.failure_reason == ABORTED_UPLOAD:
                            await self._reopen(session, existing, now)
                        return existing
                await self._quotas.reserve(session, user, max(new.size_bytes, 0))
                video = Video(
                    id=uuid.uuid4(),
                    owner_id=owner,
                    request_id=request_id,
                    title=title,
                    description=description,
                    visibility=new.visibility,
                    state=VideoState.UPLOADING,
                    progress_percent=0.0,
                    renditions=[],
                    source_filename=limit_text(new.filename, "filename", max_length=255),
                    source_size_bytes=max(new.size_bytes, 0),
                    source_codecs=[],
                    generation=0,
                    created_at=now,
                    updated_at=now,
                    upload_lease_until=now + self._upload_lease,
                    transitions=[VideoTransition(state=VideoState.UPLOADING, created_at=now)],
                )
                session.add(video)
        except IntegrityError:
            # A concurrent create with the same request id won the race: return its video.
            async with self._sessions() as session:
                existing = await session.scalar(
                    select(Video).where(Video.owner_id == owner, Video.request_id == request_id)
                )
            if existing is None:
                raise
            return existing
        return video

    async def _reopen(self, session: AsyncSession, video: Video, now: datetime) -> None:
        """A retry of an upload that was cut off before commit continues the same video."""
        check_transition(video.state, VideoState.UPLOADING, reupload=True)
        video.state = VideoState.UPLOADING
        video.failure_reason = None
        video.failure_message = None
        video.updated_at = now
        video.upload_lease_until = now + self._upload_lease
        video.transitions.append(VideoTransition(state=VideoState.UPLOADING, created_at=now))
        await announce_change(session, video.id)

    async def mark_queued(
        self,
        video_id: str,
        job_id: str,
        generation: int,
        source: SourceFacts,
        *,
        requeue: bool,
        resume: bool = False,
    ) -> Video:
        job = _require_job(job_id)
        async with self._sessions.begin() as session:
            video = await self._locked(session, video_id)
            resuming = resume and requeue and video.job_id == job
            if resuming and video.state is not VideoState.FAILED:
                return video
            if not resuming and video.job_id == job and video.state is not VideoState.UPLOADING:
                return video
            if not resuming and requeue and any(t.job_id == job for t in video.transitions):
                raise AlreadyExists("DUPLICATE_JOB", "This job id was already used for this video.")
            check_transition(video.state, VideoState.QUEUED, requeue=requeue)
            self._record_source(video, source)
            now = datetime.now(UTC)
            if not resuming:
                video.job_id = job
                video.generation = max(generation, 0)
                video.chunks_total = video.chunks_done = 0
                video.seconds_done = 0.0
                video.progress_percent = 0.0
            video.upload_lease_until = None
            video.queued_at = now
            video.processing_started_at = None
            video.failure_reason = None
            video.failure_message = None
            await self._enter(session, video, VideoState.QUEUED, job, video.generation)
        return video

    async def mark_processing(self, video_id: str, job_id: str) -> Video:
        """A task of the current generation started: the first one moves QUEUED → PROCESSING,
        every later one (any task, any delivery) finds it so and changes nothing."""
        job = _require_job(job_id)
        async with self._sessions.begin() as session:
            video = await self._locked(session, video_id, current_job=job)
            if video.state is VideoState.PROCESSING or (
                video.state in TERMINAL and _processed(video, job)
            ):
                # A later task, or a repeat after the generation settled (the caller drops it).
                return video
            check_transition(video.state, VideoState.PROCESSING)
            now = await self._enter(session, video, VideoState.PROCESSING, job, video.generation)
            video.processing_started_at = now
        return video

    async def report_progress(self, video_id: str, job_id: str, percent: float) -> Video:
        job = _require_job(job_id)
        if not 0.0 <= percent <= 100.0:
            raise InvalidArgument(
                "INVALID_PROGRESS", "'percent' must be between 0 and 100.", field="percent"
            )
        async with self._sessions.begin() as session:
            video = await self._locked(session, video_id, current_job=job)
            if video.state is not VideoState.PROCESSING:
                raise FailedPrecondition(
                    "ILLEGAL_TRANSITION",
                    f"Progress is reported only while processing; the video is {video.state}.",
                    metadata={"from": video.state.value, "to": VideoState.PROCESSING.value},
                )
            if percent != video.progress_percent:
                video.progress_percent = percent
                video.updated_at = datetime.now(UTC)
                await announce_change(session, video.id)
        return video

    async def complete(
        self,
        video_id: str,
        job_id: str,
        ladder: StoredRenditions,
        runner: video_state_pb2.TaskRunner,
        delivery: int,
    ) -> Video:
        job = _require_job(job_id)
        if not ladder.renditions:
            raise InvalidArgument(
                "FIELD_REQUIRED", "At least one rendition is required.", field="renditions"
            )
        if not ladder.media_prefix:
            raise InvalidArgument(
                "FIELD_REQUIRED", "'media_prefix' is required.", field="media_prefix"
            )
        async with self._sessions.begin() as session:
            video = await self._locked(session, video_id, current_job=job)
            if video.state is VideoState.READY:
                return video
            check_transition(video.state, VideoState.READY)
            video.renditions = ladder.renditions
            video.media_prefix = ladder.media_prefix
            video.poster_key = ladder.poster_key or None
            if ladder.duration_seconds is not None:
                video.duration_seconds = ladder.duration_seconds
            video.progress_percent = 100.0
            now = await self._enter(session, video, VideoState.READY, job, video.generation)
            await note_run(session, video, "finalize", runner, delivery)
            if video.playable_at is None:
                metrics.observe_since(metrics.TIME_TO_PLAYABLE, video.queued_at, now)
                await enqueue(session, video, "video.playable")
            await enqueue(session, video, "video.ready")
            if video.ready_at is None:
                metrics.observe_since(metrics.TIME_TO_READY, video.queued_at, now)
            video.ready_at = video.ready_at or now
            video.playable_at = video.playable_at or now
        return video

    async def record_poster(self, video_id: str, prefix: str, poster_key: str) -> Video:
        """Point the video at a poster its owner chose (stored by playback beside the ladder)."""
        if not is_custom_poster(poster_key):
            raise InvalidArgument(
                "INVALID_POSTER_KEY", "'poster_key' names no poster.", field="poster_key"
            )
        async with self._sessions.begin() as session:
            video = await self._locked(session, video_id)
            if video.media_prefix != prefix:
                raise FailedPrecondition("STALE_JOB", "The video has another ladder now.")
            video.poster_key = poster_key
            video.updated_at = datetime.now(UTC)
            await announce_change(session, video.id)
        return video

    async def fail(self, video_id: str, job_id: str, failure: Failure) -> Video:
        reason = require_text(failure.reason, "failure.reason", max_length=64)
        message = limit_text(failure.message, "failure.message", max_length=2000)
        async with self._sessions.begin() as session:
            video = await self._locked(session, video_id)
            if video.state is VideoState.FAILED:
                return video
            if job_id and video.job_id is not None and video.job_id != job_id:
                raise stale_job(job_id, video.job_id)
            check_transition(video.state, VideoState.FAILED)
            video.failure_reason = reason
            video.failure_message = message
            await self._enter(session, video, VideoState.FAILED, job_id or None, video.generation)
            await enqueue(session, video, "video.failed")
        metrics.VIDEOS_FAILED.labels(reason).inc()
        return video

    async def stalled(self, idle: timedelta, limit: int) -> list[Video]:
        """QUEUED or PROCESSING videos unchanged for `idle`, oldest first."""
        if not 0 <= limit <= 1000:
            raise InvalidArgument(
                "INVALID_PAGE_SIZE", "'page_size' must be between 0 and 1000.", field="page_size"
            )
        cutoff = datetime.now(UTC) - idle
        async with self._sessions() as session:
            found = await session.scalars(
                select(Video)
                .where(
                    Video.state.in_((VideoState.QUEUED, VideoState.PROCESSING)),
                    Video.updated_at < cutoff,
                    Video.job_id.is_not(None),
                )
                .order_by(Video.updated_at)
                .limit(limit or 100)
            )
            return list(found.all())

    async def playback_source(
        self, video_id: str, *, allowed: Callable[[Video], bool] | None = None
    ) -> Video:
        """A playable video (READY, or playable while it is transcoded) with the prefix it
        plays from. With `allowed`, a video it refuses is not found (so that a viewer cannot
        tell a private video from a missing one by its state)."""
        async with self._sessions() as session:
            video = await session.get(Video, parse_video_id(video_id))
        if video is None or (allowed is not None and not allowed(video)):
            raise video_not_found()
        if not is_playable(video):
            raise FailedPrecondition("VIDEO_NOT_READY", "The video is not ready to play yet.")
        return video

    async def _locked(
        self, session: AsyncSession, video_id: str, *, current_job: str | None = None
    ) -> Video:
        """The video, locked for this transaction; with `current_job`, it must be its job."""
        video = await session.get(Video, parse_video_id(video_id), with_for_update=True)
        if video is None:
            raise video_not_found()
        if current_job is not None and video.job_id != current_job:
            raise stale_job(current_job, video.job_id)
        return video

    @staticmethod
    def _record_source(video: Video, source: SourceFacts) -> None:
        if source.filename:
            video.source_filename = limit_text(source.filename, "filename", max_length=255)
        if source.size_bytes:
            video.source_size_bytes = source.size_bytes
        if source.sha256:
            video.source_sha256 = source.sha256
        if source.container:
            video.source_container = source.container[:100]
        if source.codecs:
            video.source_codecs = list(source.codecs)
        if source.duration_seconds is not None:
            video.duration_seconds = source.duration_seconds
        if source.width and source.height:
            video.width, video.height = source.width, source.height

    @staticmethod
    async def _enter(
        session: AsyncSession,
        video: Video,
        state: VideoState,
        job_id: str | None,
        generation: int,
    ) -> datetime:
        now = datetime.now(UTC)
        video.state = state
        video.updated_at = now
        video.transitions.append(
            VideoTransition(state=state, job_id=job_id, generation=generation, created_at=now)
        )
        await announce_change(session, video.id)
        return now
