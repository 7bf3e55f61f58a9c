"""Time to first playable, and scale-out, of the chunked pipeline through the real stack.

From one run, on generated 1080p30 sources with audio (60 s and, by default, 10 minutes):

1. upload complete → playable, and → READY, for each source, on a stack with two workers
   (targets: playable ≤ 3 s for both; the long source's playable time ≤ 1.2 times the short one's);
2. READY time of the long source with one worker pinned to one core vs two workers pinned to a
   core each (`taskset`, i.e. simulated one-core hosts; target: speed-up ≥ 1.8);
3. CPU seconds the chunked pipeline spent on the long source (the one-worker run) vs the
   single-ffmpeg ladder of the same source run bare (target ≤ 1.10).

Each figure is measured `--runs` times (default 1) and printed as median and spread; the
baseline of every ratio is measured in the same run. The playable figures, cheap to take, get
`--playable-runs` (default 3) more samples each: a fresh two-worker stack per upload, stopped
once the video is playable.

    uv run python bench/ttfp.py [--short 60] [--long 600] [--runs 1] [--playable-runs 3]

`--runs 0` measures only the playable figures (minutes instead of most of an hour).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import tempfile
from pathlib import Path

from local_stack import (
    Client,
    Stack,
    make_source,
    running_stack,
    seconds_to,
    seconds_to_playable,
)

from vidmesh.common.media import probe
from vidmesh.transcoder.command import ladder_command
from vidmesh.transcoder.ladder import plan_ladder


async def through(stack: Stack, source: Path) -> tuple[float, float, float]:
    """(→ playable, → READY, transcoder CPU seconds) of one upload."""
    client = await Client.register(stack)
    before = stack.transcoder_cpu_seconds()
    video = await client.upload(source)
    done = await client.until_ready(video.video_id)
    playable, ready = seconds_to(done)
    return playable, ready, stack.transcoder_cpu_seconds() - before


async def until_playable(stack: Stack, source: Path) -> float:
    client = await Client.register(stack)
    video = await client.upload(source)
    return seconds_to_playable(await client.until_playable(video.video_id))


def plain_ladder_cpu(source: Path, folder: Path) -> float:
    """CPU seconds of the whole ladder as one bare ffmpeg command (the old pipeline)."""
    plan = plan_ladder(asyncio.run(probe(source)))
    folder.mkdir(parents=True, exist_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        ladder_command(source, folder, plan, preset="veryfast"),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def summary(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:7.2f}"
    return f"{statistics.median(values):7.2f} (spread {min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=60, help="seconds of the short source")
    parser.add_argument("--long", type=int, default=600, help="seconds of the long source")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--playable-runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vidmesh-ttfp-"))
    print(f"generating {args.short} s and {args.long} s 1080p30 sources …", flush=True)
    short = make_source(folder / "short.mp4", args.short)
    long = make_source(folder / "long.mp4", args.long)
    figures: dict[str, list[float]] = {}

    def note(name: str, value: float) -> None:
        figures.setdefault(name, []).append(value)

    for run in range(args.playable_runs):
        for name, source in (("short", short), ("long", long)):
            print(f"playable run {run + 1}: {name} source on a fresh stack …", flush=True)
            with running_stack("--transcoders", "2") as stack:
                note(f"{name} playable", asyncio.run(until_playable(stack, source)))
    for run in range(args.runs):
        print(f"run {run + 1}: two workers, both sources …", flush=True)
        with running_stack("--transcoders", "2") as stack:
            for name, source in (("short", short), ("long", long)):
                playable, ready, _ = asyncio.run(through(stack, source))
                note(f"{name} playable", playable)
                note(f"{name} ready", ready)
        print(f"run {run + 1}: one worker on one core …", flush=True)
        with running_stack("--transcoders", "1", "--transcoder-cpus", "0") as stack:
            _, one_ready, cpu = asyncio.run(through(stack, long))
        print(f"run {run + 1}: two workers on a core each …", flush=True)
        with running_stack("--transcoders", "2", "--transcoder-cpus", "0,1") as stack:
            _, two_ready, _ = asyncio.run(through(stack, long))
        print(f"run {run + 1}: the single-ffmpeg ladder …", flush=True)
        plain = plain_ladder_cpu(long, folder / f"plain-{run}")
        note("one worker ready", one_ready)
        note("two workers ready", two_ready)
        note("speed-up", one_ready / two_ready)
        note("chunked cpu", cpu)
        note("plain cpu", plain)
        note("cpu ratio", cpu / plain)

    figures["flatness"] = [
        long / short
        for long, short in zip(figures["long playable"], figures["short playable"], strict=True)
    ]
    print(
        f"\nsources: {args.short} s and {args.long} s 1080p30 with audio; runs: {args.runs}, "
        f"playable samples: {args.runs + args.playable_runs}"
    )
    for name in ("short", "long"):
        readies = figures.get(f"{name} ready")
        print(
            f"{name:>5} ({args.short if name == 'short' else args.long:>4} s): upload complete → "
            f"playable {summary(figures[f'{name} playable'])} s"
            + (f", → READY {summary(readies)} s" if readies else "")
        )
    print(f"playable long ÷ short:               {summary(figures['flatness'])}  (target ≤ 1.2)")
    if not args.runs:
        subprocess.run(["rm", "-rf", str(folder)], check=False)
        return
    print(f"READY, one worker on one core:        {summary(figures['one worker ready'])} s")
    print(f"READY, two workers on a core each:    {summary(figures['two workers ready'])} s")
    print(f"speed-up:                             {summary(figures['speed-up'])}  (target ≥ 1.8)")
    print(f"CPU s, chunked pipeline:              {summary(figures['chunked cpu'])}")
    print(f"CPU s, single-ffmpeg ladder:          {summary(figures['plain cpu'])}")
    print(f"CPU ratio chunked ÷ single:           {summary(figures['cpu ratio'])}  (target ≤ 1.10)")
    subprocess.run(["rm", "-rf", str(folder)], check=False)


if __name__ == "__main__":
    main()
