"""Is this upload a video we can transcode? ffprobe says, before anything is queued.

A truncated file can still probe as complete (its index is intact at the front), so the video
stream is also demuxed in full and its packets counted against duration x frame rate.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from vidmesh.common.errors import InvalidArgument, ResourceExhausted, ServiceError
from vidmesh.common.media import MediaInfo, ProbeFailed, measure_video_duration, probe

_TRUNCATION_HINTS = ("moov atom not found", "end of file", "truncat", "partial file")
_STILL_IMAGE_CONTAINERS = ("image2", "_pipe", "gif")


@dataclass(frozen=True, slots=True)
class MediaLimits:
    max_duration_seconds: float
    max_dimension: int
    max_pixels: int


def rejection(reason: str, message: str) -> ServiceError:
    if reason in ("TOO_LONG", "TOO_LARGE"):
        return ResourceExhausted(reason, message)
    return InvalidArgument(reason, message)


async def validate_media(path: Path, size: int, limits: MediaLimits) -> MediaInfo:
    """The probed facts of an acceptable upload; raises with a reason otherwise."""
    if size == 0:
        raise rejection("EMPTY_FILE", "The file is empty.")
    try:
        info = await probe(path, count_packets=True)
    except ProbeFailed as failure:
        detail = failure.detail.lower()
        if any(hint in detail for hint in _TRUNCATION_HINTS):
            raise rejection("TRUNCATED", "The file ends before its media does.") from None
        raise rejection("UNSUPPORTED_MEDIA", "This is not a video file we can read.") from None
    video = info.video
    if video is None:
        raise rejection("NO_VIDEO_STREAM", "The file has no video stream (audio only?).")
    if info.duration <= 0 and (video.frame_count or 0) > 1:
        # Written live (a browser recorder's WebM): no duration in the header, so count it.
        info = dataclasses.replace(info, duration=await measure_video_duration(path))
    if any(kind in info.container for kind in _STILL_IMAGE_CONTAINERS) or info.duration <= 0:
        raise rejection("UNSUPPORTED_MEDIA", "This is a still image, not a video.")
    if video.width <= 0 or video.height <= 0:
        raise rejection("UNSUPPORTED_MEDIA", "The video stream has no picture size.")
    if (
        max(video.width, video.height) > limits.max_dimension
        or video.width * video.height > limits.max_pixels
    ):
        raise rejection(
            "RESOLUTION_TOO_HIGH",
            f"{video.width}x{video.height} is above the {limits.max_dimension}-pixel limit.",
        )
    if info.duration > limits.max_duration_seconds:
        raise rejection(
            "TOO_LONG",
            f"The video lasts {info.duration:.0f} s; the limit is "
            f"{limits.max_duration_seconds:.0f} s.",
        )
    rate = video.avg_frame_rate or video.frame_rate
    # Audio may outlast the picture: the picture's own duration says how many frames it has.
    expected = (video.duration or info.duration) * rate if rate > 0 else 0.0
    if video.frame_count is not None and expected >= 10 and video.frame_count < 0.9 * expected:
        raise rejection(
            "TRUNCATED",
            f"The file holds {video.frame_count} of about {expected:.0f} frames; it was cut short.",
        )
    return info
