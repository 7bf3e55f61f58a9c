"""Upload leases: ingest vouches for each upload's session until a time

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 00:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "videos", sa.Column("upload_lease_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        op.f("ix_videos_upload_lease_until"), "videos", ["upload_lease_until"], unique=False
    )
    # Uploads already under way get one lease from now, so none is failed at upgrade time.
    op.execute(
        "UPDATE videos SET upload_lease_until = now() + interval '1 hour' WHERE state = 'uploading'"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_videos_upload_lease_until"), table_name="videos")
    op.drop_column("videos", "upload_lease_until")
