"""A poster image and a storyboard sprite with its WebVTT index, for seek previews.

Both are made at finalize from the published segments rather than the original: the poster
from the top rung's segment a quarter into the video, the storyboard from every segment's
keyframe of the smallest rung, so it covers the whole video however it was chunked.
"""

from __future__ import annotations

import math
from pathlib import Path

from vidmesh.common.layout import STORYBOARD
from vidmesh.transcoder.command import poster_command, storyboard_command
from vidmesh.transcoder.encoder import run_ffmpeg

TILE_WIDTH = 160
MAX_TILES = 100
COLUMNS = 10


async def make_poster(segment: Path, target: Path, width: int, height: int) -> None:
    """The first frame (a keyframe) of `segment`."""
    await run_ffmpeg(poster_command(segment, target, 0.0, width, height), stall_seconds=120)


def _timestamp(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{secs:06.3f}"


async def make_storyboard(
    playlist: Path, folder: Path, starts: list[float], duration: float, aspect: float
) -> tuple[Path, Path]:
    """Sprite of one keyframe per segment of `playlist` (segments starting at `starts`) and
    its VTT index, every tile covering the time up to the next one."""
    every = max(1, math.ceil(len(starts) / MAX_TILES))
    picked = starts[::every]
    columns = min(COLUMNS, len(picked))
    rows = math.ceil(len(picked) / columns)
    tile_height = max(2, round(TILE_WIDTH / aspect / 2) * 2)
    sprite = folder / STORYBOARD
    await run_ffmpeg(
        storyboard_command(
            playlist,
            sprite,
            every=every,
            columns=columns,
            rows=rows,
            tile_width=TILE_WIDTH,
            tile_height=tile_height,
        ),
        stall_seconds=120,
    )
    cues = ["WEBVTT", ""]
    for index, start in enumerate(picked):
        end = picked[index + 1] if index + 1 < len(picked) else duration
        x, y = (index % columns) * TILE_WIDTH, (index // columns) * tile_height
        cues += [
            f"{_timestamp(start)} --> {_timestamp(end)}",
            f"{STORYBOARD}#xywh={x},{y},{TILE_WIDTH},{tile_height}",
            "",
        ]
    vtt = folder / "storyboard.vtt"
    vtt.write_text("\n".join(cues))
    return sprite, vtt
