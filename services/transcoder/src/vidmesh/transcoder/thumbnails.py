"""A poster image and a storyboard sprite with its WebVTT index, for seek previews."""

from __future__ import annotations

import math
from pathlib import Path

from vidmesh.common.layout import STORYBOARD, STORYBOARD_INDEX
from vidmesh.transcoder.command import poster_command, storyboard_command
from vidmesh.transcoder.encoder import run_ffmpeg
from vidmesh.transcoder.ladder import SEGMENT_SECONDS, Plan

TILE_WIDTH = 160
MAX_TILES = 100
COLUMNS = 10


async def make_poster(source: Path, target: Path, plan: Plan) -> None:
    top = plan.rungs[0]
    await run_ffmpeg(
        poster_command(source, target, plan.duration * 0.25, top.width, top.height),
        stall_seconds=120,
    )


def _timestamp(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{secs:06.3f}"


async def make_storyboard(out_dir: Path, plan: Plan, segments: int) -> tuple[Path, Path]:
    """Sprite of the smallest rung's keyframes (one per segment) and its VTT index."""
    smallest = plan.rungs[-1]
    every = max(1, math.ceil(segments / MAX_TILES))
    tiles = math.ceil(segments / every)
    columns = min(COLUMNS, tiles)
    rows = math.ceil(tiles / columns)
    tile_height = max(2, round(TILE_WIDTH * smallest.height / smallest.width / 2) * 2)
    sprite = out_dir / STORYBOARD
    await run_ffmpeg(
        storyboard_command(
            out_dir / "hls" / smallest.name / "index.m3u8",
            sprite,
            every=every,
            columns=columns,
            rows=rows,
            tile_width=TILE_WIDTH,
            tile_height=tile_height,
        ),
        stall_seconds=120,
    )
    interval = SEGMENT_SECONDS * every
    cues = ["WEBVTT", ""]
    for index in range(tiles):
        start = index * interval
        end = min((index + 1) * interval, plan.duration)
        if start >= plan.duration:
            break
        x, y = (index % columns) * TILE_WIDTH, (index // columns) * tile_height
        cues += [
            f"{_timestamp(start)} --> {_timestamp(end)}",
            f"{STORYBOARD}#xywh={x},{y},{TILE_WIDTH},{tile_height}",
            "",
        ]
    vtt = out_dir / STORYBOARD_INDEX
    vtt.write_text("\n".join(cues))
    return sprite, vtt
