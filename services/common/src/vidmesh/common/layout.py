"""Where a video's objects live in the buckets (ARCHITECTURE §8), named in this one place.

`raw/uploads/<video_id>/source` is the original. Each delivery of a transcode writes its ladder
under its own prefix `media/videos/<video_id>/attempts/<generation>-<delivery>/`: the
playlists and segments below `hls/`, the poster and storyboard beside it. The video points at
the prefix of the delivery that finished (the pointer model of ARCHITECTURE §7), so a stale
delivery can never overwrite what a newer one published. Every service builds keys here.
"""

from __future__ import annotations

from vidmesh.common.storage import check_key

POSTER = "poster.jpg"
STORYBOARD = "storyboard.jpg"
STORYBOARD_INDEX = "storyboard.vtt"
MASTER_PLAYLIST = "master.m3u8"
HLS_FOLDER = "hls"
# Files that sit beside `hls/` in a delivery's prefix rather than inside it.
BESIDE_HLS = frozenset({POSTER, STORYBOARD, STORYBOARD_INDEX})


def upload_prefix(video_id: str) -> str:
    """Everything of a video in the `raw` bucket."""
    return f"uploads/{video_id}/"


def source_key(video_id: str) -> str:
    """The original as uploaded, in the `raw` bucket."""
    return f"{upload_prefix(video_id)}source"


def media_prefix(video_id: str) -> str:
    """Every ladder of a video in the `media` bucket (all generations and deliveries)."""
    return f"videos/{video_id}/"


def delivery_prefix(video_id: str, generation: int, delivery: int) -> str:
    """The prefix one delivery of one generation writes its ladder under."""
    return f"{media_prefix(video_id)}attempts/{generation}-{delivery}"


def published_key(prefix: str, path: str) -> str:
    """The object behind `path` as HLS URLs name it (`master.m3u8`, `720p/seg_00001.ts`,
    `poster.jpg`) in a delivery's prefix; refuses traversal like every key."""
    relative = path if path in BESIDE_HLS else f"{HLS_FOLDER}/{path}"
    return check_key(f"{prefix}/{relative}")
