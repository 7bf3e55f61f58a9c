"""Chunk boundaries: a short first chunk, whole segments after it, exact frames, no tiny tail."""

from __future__ import annotations

import itertools

import pytest

from vidmesh.transcoder.grid import plan_chunks


def test_a_long_video_gets_a_one_second_first_chunk_then_doubling_ones() -> None:
    chunks = plan_chunks(600.0, 30.0)
    assert (chunks[0].start, chunks[0].end, chunks[0].segment_count) == (0.0, 1.0, 1)
    assert [c.end - c.start for c in chunks[1:6]] == [4.0, 8.0, 16.0, 32.0, 32.0]
    assert [c.segment_count for c in chunks[1:5]] == [1, 2, 4, 8]
    assert sum(c.frames for c in chunks) == 600 * 30, "every frame in exactly one chunk"
    numbers = [c.first_segment for c in chunks]
    assert numbers == sorted(numbers)
    assert numbers[1] == 1
    for before, after in itertools.pairwise(chunks):
        assert before.end_frame == after.start_frame
        assert after.first_segment == before.first_segment + before.segment_count


def test_a_short_tail_joins_the_chunk_before_it() -> None:
    chunks = plan_chunks(35.0, 25.0)
    assert [(c.start, c.end) for c in chunks] == [(0.0, 1.0), (1.0, 5.0), (5.0, 13.0), (13.0, 35.0)]
    assert chunks[-1].segment_count == 6


def test_boundaries_move_to_where_the_source_has_keyframes() -> None:
    """x264's default GOP of 250 frames: a keyframe every 8.33 s. Nominal boundaries (5, 13,
    29 s) would decode 14.7 s of pictures only to throw them away; these decode 2 s."""
    keyframes = [250 * n / 30 for n in range(8)]
    chunks = plan_chunks(60.0, 30.0, keyframes=keyframes)
    starts = [c.start for c in chunks]
    assert starts == [0.0, 1.0, 9.0, 17.0, 25.0]
    wasted = sum(start - max(k for k in keyframes if k <= start) for start in starts)
    assert wasted == pytest.approx(1.0 + 0.667 + 0.333 + 0.0, abs=0.01)
    assert sum(c.frames for c in chunks) == 1800
    for before, after in itertools.pairwise(chunks):
        assert after.first_segment == before.first_segment + before.segment_count


def test_keyframes_on_the_grid_change_nothing() -> None:
    nominal = plan_chunks(300.0, 25.0)
    keyframes = [0.0, *(float(t) for t in range(1, 300, 2))]
    assert plan_chunks(300.0, 25.0, keyframes=keyframes) == nominal


@pytest.mark.parametrize("duration", [0.4, 1.0, 2.0, 4.0])
def test_a_very_short_video_is_one_chunk(duration: float) -> None:
    [chunk] = plan_chunks(duration, 25.0)
    assert chunk.frames == max(1, round(duration * 25))


def test_chunks_must_be_whole_segments() -> None:
    with pytest.raises(ValueError, match="whole segments"):
        plan_chunks(60.0, 30.0, chunk_seconds=6)
