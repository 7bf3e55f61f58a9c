"""The audio task: the whole track encoded once, published segment by segment as it goes.

Audio is one continuous encode (AAC cannot be cut into chunks without gaps or clicks at the
seams), so instead of waiting for the end the task uploads each segment as soon as ffmpeg lists
it in its playlist and reports the run so far to gateway: the video becomes playable when the
first chunk and the first audio segments are stored, not when the whole track is.
"""

from __future__ import annotations

from pathlib import Path

from vidmesh.common.layout import AUDIO_RENDITION, hls_key, segment_path
from vidmesh.common.storage import MEDIA
from vidmesh.transcoder.chunks import segment_number
from vidmesh.transcoder.command import audio_command
from vidmesh.transcoder.encoder import run_ffmpeg
from vidmesh.transcoder.playlists import read_segments
from vidmesh.transcoder.tasks import (
    TaskContext,
    discard_run,
    new_run,
    plan_of,
    source_url,
    workspace,
)
from vidmesh.v1 import transcode_pb2, video_state_pb2

AUDIO_CODEC = "mp4a.40.2"


class _Publisher:
    """Uploads the segments ffmpeg has finished and reports them, each once."""

    def __init__(
        self, context: TaskContext, job: transcode_pb2.TranscodeJob, delivery: int, run: str
    ) -> None:
        self._context = context
        self._job = job
        self._delivery = delivery
        self.segments = video_state_pb2.SegmentRun(run=run)
        self._sizes = self.segments.renditions.add(name=AUDIO_RENDITION, codecs=AUDIO_CODEC)
        self.outcome: video_state_pb2.TaskOutcome | None = None

    async def sweep(self, folder: Path, prefix: str, *, complete: bool) -> None:
        playlist = folder / "index.m3u8"
        listed = read_segments(playlist) if playlist.exists() else []
        fresh = listed[len(self.segments.durations) :]
        if not fresh and not complete:
            return
        for seconds, path in fresh:
            if not self.segments.durations:
                self.segments.first_segment = segment_number(path)
            key = hls_key(
                prefix, segment_path(AUDIO_RENDITION, self.segments.run, segment_number(path))
            )
            self._sizes.sizes.append(path.stat().st_size)
            await self._context.store.put_file(MEDIA, key, path, move=True)
            self.segments.durations.append(round(seconds, 6))
        states, job = self._context.states, self._job
        self.outcome = await self._context.report(
            lambda: states.complete_task(
                job.video_id,
                job.job_id,
                job.task,
                self._delivery,
                self.segments,
                complete=complete,
                runner=self._context.runner,
            ),
            "reporting audio segments",
        )


async def encode_audio(
    context: TaskContext, job: transcode_pb2.TranscodeJob, delivery: int
) -> video_state_pb2.TaskOutcome:
    plan = await plan_of(context, job)
    url = await source_url(context, job)
    run = new_run()
    publisher = _Publisher(context, job, delivery, run)
    async with workspace(context, job, run) as folder:

        async def progressed(percent: float) -> None:
            await publisher.sweep(folder, plan.media_prefix, complete=False)

        argv = audio_command(url, folder, plan.duration_seconds, kbps=plan.audio_bandwidth // 1000)
        if context.settings.bulk_niceness:
            # Only its first segment gates playback: the rest yields to the first chunk (and
            # still goes before bulk chunks).
            argv = ["nice", "-n", str(context.settings.bulk_niceness // 2), *argv]
        await run_ffmpeg(
            argv,
            duration=plan.duration_seconds,
            on_progress=progressed,
            stall_seconds=context.settings.stall_seconds,
        )
        await publisher.sweep(folder, plan.media_prefix, complete=True)
    assert publisher.outcome is not None
    if not publisher.outcome.recorded:
        await discard_run(context.store, plan.media_prefix, [AUDIO_RENDITION], run)
    return publisher.outcome
