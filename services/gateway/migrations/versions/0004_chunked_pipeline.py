"""Chunked pipeline: generations and deliveries named apart, task records, playable moments

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # `attempt` meant the generation on videos and in QUEUED transitions.
    op.alter_column("videos", "attempt", new_column_name="generation")
    op.alter_column("video_transitions", "attempt", new_column_name="generation")
    op.add_column("videos", sa.Column("playable_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("videos", sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "videos", sa.Column("processing_started_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "videos", sa.Column("chunks_total", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "videos", sa.Column("chunks_done", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "videos", sa.Column("seconds_done", sa.Float(), nullable=False, server_default="0")
    )
    op.execute("UPDATE videos SET playable_at = ready_at WHERE ready_at IS NOT NULL")
    op.create_index("ix_videos_queue", "videos", ["state", "queued_at"], unique=False)
    op.create_table(
        "transcode_tasks",
        sa.Column("video_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("run", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("delivery", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("complete", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["video_id"], ["videos.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("video_id", "generation", "task"),
    )


def downgrade() -> None:
    op.drop_table("transcode_tasks")
    op.drop_index("ix_videos_queue", table_name="videos")
    for column in (
        "seconds_done",
        "chunks_done",
        "chunks_total",
        "processing_started_at",
        "queued_at",
        "playable_at",
    ):
        op.drop_column("videos", column)
    op.alter_column("video_transitions", "generation", new_column_name="attempt")
    op.alter_column("videos", "generation", new_column_name="attempt")
