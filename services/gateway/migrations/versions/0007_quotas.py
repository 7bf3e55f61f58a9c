"""Quotas: per-user overrides (NULL: the settings' defaults) and a ledger of upload bytes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 14:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("quota_storage_bytes", sa.BigInteger(), nullable=True))
    op.add_column("users", sa.Column("quota_daily_bytes", sa.BigInteger(), nullable=True))
    op.create_table(
        "upload_ledger",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_upload_ledger_user_time", "upload_ledger", ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_table("upload_ledger")
    op.drop_column("users", "quota_daily_bytes")
    op.drop_column("users", "quota_storage_bytes")
