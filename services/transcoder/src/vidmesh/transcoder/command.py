"""The ffmpeg commands of the transcode tasks (ARCHITECTURE §7), built with ffmpeg-python.

A chunk decodes its time range once, makes the rate constant on the output grid (trimmed to its
exact frame count, timestamps restarted at zero and offset to the chunk's start when muxed),
splits, scales to every rung, encodes H.264 with capped CRF, forces keyframes on the segment
grid (so every rung cuts at the same instants) and lets the HLS muxer write video-only segments
numbered globally. The audio task encodes the whole track once, aligned to zero. The one-process
ladder of the whole file (`ladder_command`) stays as the benchmark's baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ffmpeg

from vidmesh.transcoder.grid import ChunkSpan
from vidmesh.transcoder.ladder import SEGMENT_SECONDS, Plan

# Every timestamp of every task is this much later than its place in the video. B-frames give
# the first chunk negative decode times and AAC priming gives audio a negative start; the muxer
# would shift those forward (two frames late, out of step with the other chunks and with the
# audio), and a common positive offset keeps them exact.
TIMELINE_OFFSET = 1.0
_QUIET = (
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "error",
    "-progress",
    "pipe:1",
    "-stats_period",
    "0.25",
    "-nostats",
)


@dataclass
class _ScaledOutputs:
    """Every rung's scaled branch of one decoded picture, with its per-stream options (the
    ffmpeg side of a `Plan`'s rungs)."""

    outputs: list[Any] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    variants: list[str] = field(default_factory=list)


def _rungs(picture: Any, plan: Plan) -> _ScaledOutputs:
    branches = picture.filter_multi_output("split", len(plan.rungs))
    ladder = _ScaledOutputs()
    for index, rung in enumerate(plan.rungs):
        ladder.outputs.append(
            branches.stream(index)
            .filter("scale", rung.width, rung.height, flags="bicubic")
            .filter("setsar", 1)
            .filter("format", "yuv420p")
        )
        ladder.options[f"maxrate:v:{index}"] = f"{rung.max_kbps}k"
        ladder.options[f"bufsize:v:{index}"] = f"{rung.max_kbps * 2}k"
        ladder.options[f"profile:v:{index}"] = rung.profile
        ladder.variants.append(f"v:{index}")
    return ladder


def _hls_output(ladder: _ScaledOutputs, out_dir: Path, preset: str, **extra: Any) -> list[str]:
    """libx264 at capped CRF with keyframes on the grid, one HLS variant per rung."""
    output = ffmpeg.output(
        *ladder.outputs,
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
        var_stream_map=" ".join(ladder.variants),
        max_muxing_queue_size=4096,
        **ladder.options,
        **extra,
    )
    args: list[str] = output.global_args(*_QUIET).compile(cmd="ffmpeg", overwrite_output=True)
    return args


def chunk_command(
    source: str, out_dir: Path, plan: Plan, span: ChunkSpan, *, preset: str
) -> list[str]:
    """argv encoding one chunk to every rung; `out_dir/<rung>/index.m3u8` lists its segments."""
    # Input -ss seeks to the keyframe before the start and decodes up to it exactly; -t keeps
    # the demuxer from reading far past the end.
    stream = ffmpeg.input(source, ss=f"{span.start:.6f}", t=f"{span.end - span.start + 2:.6f}")
    picture = (
        stream["v:0"]
        .filter("fps", fps=plan.frame_rate, start_time=0)
        # A source whose picture ends early repeats its last frame, so no chunk comes up short.
        .filter("tpad", stop_mode="clone", stop_duration=span.end - span.start)
        .filter("trim", end_frame=span.frames)
        .filter("setpts", "N/FRAME_RATE/TB")
    )
    ladder = _rungs(picture, plan)
    ladder.variants = [
        f"{v},name:{r.name}" for v, r in zip(ladder.variants, plan.rungs, strict=True)
    ]
    return _hls_output(
        ladder,
        out_dir,
        preset,
        output_ts_offset=f"{TIMELINE_OFFSET + span.start:.6f}",
        start_number=span.first_segment,
    )


def audio_command(source: str, out_dir: Path, duration: float, *, kbps: int) -> list[str]:
    """argv encoding the audio track once as AAC stereo 48 kHz HLS segments in `out_dir`,
    silence-padded or cut to the video's `duration` so both renditions start and end together;
    the playlist is rewritten after every segment, which is how the task publishes as it goes."""
    audio = (
        ffmpeg.input(source)["a:0"]
        .filter("aresample", 48000, **{"async": 1, "first_pts": 0})
        .filter("apad", whole_dur=f"{duration:.6f}")
    )
    args: list[str] = (
        audio.output(
            str(out_dir / "index.m3u8"),
            format="hls",
            acodec="aac",
            ac=2,
            ar=48000,
            audio_bitrate=f"{kbps}k",
            t=f"{duration:.6f}",
            output_ts_offset=f"{TIMELINE_OFFSET:.6f}",
            hls_time=SEGMENT_SECONDS,
            hls_playlist_type="event",
            hls_flags="independent_segments",
            hls_segment_type="mpegts",
            hls_segment_filename=str(out_dir / "seg_%05d.ts"),
        )
        .global_args(*_QUIET)
        .compile(cmd="ffmpeg", overwrite_output=True)
    )
    return args


def ladder_command(source: Path, out_dir: Path, plan: Plan, *, preset: str) -> list[str]:
    """The whole ladder with audio as one ffmpeg run (the single-process baseline)."""
    stream = ffmpeg.input(str(source))
    ladder = _rungs(stream.video.filter("fps", fps=plan.frame_rate), plan)
    audio: dict[str, Any] = {}
    videos = ladder.outputs
    ladder.outputs = []
    for index, (rung, picture) in enumerate(zip(plan.rungs, videos, strict=True)):
        ladder.outputs.append(picture)
        if plan.has_audio:
            ladder.outputs.append(stream["a:0"])
            audio[f"b:a:{index}"] = f"{rung.audio_kbps}k"
            ladder.variants[index] += f",a:{index}"
        ladder.variants[index] += f",name:{rung.name}"
    if plan.has_audio:
        audio.update({"c:a": "aac", "ac": 2, "ar": 48000})
    return _hls_output(ladder, out_dir, preset, **audio)


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
        # ffmpeg-python escapes the comma itself (a second escape broke every > 1).
        frames = frames.filter("select", f"not(mod(n,{every}))")
    args: list[str] = (
        frames.filter("scale", tile_width, tile_height)
        .filter("tile", f"{columns}x{rows}")
        .output(str(target), vframes=1, fps_mode="vfr", **{"q:v": 4})
        .global_args("-hide_banner", "-nostdin", "-loglevel", "error")
        .compile(cmd="ffmpeg", overwrite_output=True)
    )
    return args
