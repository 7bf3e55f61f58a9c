"""Chunk boundaries on the global segment grid (ARCHITECTURE §7).

Segments are cut every `SEGMENT_SECONDS` of output time, except the first, which is
`FIRST_CHUNK_SECONDS` long and is the whole first chunk: it is what makes a video playable, so
it is as small as one segment can usefully be (it encodes in about a second). The chunks after
it double (one segment, two, four …) up to `CHUNK_SECONDS` of whole segments, long enough that
the start-up of five encoders stays a small share of their work: a viewer who presses play at
once waits seconds for the next piece, not a whole long chunk.

A chunk that starts between two keyframes of the source decodes from the keyframe before its
start and throws those pictures away; with a GOP of 8 to 10 s (x264's default, most screen
recorders) that was a quarter of all decoding on a one-minute video. So where the source's
keyframes are known, each boundary moves, within half a nominal chunk either way, to the
segment boundary that wastes least. A tail shorter than a quarter chunk joins the chunk
before it. Boundaries are whole frames of the constant output rate, so every chunk's frame
count is exact and timestamps continue.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

SEGMENT_SECONDS = 4
FIRST_CHUNK_SECONDS = 1
CHUNK_SECONDS = 32


@dataclass(frozen=True, slots=True)
class ChunkSpan:
    index: int
    start_frame: int
    end_frame: int
    first_segment: int
    segment_count: int
    frame_rate: float

    @property
    def start(self) -> float:
        return self.start_frame / self.frame_rate

    @property
    def end(self) -> float:
        return self.end_frame / self.frame_rate

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame


def _segments(frames: int, frame_rate: float) -> int:
    return max(1, math.ceil(frames / round(SEGMENT_SECONDS * frame_rate) - 1e-9))


def plan_chunks(
    duration: float,
    frame_rate: float,
    *,
    chunk_seconds: int = CHUNK_SECONDS,
    keyframes: Sequence[float] = (),
) -> list[ChunkSpan]:
    """The chunks of a source of `duration` seconds at a constant `frame_rate`; `keyframes`
    (seconds from the start, any order) are the source's, where known."""
    if chunk_seconds % SEGMENT_SECONDS:
        raise ValueError(f"chunks must be whole segments of {SEGMENT_SECONDS}s")
    total = max(1, round(duration * frame_rate))
    segment = round(SEGMENT_SECONDS * frame_rate)
    # A video of one segment or less is one chunk: a second one would cost more than it saves.
    first = total if total <= segment else round(FIRST_CHUNK_SECONDS * frame_rate)
    step = round(chunk_seconds * frame_rate) // segment
    waste = _Waste(sorted(k * frame_rate for k in keyframes), total)
    bounds = [0, first]
    nominal = 1
    while bounds[-1] < total:
        counts = range(max(1, nominal // 2), max(2, nominal + nominal // 2) + 1)
        candidates = [min(total, bounds[-1] + count * segment) for count in counts]
        target = candidates[counts.index(nominal)]
        bounds.append(min(candidates, key=lambda end: (waste(end), abs(end - target))))
        nominal = min(step, nominal * 2)
    if len(bounds) > 3 and bounds[-1] - bounds[-2] < step * segment // 4:
        del bounds[-2]
    chunks = []
    number = 0
    for index, (start, end) in enumerate(itertools.pairwise(bounds)):
        count = 1 if index == 0 else _segments(end - start, frame_rate)
        chunks.append(ChunkSpan(index, start, end, number, count, frame_rate))
        number += count
    return chunks


@dataclass(frozen=True, slots=True)
class _Waste:
    """Frames decoded and thrown away by a chunk starting at a frame: back to the keyframe
    before it (none when the keyframes are unknown, and none at the end of the video)."""

    keyframes: list[float]
    total: int

    def __call__(self, frame: int) -> float:
        if not self.keyframes or frame >= self.total:
            return 0.0
        before = bisect.bisect_right(self.keyframes, frame + 0.5)
        return frame - self.keyframes[before - 1] if before else float(frame)
