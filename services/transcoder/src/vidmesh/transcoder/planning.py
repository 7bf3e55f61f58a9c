"""The plan task: fix a generation's ladder and chunks, record them, say what to publish."""

from __future__ import annotations

from vidmesh.common.layout import generation_prefix
from vidmesh.common.media import (
    MediaInfo,
    ProbeFailed,
    keyframes_before,
    measure_video_duration,
    probe,
)
from vidmesh.transcoder.grid import FIRST_CHUNK_SECONDS, SEGMENT_SECONDS, plan_chunks
from vidmesh.transcoder.ladder import plan_ladder
from vidmesh.transcoder.tasks import PermanentFailure, TaskContext, source_url
from vidmesh.v1 import transcode_pb2, video_pb2, video_state_pb2

AUDIO_KBPS = 128


async def _duration(url: str, info: MediaInfo) -> float:
    """The picture's duration: the stream's, else the container's, else counted from packets
    (a WebM written live has no duration in its header)."""
    stream = info.video.duration if info.video else 0.0
    if stream > 0:
        return stream
    if info.duration > 0:
        return info.duration
    return await measure_video_duration(url)


async def _keyframes(url: str, info: MediaInfo, duration: float) -> set[float]:
    """The source's keyframes around every segment boundary a chunk could start at; none for a
    file whose header gave no duration (it has no index either, and seeking would scan it)."""
    if info.duration <= 0 and (info.video is None or info.video.duration <= 0):
        return set()
    boundaries = [
        FIRST_CHUNK_SECONDS + SEGMENT_SECONDS * index
        for index in range(int(duration // SEGMENT_SECONDS) + 1)
        if FIRST_CHUNK_SECONDS + SEGMENT_SECONDS * index < duration
    ]
    return await keyframes_before(url, boundaries, start=info.start_time)


async def make_plan(
    context: TaskContext, job: transcode_pb2.TranscodeJob
) -> transcode_pb2.TranscodePlan:
    url = await source_url(context, job)
    try:
        info = await probe(url)
        ladder = plan_ladder(info)
        duration = await _duration(url, info)
    except (ProbeFailed, ValueError) as error:
        raise PermanentFailure(
            "UNSUPPORTED_MEDIA", f"The original cannot be read: {error}"
        ) from None
    if duration <= 0:
        raise PermanentFailure("UNSUPPORTED_MEDIA", "The original has no measurable duration.")
    spans = plan_chunks(
        duration,
        ladder.frame_rate,
        chunk_seconds=context.settings.chunk_seconds,
        keyframes=sorted(await _keyframes(url, info, duration)),
    )
    return transcode_pb2.TranscodePlan(
        media_prefix=generation_prefix(job.video_id, job.generation),
        renditions=[
            video_pb2.Rendition(
                name=rung.name,
                width=rung.width,
                height=rung.height,
                bandwidth=rung.max_kbps * 1000,
                frame_rate=ladder.frame_rate,
            )
            for rung in ladder.rungs
        ],
        chunks=[
            transcode_pb2.TranscodePlan.Chunk(
                index=span.index,
                start_seconds=span.start,
                end_seconds=span.end,
                first_segment=span.first_segment,
                segment_count=span.segment_count,
            )
            for span in spans
        ],
        has_audio=info.has_audio,
        frame_rate=ladder.frame_rate,
        duration_seconds=spans[-1].end,
        segment_seconds=SEGMENT_SECONDS,
        audio_bandwidth=AUDIO_KBPS * 1000 if info.has_audio else 0,
    )


async def plan_generation(
    context: TaskContext, job: transcode_pb2.TranscodeJob
) -> video_state_pb2.TaskOutcome:
    """Record the plan (gateway keeps the first one recorded) and return the tasks now due."""
    plan = await make_plan(context, job)
    return await context.report(
        lambda: context.states.record_plan(job.video_id, job.job_id, plan, context.runner),
        "recording a plan",
    )
