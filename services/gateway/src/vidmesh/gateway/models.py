"""Gateway's tables: users, refresh tokens, login failures, videos and their state history."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Title words weigh more than description words (ts_rank's A and B weights); as migration 0006.
SEARCH_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')"
)


class UserRole(enum.StrEnum):
    USER = "user"
    ADMIN = "admin"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    UNLISTED = "unlisted"
    PRIVATE = "private"


class VideoState(enum.StrEnum):
    UPLOADING = "uploading"
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


def _text_enum(kind: type[enum.StrEnum], name: str) -> Enum:
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: DateTime(timezone=True),
        uuid.UUID: UUID(as_uuid=True),
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[UserRole] = mapped_column(_text_enum(UserRole, "user_role"))
    created_at: Mapped[datetime]
    # The user's own limits, set by an admin (-1: unlimited); NULL: the settings' defaults.
    quota_storage_bytes: Mapped[int | None] = mapped_column(BigInteger)
    quota_daily_bytes: Mapped[int | None] = mapped_column(BigInteger)


class UploadLedger(Base):
    """Bytes a user started uploading, and when: the 24-hour upload quota. Kept apart from the
    videos so that deleting a video frees storage but not the day's upload allowance; rows
    older than a day are pruned when the user uploads again."""

    __tablename__ = "upload_ledger"
    __table_args__ = (Index("ix_upload_ledger_user_time", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class RefreshToken(Base):
    """One refresh token; tokens of one login share a family, revoked together on reuse."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginFailure(Base):
    """A failed login, counted per account and per client address for rate limiting."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_email_time", "email", "created_at"),
        Index("ix_login_failures_address_time", "client_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254))
    client_address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Video(Base):
    __tablename__ = "videos"
    __table_args__ = (
        Index("ix_videos_owner_created", "owner_id", "created_at", "id"),
        Index("ix_videos_feed", "visibility", "state", "created_at", "id"),
        Index("ix_videos_queue", "state", "queued_at"),
        UniqueConstraint("owner_id", "request_id", name="uq_videos_owner_request"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    request_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[Visibility] = mapped_column(_text_enum(Visibility, "visibility"))
    state: Mapped[VideoState] = mapped_column(_text_enum(VideoState, "video_state"))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(Text)
    progress_percent: Mapped[float] = mapped_column(Float, default=0.0)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    renditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # DownloadSettings as JSON: {"enabled": bool, "renditions": [name, ...], "audio": bool}.
    downloads: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    media_prefix: Mapped[str | None] = mapped_column(Text)
    poster_key: Mapped[str | None] = mapped_column(Text)
    source_filename: Mapped[str] = mapped_column(String(255), default="")
    source_size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    source_container: Mapped[str | None] = mapped_column(String(100))
    source_codecs: Mapped[list[str]] = mapped_column(JSONB, default=list)
    job_id: Mapped[str | None] = mapped_column(String(100))
    generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ready_at: Mapped[datetime | None]
    # The first moment any generation of it could be played (first chunk and audio stored).
    playable_at: Mapped[datetime | None]
    # When the current generation was queued (queue position) and its first task started (ETA).
    queued_at: Mapped[datetime | None]
    processing_started_at: Mapped[datetime | None]
    chunks_total: Mapped[int] = mapped_column(Integer, default=0)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    # Seconds of the video the current generation's finished chunks cover.
    seconds_done: Mapped[float] = mapped_column(Float, default=0.0)
    # While UPLOADING: until when ingest vouches for the upload's session (RenewUploads).
    upload_lease_until: Mapped[datetime | None] = mapped_column(index=True)
    # Generated by PostgreSQL from title and description (migration 0006); never loaded.
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR, persisted=True), deferred=True
    )

    transitions: Mapped[list[VideoTransition]] = relationship(
        order_by="VideoTransition.id", lazy="selectin", cascade="all, delete-orphan"
    )


class VideoTransition(Base):
    """One state change of a video, kept to measure time-to-ready and to debug."""

    __tablename__ = "video_transitions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    video_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[VideoState] = mapped_column(_text_enum(VideoState, "transition_state"))
    job_id: Mapped[str | None] = mapped_column(String(100))
    generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class TranscodeTask(Base):
    """What one task of one generation recorded: the plan (task `plan`, payload a
    TranscodePlan) or a chunk's or the audio's segments (payload a SegmentRun). The primary key
    is the database guard of ARCHITECTURE §6: a task completes once per generation."""

    __tablename__ = "transcode_tasks"

    video_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(32), primary_key=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    run: Mapped[str] = mapped_column(String(64), default="")
    delivery: Mapped[int] = mapped_column(Integer, default=0)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TaskRun(Base):
    """Which worker ran the delivery of a task that counted, from when to when: the video's
    timeline (GetVideoTimeline). Kept apart from `transcode_tasks`, which holds what a task
    produced and guards that it completes once."""

    __tablename__ = "task_runs"

    video_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(32), primary_key=True)
    worker: Mapped[str] = mapped_column(String(128))
    delivery: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]


class Clip(Base):
    """A named time range of a video that plays as its own ladder, cut from the video's
    playlists (no media of its own); it goes with its video."""

    __tablename__ = "clips"
    __table_args__ = (Index("ix_clips_video_created", "video_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    video_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    start_seconds: Mapped[float] = mapped_column(Float)
    end_seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime]


class CaptionTrack(Base):
    """A video's captions in one language; the cues are a normalised WebVTT object
    (`layout.captions_key`) whose version changes with every new file."""

    __tablename__ = "captions"

    video_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(35), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[str] = mapped_column(String(16))
    cue_count: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class WebhookEndpoint(Base):
    """Where a user wants to hear about their videos, and the secret deliveries are signed
    with (Standard Webhooks)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_owner", "owner_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSONB, default=list)
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One event for one endpoint: written in the transaction of the change it reports (the
    outbox), then sent and retried by the dispatcher until answered or 24 hours old."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int] = mapped_column(Integer, default=0)
    last_latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]


class AdminAction(Base):
    """An admin's action on someone else's video: who did what, to which video, when."""

    __tablename__ = "admin_actions"
    __table_args__ = (Index("ix_admin_actions_video_time", "video_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    actor_id: Mapped[uuid.UUID]
    video_id: Mapped[uuid.UUID]
    owner_id: Mapped[uuid.UUID]
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime]
