"""Ends uploads that nobody vouches for any more, so no video stays UPLOADING without work.

The invariant (docs/design-notes.md): a video in a non-terminal state always has work behind
it. For UPLOADING that work is an upload session in some ingest, which renews the video's lease
while it holds the session (RenewUploads). A lease that runs out means the session is gone (the
ingest lost its disk, or the uploader walked away and ingest's expiry could not report it), so
the video is failed with `UPLOAD_ABORTED`. Every gateway replica may run this; row locks with
SKIP LOCKED keep them from failing the same video twice.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vidmesh.gateway.catalog import parse_video_id
from vidmesh.gateway.lifecycle import check_transition
from vidmesh.gateway.models import Video, VideoState, VideoTransition
from vidmesh.gateway.notifications import announce_change
from vidmesh.gateway.reports import ABORTED_UPLOAD as ABORTED

_log = logging.getLogger(__name__)
ABORTED_MESSAGE = "The upload stopped before its bytes were committed; upload the file again."


class UploadLeases:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], lease: timedelta) -> None:
        self._sessions = sessions
        self.lease = lease

    async def renew(self, video_ids: list[str]) -> list[str]:
        """Extend the leases of these videos; return those that are no longer uploading."""
        keys = {parse_video_id(video_id) for video_id in video_ids}
        if not keys:
            return []
        until = datetime.now(UTC) + self.lease
        async with self._sessions.begin() as session:
            renewed = await session.scalars(
                update(Video)
                .where(Video.id.in_(keys), Video.state == VideoState.UPLOADING)
                .values(upload_lease_until=until)
                .returning(Video.id)
            )
            alive = set(renewed.all())
        return sorted(str(key) for key in keys - alive)

    async def expire(self, now: datetime | None = None, batch: int = 100) -> list[uuid.UUID]:
        """Fail UPLOADING videos whose lease ran out; returns their ids."""
        moment = now or datetime.now(UTC)
        async with self._sessions.begin() as session:
            videos = list(
                (
                    await session.scalars(
                        select(Video)
                        .where(
                            Video.state == VideoState.UPLOADING,
                            Video.upload_lease_until < moment,
                        )
                        .limit(batch)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
            )
            for video in videos:
                check_transition(video.state, VideoState.FAILED)
                video.state = VideoState.FAILED
                video.failure_reason = ABORTED
                video.failure_message = ABORTED_MESSAGE
                video.upload_lease_until = None
                video.updated_at = moment
                video.transitions.append(
                    VideoTransition(state=VideoState.FAILED, generation=0, created_at=moment)
                )
                await announce_change(session, video.id)
        for video in videos:
            _log.warning(
                "upload lease expired; video failed",
                extra={"video_id": str(video.id), "reason": ABORTED},
            )
        return [video.id for video in videos]
