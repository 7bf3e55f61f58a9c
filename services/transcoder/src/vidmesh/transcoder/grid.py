"""Chunk boundaries on the global segment grid (ARCHITECTURE §7).

Segments are cut every `SEGMENT_SECONDS` of output time, except the first, which is
`FIRST_CHUNK_SECONDS` long and is the whole first chunk: it is what makes a video playable, so
it is small enough to encode in about two seconds. The chunks after it double (one segment,
two, four …) up to `CHUNK_SECONDS` of whole segments, long enough that the start-up of five
encoders stays a small share of their work: a viewer who presses play at once waits seconds for
the next piece, not a whole long chunk. A tail shorter than a quarter chunk joins the chunk
before it.
Boundaries are whole frames of the constant output rate, so every chunk's frame count is exact
and timestamps continue.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

SEGMENT_SECONDS = 4
FIRST_CHUNK_SECONDS = 2
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
    duration: float, frame_rate: float, *, chunk_seconds: int = CHUNK_SECONDS
) -> list[ChunkSpan]:
    """The chunks of a source of `duration` seconds at a constant `frame_rate`."""
    if chunk_seconds % SEGMENT_SECONDS:
        raise ValueError(f"chunks must be whole segments of {SEGMENT_SECONDS}s")
    total = max(1, round(duration * frame_rate))
    first = min(total, round(FIRST_CHUNK_SECONDS * frame_rate))
    step = round(chunk_seconds * frame_rate)
    tail = step // 4
    bounds = [0, first]
    size = round(SEGMENT_SECONDS * frame_rate)
    while bounds[-1] < total:
        bounds.append(min(total, bounds[-1] + min(size, step)))
        size *= 2
    if len(bounds) > 3 and bounds[-1] - bounds[-2] < tail:
        del bounds[-2]
    chunks = []
    segment = 0
    for index, (start, end) in enumerate(itertools.pairwise(bounds)):
        count = 1 if index == 0 else _segments(end - start, frame_rate)
        chunks.append(ChunkSpan(index, start, end, segment, count, frame_rate))
        segment += count
    return chunks
