"""The video state machine (ARCHITECTURE §4), checked in this one place.

UPLOADING → QUEUED → PROCESSING → READY; any non-terminal state → FAILED; READY or FAILED →
QUEUED only on an explicit requeue (re-transcode, dead-letter retry); FAILED → UPLOADING only
when an upload that was aborted before its bytes were committed is retried under the same
idempotency key (`reupload`), so the retry continues the same video. PROCESSING → PROCESSING is
every further task of the same generation. Reports arrive at least once, so a report that
matches the current state and job is a no-op rather than an error. A video is *playable* apart
from its state: READY, or while a generation is transcoded once its first chunk is stored.
"""

from __future__ import annotations

from vidmesh.common.errors import FailedPrecondition
from vidmesh.gateway.models import Video, VideoState

TERMINAL = frozenset({VideoState.READY, VideoState.FAILED})

_FORWARD: dict[VideoState, frozenset[VideoState]] = {
    VideoState.UPLOADING: frozenset({VideoState.QUEUED, VideoState.FAILED}),
    VideoState.QUEUED: frozenset({VideoState.PROCESSING, VideoState.FAILED}),
    VideoState.PROCESSING: frozenset({VideoState.PROCESSING, VideoState.READY, VideoState.FAILED}),
    VideoState.READY: frozenset(),
    VideoState.FAILED: frozenset(),
}


def illegal(current: VideoState, target: VideoState) -> FailedPrecondition:
    return FailedPrecondition(
        "ILLEGAL_TRANSITION",
        f"A video that is {current.value} cannot become {target.value}.",
        metadata={"from": current.value, "to": target.value},
    )


def check_transition(
    current: VideoState, target: VideoState, *, requeue: bool = False, reupload: bool = False
) -> None:
    """Raise FAILED_PRECONDITION unless `current → target` is allowed."""
    if target in _FORWARD[current]:
        return
    if requeue and current in TERMINAL and target is VideoState.QUEUED:
        return
    if reupload and current is VideoState.FAILED and target is VideoState.UPLOADING:
        return
    raise illegal(current, target)


def stale_job(job_id: str, current_job: str | None) -> FailedPrecondition:
    return FailedPrecondition(
        "STALE_JOB",
        "The job is not the video's current job; it was superseded or never queued.",
        metadata={"job_id": job_id, "current_job_id": current_job or ""},
    )


def is_playable(video: Video) -> bool:
    """Whether the video has a ladder to play: READY, or a generation already playable."""
    if not video.media_prefix:
        return False
    return video.state is VideoState.READY or (
        video.state in (VideoState.QUEUED, VideoState.PROCESSING) and video.playable_at is not None
    )
