"""Transcode benchmark: our pipeline vs the same ladder as one plain ffmpeg vs the seed's method.

Generates a 60 s 1080p30 source, then in one run times (1) our whole pipeline through the real
local stack with one transcoder (upload complete → READY: plan, chunks of every rung from one
decode each, audio, measured playlists, poster, storyboard, storage, gateway's bookkeeping),
(2) the same ladder as one bare ffmpeg command, and (3) the seed's method: one ffmpeg per
rendition, sequentially, with its arguments (shared/seed/transcode-method.md). Prints wall
times and the ratios: ours ÷ plain (target ≤ 1.05) and seed ÷ ours (target ≥ 1.3).

    uv run python bench/transcode.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from local_stack import Client, running_stack, seconds_to

from vidmesh.common.media import probe
from vidmesh.transcoder.command import ladder_command
from vidmesh.transcoder.ladder import plan_ladder

SEED_RUNGS = (  # name, size, -b:v, -maxrate, -bufsize, audio
    ("360p", "640x360", "800k", "1000k", "1200k", "128k"),
    ("480p", "854x480", "1400k", "1600k", "2100k", "128k"),
    ("720p", "1280x720", "2800k", "3500k", "4200k", "128k"),
    ("1080p", "1920x1080", "5000k", "6000k", "7500k", "192k"),
)


def make_source(path: Path, seconds: int) -> None:
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-vf",
            "noise=alls=12:allf=t",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "18",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(path),
        ],
        check=True,
    )


def seed_method(source: Path, out: Path, duration: float) -> None:
    for name, size, rate, maxrate, bufsize, audio in SEED_RUNGS:
        width, height = size.split("x")
        (out / name).mkdir(parents=True)
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-i",
                str(source),
                "-c:v",
                "libx264",
                "-profile:v",
                "main",
                "-pix_fmt",
                "yuv420p",
                "-preset",
                "veryfast",
                "-crf",
                "23",
                "-vf",
                f"scale=w={width}:h={height}:flags=lanczos",
                "-sc_threshold",
                "0",
                "-g",
                "48",
                "-keyint_min",
                "48",
                "-c:a",
                "aac",
                "-b:a",
                audio,
                "-ac",
                "2",
                "-ar",
                "48000",
                "-b:v",
                rate,
                "-maxrate",
                maxrate,
                "-bufsize",
                bufsize,
                "-hls_time",
                "4",
                "-hls_playlist_type",
                "vod",
                "-hls_flags",
                "independent_segments",
                "-hls_segment_filename",
                str(out / name / "seg_%05d.ts"),
                str(out / name / "index.m3u8"),
            ],
            check=True,
        )
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-ss",
            f"{duration * 0.25:.2f}",
            "-i",
            str(source),
            "-frames:v",
            "1",
            str(out / "thumbnail.jpg"),
        ],
        check=True,
    )


async def ours(source: Path) -> float:
    with running_stack() as stack:
        client = await Client.register(stack)
        video = await client.upload(source)
        done = await client.until_ready(video.video_id)
    ready: float = seconds_to(done)[1]
    return ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="vidmesh-bench-"))
    try:
        source = root / "source.mp4"
        print(f"generating a {args.seconds} s 1080p30 source …", flush=True)
        make_source(source, args.seconds)
        info = asyncio.run(probe(source))
        plan = plan_ladder(info)

        ours_seconds = asyncio.run(ours(source))
        plain_out = root / "plain"
        (plain_out).mkdir()
        argv = ladder_command(source, plain_out, plan, preset="veryfast")
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        plain_seconds = time.perf_counter() - started
        started = time.perf_counter()
        seed_method(source, root / "seed", info.duration)
        seed_seconds = time.perf_counter() - started

        rungs = ", ".join(r.name for r in plan.rungs)
        print(f"source: {args.seconds} s 1080p30; ladder: {rungs}")
        print(
            f"ours  (whole pipeline, upload complete → READY, 1 worker):   {ours_seconds:7.2f} s"
            f"  ({info.duration / ours_seconds:.2f}x real time)"
        )
        print(
            f"plain (the same ladder as one bare ffmpeg command):          {plain_seconds:7.2f} s"
        )
        print(
            f"seed  (one ffmpeg per rung, sequential, + thumbnail):         {seed_seconds:7.2f} s"
        )
        print(f"ours / plain = {ours_seconds / plain_seconds:.3f}  (target <= 1.05)")
        print(f"seed / ours  = {seed_seconds / ours_seconds:.3f}  (target >= 1.3)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
