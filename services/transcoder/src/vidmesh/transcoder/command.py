"""The one ffmpeg command of a job (ARCHITECTURE §7), built with ffmpeg-python.

Decode once, make the rate constant, split, scale to every rung, encode H.264 with capped CRF
and AAC, force keyframes on the segment boundary in time (so every rung cuts at the same
instants), and let the HLS muxer write one variant playlist per rung.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ffmpeg

from vidmesh.transcoder.ladder import SEGMENT_SECONDS, Plan


def ladder_command(source: Path, out_dir: Path, plan: Plan, *, preset: str) -> list[str]:
    """argv for ffmpeg; progress is written as key=value lines to stdout."""
    stream = ffmpeg.input(str(source))
    video = stream.video.filter("fps", fps=plan.frame_rate)
    branches = video.filter_multi_output("split", len(plan.rungs))
    outputs: list[Any] = []
    options: dict[str, Any] = {}
    variants = []
    for index, rung in enumerate(plan.rungs):
        scaled = (
            branches.stream(index)
            .filter("scale", rung.width, rung.height, flags="bicubic")
            .filter("setsar", 1)
            .filter("format", "yuv420p")
        )
        outputs.append(scaled)
        options[f"maxrate:v:{index}"] = f"{rung.max_kbps}k"
        options[f"bufsize:v:{index}"] = f"{rung.max_kbps * 2}k"
        options[f"profile:v:{index}"] = rung.profile
        entry = f"v:{index}"
        if plan.has_audio:
            outputs.append(stream["a:0"])
            options[f"b:a:{index}"] = f"{rung.audio_kbps}k"
            entry += f",a:{index}"
        variants.append(f"{entry},name:{rung.name}")
    if plan.has_audio:
        options.update({"c:a": "aac", "ac": 2, "ar": 48000})
    output = ffmpeg.output(
        *outputs,
        str(out_dir / "%v" / "index.m3u8"),
        format="hls",
        vcodec="libx264",
        preset=preset,
        crf=23,
        sc_threshold=0,
        force_key_frames=f"expr:gte(t,n_forced*{SEGMENT_SECONDS})",
        hls_time=SEGMENT_SECONDS,
        hls_playlist_type="vod",
        hls_flags="independent_segments",
        hls_segment_type="mpegts",
        hls_segment_filename=str(out_dir / "%v" / "seg_%05d.ts"),
        var_stream_map=" ".join(variants),
        max_muxing_queue_size=4096,
        **options,
    )
    args: list[str] = output.global_args(
        "-hide_banner", "-nostdin", "-loglevel", "error", "-progress", "pipe:1", "-nostats"
    ).compile(cmd="ffmpeg", overwrite_output=True)
    return args


def poster_command(
    source: Path, target: Path, at_seconds: float, width: int, height: int
) -> list[str]:
    """One frame a quarter into the video, at the top rung's size."""
    args: list[str] = (
        ffmpeg.input(str(source), ss=f"{at_seconds:.3f}")
        .video.filter("scale", width, height)
        .output(str(target), vframes=1, **{"q:v": 3})
        .global_args("-hide_banner", "-nostdin", "-loglevel", "error")
        .compile(cmd="ffmpeg", overwrite_output=True)
    )
    return args


def storyboard_command(
    playlist: Path,
    target: Path,
    *,
    every: int,
    columns: int,
    rows: int,
    tile_width: int,
    tile_height: int,
) -> list[str]:
    """A sprite of every `every`-th keyframe of the smallest rung (one per segment)."""
    frames = ffmpeg.input(str(playlist), skip_frame="nokey").video
    if every > 1:
        frames = frames.filter("select", f"not(mod(n\\,{every}))")
    args: list[str] = (
        frames.filter("scale", tile_width, tile_height)
        .filter("tile", f"{columns}x{rows}")
        .output(str(target), vframes=1, fps_mode="vfr", **{"q:v": 4})
        .global_args("-hide_banner", "-nostdin", "-loglevel", "error")
        .compile(cmd="ffmpeg", overwrite_output=True)
    )
    return args
