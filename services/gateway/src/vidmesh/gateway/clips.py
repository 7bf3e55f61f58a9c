"""Clips of READY videos: named time ranges that play as their own HLS ladder, cut from the
video's stored playlists by playback (no media of their own, nothing encoded). Whoever may see
a video may see and open its clips; only its owner makes and deletes them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vidmesh.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
)
from vidmesh.common.tokens import Principal
from vidmesh.common.validation import parse_uuid, require_text
from vidmesh.gateway.catalog import can_view, is_owner, locked_for_owner, parse_video_id
from vidmesh.gateway.convert import duration, timestamp
from vidmesh.gateway.models import Clip, Video, VideoState
from vidmesh.v1 import video_pb2

NAME_MAX = 100
MIN_SECONDS = 1.0
MAX_CLIPS = 100


def clip_not_found() -> NotFound:
    return NotFound("CLIP_NOT_FOUND", "The clip does not exist or is not visible to you.")


def clip_to_proto(clip: Clip) -> video_pb2.Clip:
    return video_pb2.Clip(
        clip_id=str(clip.id),
        video_id=str(clip.video_id),
        name=clip.name,
        start_offset=duration(clip.start_seconds),
        end_offset=duration(clip.end_seconds),
        create_time=timestamp(clip.created_at),
    )


def _range(clip: video_pb2.Clip, video: Video) -> tuple[float, float]:
    start = clip.start_offset.ToNanoseconds() / 1e9
    end = clip.end_offset.ToNanoseconds() / 1e9
    length = video.duration_seconds or 0.0
    if not clip.HasField("end_offset") or not 0 <= start < end <= length + 1e-3:
        raise InvalidArgument(
            "INVALID_RANGE",
            f"A clip must lie within the video's {length:.3f} seconds, start before it ends.",
            field="clip.end_offset",
        )
    if end - start < MIN_SECONDS:
        raise InvalidArgument(
            "INVALID_RANGE", "A clip lasts one second at least.", field="clip.end_offset"
        )
    return start, min(end, length)


class Clips:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def create(
        self, video_id: str, clip: video_pb2.Clip, principal: Principal
    ) -> video_pb2.Clip:
        key = parse_video_id(video_id)
        name = require_text(clip.name, "clip.name", max_length=NAME_MAX)
        async with self._sessions.begin() as session:
            video = await locked_for_owner(
                session, key, principal, what="clip this video", admins=False
            )
            if video.state is not VideoState.READY:
                raise FailedPrecondition("NOT_READY", "Only a READY video can be clipped.")
            start, end = _range(clip, video)
            count = await session.scalar(
                select(func.count()).select_from(Clip).where(Clip.video_id == key)
            )
            if (count or 0) >= MAX_CLIPS:
                raise ResourceExhausted(
                    "TOO_MANY_CLIPS", f"A video has {MAX_CLIPS} clips at most; delete one first."
                )
            made = Clip(
                id=uuid.uuid4(),
                video_id=key,
                name=name,
                start_seconds=start,
                end_seconds=end,
                created_at=datetime.now(UTC),
            )
            session.add(made)
        return clip_to_proto(made)

    async def list(self, video: Video) -> list[video_pb2.Clip]:
        async with self._sessions() as session:
            found = await session.scalars(
                select(Clip).where(Clip.video_id == video.id).order_by(Clip.created_at, Clip.id)
            )
            return [clip_to_proto(clip) for clip in found]

    async def get(self, clip_id: str, principal: Principal | None) -> tuple[Clip, Video]:
        key = parse_uuid(clip_id, "clip_id", "INVALID_CLIP_ID")
        async with self._sessions() as session:
            clip = await session.get(Clip, key)
            video = await session.get(Video, clip.video_id) if clip is not None else None
        if clip is None or video is None or not can_view(video, principal):
            raise clip_not_found()
        return clip, video

    async def of_video(self, clip_id: str, video: Video) -> Clip:
        """The clip, when it is `video`'s (for playback, which already authorized the video)."""
        key = parse_uuid(clip_id, "clip_id", "INVALID_CLIP_ID")
        async with self._sessions() as session:
            clip = await session.get(Clip, key)
        if clip is None or clip.video_id != video.id:
            raise clip_not_found()
        return clip

    async def delete(self, clip_id: str, principal: Principal) -> None:
        clip, video = await self.get(clip_id, principal)
        if not is_owner(video, principal):
            raise PermissionDenied("NOT_VIDEO_OWNER", "Only the owner may delete this clip.")
        async with self._sessions.begin() as session:
            found = await session.get(Clip, clip.id)
            if found is not None:
                await session.delete(found)
