"""Which renditions a source gets: the standard rungs up to its size, never upscaled."""

from __future__ import annotations

import math
from dataclasses import dataclass

from vidmesh.common.media import MediaInfo

SEGMENT_SECONDS = 4

# (short side, peak video kbps, audio kbps): capped CRF uses the peak as -maxrate.
STANDARD_RUNGS: tuple[tuple[int, int, int], ...] = (
    (1080, 5000, 128),
    (720, 2800, 128),
    (480, 1400, 128),
    (360, 800, 96),
    (240, 400, 64),
)


@dataclass(frozen=True, slots=True)
class Rung:
    name: str
    width: int
    height: int
    max_kbps: int
    audio_kbps: int

    @property
    def profile(self) -> str:
        return "high" if min(self.width, self.height) >= 720 else "main"


@dataclass(frozen=True, slots=True)
class Plan:
    rungs: list[Rung]
    frame_rate: float
    has_audio: bool
    duration: float


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def output_frame_rate(info: MediaInfo) -> float:
    """A constant rate for the output: the source's average, capped at 60, else 30."""
    video = info.video
    rate = (video.avg_frame_rate or video.frame_rate) if video else 0.0
    if not rate or math.isnan(rate) or rate <= 1:
        return 30.0
    return min(round(rate, 3), 60.0)


def plan_ladder(info: MediaInfo) -> Plan:
    """The rungs for a source, highest first, aspect kept and sizes even."""
    video = info.video
    if video is None:
        raise ValueError("no video stream")
    width, height = video.display_width, video.display_height
    short = min(width, height)
    landscape = width >= height
    rungs = []
    for target, kbps, audio in STANDARD_RUNGS:
        if target > short:
            continue
        scale = target / short
        w, h = (_even(width * scale), target) if landscape else (target, _even(height * scale))
        rungs.append(Rung(f"{target}p", _even(w), _even(h), kbps, audio))
    if not rungs:
        _, kbps, audio = STANDARD_RUNGS[-1]
        rungs.append(Rung(f"{_even(short)}p", _even(width), _even(height), kbps, audio))
    return Plan(
        rungs=rungs,
        frame_rate=output_frame_rate(info),
        has_audio=info.has_audio,
        duration=info.duration,
    )
