"""Upload quotas: how many bytes of originals a user keeps, and uploads in any 24 hours.

An upload reserves its declared length when gateway creates its video (CreateVideo, called by
ingest before any byte is accepted), and ingest refuses any byte beyond the declared length, so
no stream can run past a quota. The check runs in the creating transaction with the owner's
row locked, so two uploads started at once cannot both squeeze under the same limit. Storage
counts every video of the user except uploads that never completed (FAILED before they were
ever queued: their original was not kept); deleting a video frees its bytes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vidmesh.common.errors import InvalidArgument, NotFound, ResourceExhausted
from vidmesh.gateway.models import UploadLedger, User, Video, VideoState
from vidmesh.v1 import quota_pb2

UNLIMITED = -1
DAY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class QuotaDefaults:
    storage_bytes: int
    daily_bytes: int


def user_not_found() -> NotFound:
    return NotFound("USER_NOT_FOUND", "No such user.")


def _limit(own: int | None, default: int) -> int:
    return default if own is None else own


async def _usage(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> tuple[int, int]:
    kept = or_(Video.state != VideoState.FAILED, Video.queued_at.is_not(None))
    storage = await session.scalar(
        select(func.coalesce(func.sum(Video.source_size_bytes), 0)).where(
            and_(Video.owner_id == user_id, kept)
        )
    )
    daily = await session.scalar(
        select(func.coalesce(func.sum(UploadLedger.size_bytes), 0)).where(
            and_(UploadLedger.user_id == user_id, UploadLedger.created_at > now - DAY)
        )
    )
    return int(storage or 0), int(daily or 0)


def _size(count: int) -> str:
    """Bytes as people read them (decimal units, as the web app shows them)."""
    value = float(count)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{count} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _exceeds(used: int, requested: int, limit: int) -> bool:
    return limit != UNLIMITED and used + requested > limit


class Quotas:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], defaults: QuotaDefaults):
        self._sessions = sessions
        self._defaults = defaults

    async def reserve(self, session: AsyncSession, owner: User, requested: int) -> None:
        """Refuse an upload of `requested` bytes that would take `owner` past a limit, else
        count it; the caller holds `owner`'s row lock until its video is inserted."""
        now = datetime.now(UTC)
        await session.execute(
            delete(UploadLedger).where(
                UploadLedger.user_id == owner.id, UploadLedger.created_at <= now - DAY
            )
        )
        storage, daily = await _usage(session, owner.id, now)
        limits = (
            ("storage", storage, _limit(owner.quota_storage_bytes, self._defaults.storage_bytes)),
            ("daily", daily, _limit(owner.quota_daily_bytes, self._defaults.daily_bytes)),
        )
        for kind, used, limit in limits:
            if _exceeds(used, requested, limit):
                what = "storage" if kind == "storage" else "24-hour upload"
                raise ResourceExhausted(
                    "QUOTA_EXCEEDED",
                    f"This upload of {_size(requested)} would exceed your {what} quota: "
                    f"{_size(used)} of {_size(limit)} used.",
                    metadata={
                        "quota": kind,
                        "used_bytes": str(used),
                        "limit_bytes": str(limit),
                        "requested_bytes": str(requested),
                    },
                )
        session.add(UploadLedger(user_id=owner.id, size_bytes=requested, created_at=now))

    async def get(self, user_id: uuid.UUID) -> quota_pb2.Quota:
        async with self._sessions() as session:
            user = await session.get(User, user_id)
            if user is None:
                raise user_not_found()
            return await self._describe(session, user)

    async def update(
        self,
        user_id: uuid.UUID,
        *,
        storage_bytes: int | None,
        daily_bytes: int | None,
        use_defaults: bool,
    ) -> quota_pb2.Quota:
        for name, value in (
            ("storage_limit_bytes", storage_bytes),
            ("daily_limit_bytes", daily_bytes),
        ):
            if value is not None and value < UNLIMITED:
                raise InvalidArgument(
                    "INVALID_LIMIT", f"'{name}' must be a byte count or -1 (unlimited).", field=name
                )
        async with self._sessions.begin() as session:
            user = await session.get(User, user_id, with_for_update=True)
            if user is None:
                raise user_not_found()
            if use_defaults:
                user.quota_storage_bytes = user.quota_daily_bytes = None
            if storage_bytes is not None:
                user.quota_storage_bytes = storage_bytes
            if daily_bytes is not None:
                user.quota_daily_bytes = daily_bytes
            await session.flush()
            return await self._describe(session, user)

    async def _describe(self, session: AsyncSession, user: User) -> quota_pb2.Quota:
        storage, daily = await _usage(session, user.id, datetime.now(UTC))
        return quota_pb2.Quota(
            user_id=str(user.id),
            storage_used_bytes=storage,
            storage_limit_bytes=_limit(user.quota_storage_bytes, self._defaults.storage_bytes),
            daily_used_bytes=daily,
            daily_limit_bytes=_limit(user.quota_daily_bytes, self._defaults.daily_bytes),
            storage_limit_overridden=user.quota_storage_bytes is not None,
            daily_limit_overridden=user.quota_daily_bytes is not None,
        )
