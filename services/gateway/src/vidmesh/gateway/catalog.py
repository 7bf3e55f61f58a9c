"""Reading and managing videos on behalf of users, with visibility and ownership checks."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vidmesh.common.errors import InvalidArgument, NotFound, PermissionDenied
from vidmesh.common.layout import media_prefix, upload_prefix
from vidmesh.common.storage import MEDIA, RAW, BlobStore
from vidmesh.common.tokens import Principal
from vidmesh.common.validation import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    limit_text,
    parse_uuid,
    require_text,
)
from vidmesh.gateway import paging
from vidmesh.gateway.models import AdminAction, Video, VideoState, Visibility
from vidmesh.gateway.notifications import announce_change
from vidmesh.gateway.search import Search, parse_query
from vidmesh.gateway.webhooks import enqueue

_log = logging.getLogger(__name__)


class Scope(Enum):
    PUBLIC = "public"
    MINE = "mine"


@dataclass(frozen=True, slots=True)
class VideoChanges:
    """New values for the fields named in an update mask (None: leave as is)."""

    title: str | None = None
    description: str | None = None
    visibility: Visibility | None = None
    downloads: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Page:
    videos: list[Video]
    next_page_token: str
    # Search listings: each video's title with its matches marked (search.title_ranges).
    headlines: dict[uuid.UUID, str] = field(default_factory=dict)


def _after(cursor: paging.Cursor) -> ColumnElement[bool]:
    """Strictly after the cursor's video in newest-first order."""
    return or_(
        Video.created_at < cursor.created_at,
        and_(Video.created_at == cursor.created_at, Video.id < cursor.video_id),
    )


def video_not_found() -> NotFound:
    return NotFound("VIDEO_NOT_FOUND", "The video does not exist or is not visible to you.")


def parse_video_id(value: str) -> uuid.UUID:
    if not value:
        raise InvalidArgument("FIELD_REQUIRED", "'video_id' is required.", field="video_id")
    return parse_uuid(value, "video_id", "INVALID_VIDEO_ID")


def owns(video: Video, principal: Principal | None) -> bool:
    return principal is not None and (
        principal.is_admin or str(video.owner_id) == principal.subject
    )


def is_owner(video: Video, principal: Principal) -> bool:
    return str(video.owner_id) == principal.subject


# Lower is more restricted; an admin may move another owner's video down this order only.
_OPENNESS = {Visibility.PRIVATE: 0, Visibility.UNLISTED: 1, Visibility.PUBLIC: 2}


def _check_restriction(video: Video, changes: VideoChanges) -> None:
    """An admin acting on someone else's video may restrict it, and do nothing else."""
    rewrites = (
        changes.title is not None
        or changes.description is not None
        or changes.downloads is not None
    )
    raises = (
        changes.visibility is not None
        and _OPENNESS[changes.visibility] > _OPENNESS[video.visibility]
    )
    if rewrites or raises or changes.visibility is None:
        raise PermissionDenied(
            "ADMIN_MAY_ONLY_RESTRICT",
            "Admins may only lower the visibility of someone else's video.",
        )


def _audit(
    session: AsyncSession, admin: Principal, video: Video, action: str, detail: dict[str, Any]
) -> None:
    session.add(
        AdminAction(
            actor_id=uuid.UUID(admin.subject),
            video_id=video.id,
            owner_id=video.owner_id,
            action=action,
            detail=detail,
            created_at=datetime.now(UTC),
        )
    )
    _log.info(
        "admin action",
        extra={"admin_id": admin.subject, "video_id": str(video.id), "action": action},
    )


async def locked_for_owner(
    session: AsyncSession, key: uuid.UUID, principal: Principal, *, what: str, admins: bool
) -> Video:
    """The video, locked for this transaction, when `principal` may change it: its owner (and
    admins when `admins`); NOT_FOUND when they may not even see it."""
    video = await session.get(Video, key, with_for_update=True)
    if video is None or not can_view(video, principal):
        raise video_not_found()
    if not (owns(video, principal) if admins else is_owner(video, principal)):
        raise PermissionDenied("NOT_VIDEO_OWNER", f"Only the owner may {what}.")
    return video


def can_view(video: Video, principal: Principal | None) -> bool:
    """Owners and admins see everything; others only ready public or unlisted videos."""
    if owns(video, principal):
        return True
    return video.state is VideoState.READY and video.visibility in (
        Visibility.PUBLIC,
        Visibility.UNLISTED,
    )


def plays_without_token(video: Video) -> bool:
    """Public videos play from bare, cacheable URLs shared by every viewer, from the moment
    they are playable; the owner chose to publish them."""
    return video.visibility is Visibility.PUBLIC


def may_play(video: Video, principal: Principal | None) -> bool:
    """Whoever may see a video may play it, and anyone may play a public one."""
    return can_view(video, principal) or plays_without_token(video)


class Catalog:
    """The user-facing video operations behind VideoService."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], store: BlobStore) -> None:
        self._sessions = sessions
        self._store = store

    async def get(self, video_id: str, principal: Principal | None) -> Video:
        key = parse_video_id(video_id)
        async with self._sessions() as session:
            video = await session.get(Video, key)
        if video is None or not can_view(video, principal):
            raise video_not_found()
        return video

    async def queue_position(self, video: Video) -> int:
        """1 + how many videos were queued before this one and still wait (0 unless QUEUED)."""
        if video.state is not VideoState.QUEUED or video.queued_at is None:
            return 0
        async with self._sessions() as session:
            ahead = await session.scalar(
                select(func.count())
                .select_from(Video)
                .where(Video.state == VideoState.QUEUED, Video.queued_at < video.queued_at)
            )
        return int(ahead or 0) + 1

    async def list(
        self,
        scope: Scope,
        principal: Principal | None,
        *,
        state: VideoState | None,
        page_size: int,
        page_token: str,
        query: str = "",
    ) -> Page:
        size = paging.page_size(page_size)
        selection = select(Video)
        if scope is Scope.MINE:
            if principal is None:
                raise AssertionError("the servicer requires a principal for SCOPE_MINE")
            selection = selection.where(Video.owner_id == uuid.UUID(principal.subject))
            if state is not None:
                selection = selection.where(Video.state == state)
            fingerprint = paging.fingerprint(
                "mine", principal.subject, state.value if state else ""
            )
        else:
            if state not in (None, VideoState.READY):
                raise InvalidArgument(
                    "INVALID_ARGUMENT",
                    "The public feed holds ready videos only.",
                    field="state",
                )
            selection = selection.where(Video.visibility == Visibility.PUBLIC).where(
                Video.state == VideoState.READY
            )
            fingerprint = paging.fingerprint("public")
        search = parse_query(query)
        if search is None:
            return await self._newest_first(selection, size, page_token, fingerprint)
        return await self._best_first(selection, search, size, page_token, fingerprint)

    async def _newest_first(
        self, query: Select[Video], size: int, page_token: str, fingerprint: str
    ) -> Page:
        cursor = paging.decode_token(page_token, fingerprint)
        if cursor is not None:
            query = query.where(_after(cursor))
        query = query.order_by(Video.created_at.desc(), Video.id.desc()).limit(size + 1)
        async with self._sessions() as session:
            videos = list((await session.scalars(query)).all())
        next_token = ""
        if len(videos) > size:
            videos = videos[:size]
            last = videos[-1]
            next_token = paging.encode_token(paging.Cursor(last.created_at, last.id), fingerprint)
        return Page(videos=videos, next_page_token=next_token)

    async def _best_first(
        self,
        query: Select[Video],
        search: Search,
        size: int,
        page_token: str,
        fingerprint: str,
    ) -> Page:
        """Search results by rank, then newest first; the rank is part of the keyset."""
        fingerprint = paging.fingerprint(fingerprint, "search", search.text)
        cursor = paging.decode_token(page_token, fingerprint)
        rank = search.rank()
        ranked = query.add_columns(rank, search.headline()).where(search.matches())
        if cursor is not None:
            if cursor.rank is None:
                raise InvalidArgument(
                    "INVALID_PAGE_TOKEN", "'page_token' is not valid.", field="page_token"
                )
            ranked = ranked.where(
                or_(rank < cursor.rank, and_(rank == cursor.rank, _after(cursor)))
            )
        ranked = ranked.order_by(rank.desc(), Video.created_at.desc(), Video.id.desc()).limit(
            size + 1
        )
        async with self._sessions() as session:
            rows = list((await session.execute(ranked)).all())
        next_token = ""
        if len(rows) > size:
            rows = rows[:size]
            last, last_rank, _ = rows[-1]
            next_token = paging.encode_token(
                paging.Cursor(last.created_at, last.id, float(last_rank)), fingerprint
            )
        return Page(
            videos=[video for video, _, _ in rows],
            next_page_token=next_token,
            headlines={video.id: headline for video, _, headline in rows},
        )

    async def update(self, video_id: str, changes: VideoChanges, principal: Principal) -> Video:
        key = parse_video_id(video_id)
        async with self._sessions.begin() as session:
            video = await locked_for_owner(
                session, key, principal, what="change this video", admins=True
            )
            if not is_owner(video, principal):
                _check_restriction(video, changes)
                _audit(
                    session,
                    principal,
                    video,
                    "restrict",
                    {"visibility": [video.visibility.value, changes.visibility]},
                )
            if changes.title is not None:
                video.title = require_text(changes.title, "title", max_length=TITLE_MAX)
            if changes.description is not None:
                video.description = limit_text(
                    changes.description, "description", max_length=DESCRIPTION_MAX
                )
            if changes.visibility is not None:
                video.visibility = changes.visibility
            if changes.downloads is not None:
                video.downloads = changes.downloads
            video.updated_at = datetime.now(UTC)
            await announce_change(session, video.id)
        return video

    async def delete(self, video_id: str, principal: Principal) -> Video:
        key = parse_video_id(video_id)
        async with self._sessions.begin() as session:
            video = await locked_for_owner(
                session, key, principal, what="change this video", admins=True
            )
            if not is_owner(video, principal):
                _audit(session, principal, video, "delete", {"title": video.title})
            await enqueue(session, video, "video.deleted")
            await session.execute(delete(Video).where(Video.id == key))
            await announce_change(session, key)
        await self._remove_objects(key)
        return video

    async def _remove_objects(self, key: uuid.UUID) -> None:
        """Delete the original and every rendition; leftovers are logged, not fatal."""
        try:
            await self._store.delete_prefix(RAW, upload_prefix(str(key)))
            await self._store.delete_prefix(MEDIA, media_prefix(str(key)))
        except (OSError, InvalidArgument) as error:
            _log.warning(
                "objects of a deleted video remain",
                extra={"video_id": str(key), "error": str(error)},
            )
