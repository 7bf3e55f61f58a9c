"""Where a source's keyframes are, read by seeking (the chunk planner's hint), on real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from media import clip

from vidmesh.common.media import keyframes_before, probe
from vidmesh.transcoder.grid import plan_chunks


async def test_a_seek_lands_on_the_keyframe_before_each_time(tmp_path: Path) -> None:
    """A keyframe every 3 s (75 frames at 25 fps)."""
    source = clip(tmp_path / "gop3.mp4", seconds=12, extra=("-g", "75", "-keyint_min", "75"))
    info = await probe(source)
    found = await keyframes_before(source, [1.0, 5.0, 9.0, 10.5], start=info.start_time)
    assert sorted(found) == pytest.approx([0.0, 3.0, 9.0])


@pytest.mark.parametrize("name", ["gop3.mkv", "gop3.ts"])
async def test_what_other_containers_report_is_never_wrong(tmp_path: Path, name: str) -> None:
    """Matroska's video starts a few ms after its container; MPEG-TS (start 1.4 s) has no
    index, so a seek may land on no keyframe at all: fewer hints, never a false one."""
    source = clip(tmp_path / name, seconds=12, extra=("-g", "75", "-keyint_min", "75"))
    info = await probe(source)
    found = await keyframes_before(source, [1.0, 5.0, 9.0, 10.5], start=info.start_time)
    assert all(abs(at - 3 * round(at / 3)) < 0.05 for at in found), found


async def test_the_planner_cuts_where_the_source_has_keyframes(tmp_path: Path) -> None:
    source = clip(tmp_path / "gop8.mp4", seconds=40, extra=("-g", "200", "-keyint_min", "200"))
    info = await probe(source)
    found = await keyframes_before(source, [1.0 + 4 * n for n in range(10)], start=0.0)
    chunks = plan_chunks(info.duration, 25.0, keyframes=sorted(found))
    assert [c.start for c in chunks] == [0.0, 1.0, 9.0, 17.0]


async def test_a_file_that_cannot_be_read_has_no_known_keyframes(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    assert await keyframes_before(junk, [1.0, 5.0], start=0.0) == set()
