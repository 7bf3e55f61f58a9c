"""Where a video's objects live in the buckets (ARCHITECTURE §8), named in this one place.

`raw/uploads/<video_id>/source` is the original. Each generation of a transcode writes its
ladder under its own prefix `media/videos/<video_id>/generations/<generation>/`: the playlists
below `hls/`, the poster and storyboard beside it. The video points at the prefix of the
generation it plays (the pointer model of ARCHITECTURE §7).

Inside a generation, every delivery of a chunk or audio task writes its segments into a folder of
its own, `hls/<rendition>/<run>/seg_<n>.ts` with `<n>` the global segment number, and gateway
records which run of each task finished first: playlists list that run's files, so a stale or
repeated delivery never overwrites a segment a viewer may already be reading. Every service
builds keys here.
"""

from __future__ import annotations

import re

from vidmesh.common.storage import check_key

POSTER = "poster.jpg"
STORYBOARD = "storyboard.jpg"
STORYBOARD_INDEX = "storyboard.vtt"
MASTER_PLAYLIST = "master.m3u8"
HLS_FOLDER = "hls"
AUDIO_RENDITION = "audio"
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


def generation_prefix(video_id: str, generation: int) -> str:
    """The prefix one generation writes its ladder under."""
    return f"{media_prefix(video_id)}generations/{generation}"


def segment_path(rendition: str, run: str, number: int) -> str:
    """A segment as playlists name it, relative to `hls/` (`720p/<run>/seg_00012.ts`)."""
    return f"{rendition}/{run}/{segment_name(number)}"


def segment_name(number: int) -> str:
    """The file name of global segment `number`, as the chunk encoder writes it."""
    return f"seg_{number:05d}.ts"


def variant_playlist(rendition: str) -> str:
    """A rendition's media playlist, relative to `hls/`."""
    return f"{rendition}/index.m3u8"


def iframe_playlist(rendition: str) -> str:
    """A rendition's I-frame playlist (trick play), relative to `hls/`."""
    return f"{rendition}/iframes.m3u8"


def hls_key(prefix: str, path: str) -> str:
    """The object of `path` (relative to `hls/`) in a generation's prefix."""
    return check_key(f"{prefix}/{HLS_FOLDER}/{path}")


_CUSTOM_POSTER = re.compile(r"^poster-[0-9a-f]{16}\.jpg$")


def custom_poster(digest: str) -> str:
    """The name of a poster an owner chose, beside the generated one (named by its content,
    so its URL never changes content)."""
    return f"poster-{digest[:16]}.jpg"


def is_custom_poster(name: str) -> bool:
    return _CUSTOM_POSTER.match(name) is not None


def published_key(prefix: str, path: str) -> str:
    """The object behind `path` as HLS URLs name it (`master.m3u8`, `720p/seg_00001.ts`,
    `poster.jpg`) in a generation's prefix; refuses traversal like every key."""
    beside = path in BESIDE_HLS or is_custom_poster(path)
    relative = path if beside else f"{HLS_FOLDER}/{path}"
    return check_key(f"{prefix}/{relative}")


def captions_key(video_id: str, language: str, version: str) -> str:
    """One version of a video's captions in one language (normalised WebVTT, never rewritten:
    a new file is a new version), beside its generations so it outlives re-transcodes."""
    return check_key(f"{media_prefix(video_id)}captions/{language}-{version}.vtt")
