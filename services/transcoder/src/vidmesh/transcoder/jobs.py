"""One transcode job from source object to published ladder, with no queue concerns."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from vidmesh.common.layout import HLS_FOLDER, MASTER_PLAYLIST, POSTER, delivery_prefix
from vidmesh.common.media import ProbeFailed, probe
from vidmesh.common.storage import MEDIA, RAW, BlobNotFound, BlobStore
from vidmesh.transcoder.command import ladder_command
from vidmesh.transcoder.encoder import run_ffmpeg
from vidmesh.transcoder.ladder import plan_ladder
from vidmesh.transcoder.playlists import RenditionReport, master_playlist, measure
from vidmesh.transcoder.thumbnails import make_poster, make_storyboard
from vidmesh.v1 import transcode_pb2, video_pb2


class PermanentFailure(Exception):
    """Retrying cannot help (the source is gone or unreadable)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Ladder:
    media_prefix: str
    renditions: list[video_pb2.Rendition]
    duration: float
    poster_key: str


async def transcode(
    job: transcode_pb2.TranscodeJob,
    delivery: int,
    *,
    store: BlobStore,
    work_dir: Path,
    preset: str,
    stall_seconds: float,
    on_progress: Callable[[float], Awaitable[None]],
) -> Ladder:
    workspace = work_dir / f"{job.job_id.replace(':', '-')}-{delivery}"
    shutil.rmtree(workspace, ignore_errors=True)
    out = workspace / "out"
    (out / "hls").mkdir(parents=True)
    try:
        try:
            source = await store.fetch_to(RAW, job.source_key, workspace / "source")
        except BlobNotFound:
            raise PermanentFailure("SOURCE_MISSING", "The original is gone from storage.") from None
        try:
            info = await probe(source)
            plan = plan_ladder(info)
        except (ProbeFailed, ValueError) as error:
            raise PermanentFailure(
                "UNSUPPORTED_MEDIA", f"The original cannot be read: {error}"
            ) from None
        await run_ffmpeg(
            ladder_command(source, out / "hls", plan, preset=preset),
            duration=plan.duration,
            on_progress=on_progress,
            stall_seconds=stall_seconds,
        )
        reports = await measure(out / "hls", plan)
        (out / HLS_FOLDER / MASTER_PLAYLIST).write_text(master_playlist(reports, plan.frame_rate))
        await make_poster(source, out / POSTER, plan)
        await make_storyboard(out, plan, reports[-1].segments)
        prefix = delivery_prefix(job.video_id, job.attempt, delivery)
        await _publish(store, out, prefix)
        return Ladder(
            media_prefix=prefix,
            renditions=[_rendition(report, plan.frame_rate) for report in reports],
            duration=max(report.duration for report in reports),
            poster_key=POSTER,
        )
    finally:
        await asyncio.to_thread(shutil.rmtree, workspace, True)


def _rendition(report: RenditionReport, frame_rate: float) -> video_pb2.Rendition:
    return video_pb2.Rendition(
        name=report.rung.name,
        width=report.rung.width,
        height=report.rung.height,
        bandwidth=report.bandwidth,
        average_bandwidth=report.average_bandwidth,
        codecs=report.codecs,
        frame_rate=frame_rate,
    )


async def _publish(store: BlobStore, out: Path, prefix: str) -> None:
    """Upload everything, the master playlist last: a prefix without it is not a ladder."""
    files = sorted(path for path in out.rglob("*") if path.is_file())
    master = out / HLS_FOLDER / MASTER_PLAYLIST
    for path in [p for p in files if p != master] + [master]:
        key = f"{prefix}/{path.relative_to(out).as_posix()}"
        await store.put_file(MEDIA, key, path, move=True)
