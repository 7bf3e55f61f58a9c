"""Gateway's Prometheus metrics: how long videos take to become playable and READY, and why
they fail. Gateway records each transition once, so each video is counted once."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Histogram

TIME_TO_PLAYABLE = Histogram(
    "vidmesh_video_time_to_playable_seconds",
    "From upload complete (the video QUEUED) to playable, per video.",
    buckets=(0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 600),
)
TIME_TO_READY = Histogram(
    "vidmesh_video_time_to_ready_seconds",
    "From upload complete (the video QUEUED) to READY, per video.",
    buckets=(5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400),
)
VIDEOS_FAILED = Counter(
    "vidmesh_videos_failed_total", "Videos that ended FAILED, by failure reason.", ["reason"]
)


def observe_since(histogram: Histogram, queued_at: datetime | None, now: datetime) -> None:
    if queued_at is not None:
        histogram.observe(max((now - queued_at).total_seconds(), 0.0))
