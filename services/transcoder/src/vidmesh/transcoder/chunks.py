"""The chunk task: every rung of one time range from one decode, published under its own run.

Segments go to `hls/<rung>/<run>/seg_<n>.ts` with `<n>` global; gateway then records the run
(the first completion of a chunk wins), and the playlists list that run's files, so a stale or
repeated delivery of the same chunk never overwrites segments a viewer may be reading; a
delivery whose run lost removes its own files.
"""

from __future__ import annotations

import time
from pathlib import Path

from vidmesh.common.layout import hls_key, segment_path
from vidmesh.common.storage import MEDIA
from vidmesh.common.transcode_tasks import BULK, task_lane
from vidmesh.transcoder.command import chunk_command
from vidmesh.transcoder.encoder import ProgressCallback, run_ffmpeg
from vidmesh.transcoder.grid import ChunkSpan
from vidmesh.transcoder.ladder import Plan
from vidmesh.transcoder.mpegts import avc_codec, keyframe_span, mark_discontinuity
from vidmesh.transcoder.playlists import read_segments
from vidmesh.transcoder.tasks import (
    PermanentFailure,
    TaskContext,
    discard_run,
    new_run,
    plan_of,
    rungs_of,
    source_url,
    workspace,
)
from vidmesh.v1 import transcode_pb2, video_state_pb2


def segment_number(path: Path) -> int:
    """The global number in `seg_<n>.ts`."""
    return int(path.stem.rsplit("_", 1)[-1])


async def encode_chunk(
    context: TaskContext,
    job: transcode_pb2.TranscodeJob,
    delivery: int,
    on_progress: ProgressCallback,
) -> video_state_pb2.TaskOutcome:
    plan = await plan_of(context, job)
    index = job.task.chunk_index
    if not 0 <= index < len(plan.chunks):
        raise PermanentFailure("INVALID_TASK", f"The plan has no chunk {index}.")
    planned = plan.chunks[index]
    span = ChunkSpan(
        index=index,
        start_frame=round(planned.start_seconds * plan.frame_rate),
        end_frame=round(planned.end_seconds * plan.frame_rate),
        first_segment=planned.first_segment,
        segment_count=planned.segment_count,
        frame_rate=plan.frame_rate,
    )
    ladder = Plan(
        rungs=rungs_of(plan),
        frame_rate=plan.frame_rate,
        has_audio=plan.has_audio,
        duration=plan.duration_seconds,
    )
    url = await source_url(context, job)
    run = new_run()
    async with workspace(context, job, run) as folder:
        started = time.monotonic()
        argv = chunk_command(url, folder, ladder, span, preset=context.settings.preset)
        if task_lane(job.task) == BULK and context.settings.bulk_niceness:
            # Bulk chunks yield the CPU to whatever makes another video playable first.
            argv = ["nice", "-n", str(context.settings.bulk_niceness), *argv]
        await run_ffmpeg(
            argv,
            duration=span.end - span.start,
            on_progress=on_progress,
            stall_seconds=context.settings.stall_seconds,
        )
        encode_seconds = time.monotonic() - started
        segments = await _publish(context, plan.media_prefix, folder, ladder, run, index > 0)
    segments.encode_seconds = encode_seconds
    outcome = await context.report(
        lambda: context.states.complete_task(
            job.video_id, job.job_id, job.task, delivery, segments, runner=context.runner
        ),
        "reporting a chunk done",
    )
    if not outcome.recorded:
        # Another delivery's run is the chunk's (say this one was redelivered after a worker
        # died between report and ack, and ran after finalize had tidied up): no playlist
        # will name these files.
        rungs = [rung.name for rung in ladder.rungs]
        await discard_run(context.store, plan.media_prefix, rungs, run)
    return outcome


async def _publish(
    context: TaskContext, prefix: str, folder: Path, ladder: Plan, run: str, marks: bool
) -> video_state_pb2.SegmentRun:
    """Measure, mark and upload every rung's segments; the durations must agree across rungs
    (keyframes are forced on the same grid), else the chunk is not usable."""
    result = video_state_pb2.SegmentRun(run=run)
    for rung in ladder.rungs:
        listed = read_segments(folder / rung.name / "index.m3u8")
        if not listed:
            raise ValueError(f"{rung.name} of the chunk has no segments")
        durations = [round(seconds, 6) for seconds, _ in listed]
        if not result.durations:
            result.durations.extend(durations)
            result.first_segment = segment_number(listed[0][1])
        elif len(durations) != len(result.durations):
            raise ValueError(
                f"{rung.name} has {len(durations)} segments, not {len(result.durations)}"
            )
        if marks:
            mark_discontinuity(listed[0][1])
        entry = result.renditions.add(name=rung.name, codecs=avc_codec(listed[0][1]))
        for _, path in listed:
            entry.sizes.append(path.stat().st_size)
            entry.keyframe_sizes.append(keyframe_span(path))
            key = hls_key(prefix, segment_path(rung.name, run, segment_number(path)))
            await context.store.put_file(MEDIA, key, path, move=True)
    return result
