"""Where a video's objects live in the buckets (ARCHITECTURE §8), named in one place."""

from __future__ import annotations


def upload_prefix(video_id: str) -> str:
    """Everything of a video in the `raw` bucket."""
    return f"uploads/{video_id}/"


def source_key(video_id: str) -> str:
    """The original as uploaded, in the `raw` bucket."""
    return f"{upload_prefix(video_id)}source"
