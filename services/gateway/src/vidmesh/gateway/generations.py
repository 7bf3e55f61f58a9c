"""The pipeline's state, owned by gateway: each generation's plan and finished tasks.

Fan-in without a coordinator (ARCHITECTURE §6): workers report each task, and every report,
first or repeated, is answered with what is now due, computed from the record under the video's
row lock. The first completion of a chunk wins (the primary key of `transcode_tasks` is the
guard beyond NATS's dedupe window); a later delivery of the same chunk changes nothing and hears
the same answer, so redelivered last-chunk reports still publish finalize exactly once (its task
id dedupes) and the video turns READY once. The answer says whether the record holds the
report's run; a delivery whose run lost removes its files. Audio reports grow the audio record
while it runs: a report is taken only from the newest delivery and only when it lists at least
as many segments as recorded, so the audio playlist never shrinks.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vidmesh.common.errors import FailedPrecondition, InvalidArgument, NotFound
from vidmesh.common.hls_playlists import contiguous_chunks, is_complete
from vidmesh.common.layout import generation_prefix
from vidmesh.common.transcode_tasks import task_name
from vidmesh.gateway import metrics
from vidmesh.gateway.catalog import parse_video_id, video_not_found
from vidmesh.gateway.convert import video_to_proto
from vidmesh.gateway.lifecycle import stale_job
from vidmesh.gateway.models import TranscodeTask, Video, VideoState
from vidmesh.gateway.notifications import announce_change
from vidmesh.gateway.timeline import note_run
from vidmesh.gateway.webhooks import enqueue
from vidmesh.v1 import transcode_pb2, video_state_pb2

Kind = transcode_pb2.TranscodeTask
PLAN = "plan"
AUDIO = "audio"
MAX_CHUNKS = 10_000


def _invalid_plan(message: str) -> InvalidArgument:
    return InvalidArgument("INVALID_PLAN", message, field="plan")


def check_plan(video: Video, plan: transcode_pb2.TranscodePlan) -> None:
    """A plan must cover the video in order, with a ladder, under this generation's prefix."""
    if plan.media_prefix != generation_prefix(str(video.id), video.generation):
        raise _invalid_plan("The plan's prefix is not this generation's.")
    if not plan.renditions:
        raise _invalid_plan("The plan has no renditions.")
    if not 0 < len(plan.chunks) <= MAX_CHUNKS:
        raise _invalid_plan(f"The plan must have 1 to {MAX_CHUNKS} chunks.")
    if plan.frame_rate <= 0 or plan.segment_seconds <= 0:
        raise _invalid_plan("The plan needs a frame rate and a segment duration.")
    end = 0.0
    for index, chunk in enumerate(plan.chunks):
        if chunk.index != index or abs(chunk.start_seconds - end) > 1e-6:
            raise _invalid_plan("Chunks must be numbered from 0 and follow each other.")
        if chunk.end_seconds <= chunk.start_seconds or chunk.segment_count <= 0:
            raise _invalid_plan("Every chunk must have a length and segments.")
        end = chunk.end_seconds


class Generations:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record_plan(
        self,
        video_id: str,
        job_id: str,
        plan: transcode_pb2.TranscodePlan,
        runner: video_state_pb2.TaskRunner,
    ) -> video_state_pb2.TaskOutcome:
        async with self._sessions.begin() as session:
            video = await _current(session, video_id, job_id)
            rows = await _rows(session, video)
            if PLAN not in rows:
                check_plan(video, plan)
                now = datetime.now(UTC)
                rows[PLAN] = TranscodeTask(
                    video_id=video.id,
                    generation=video.generation,
                    task=PLAN,
                    payload=plan.SerializeToString(),
                    complete=True,
                    created_at=now,
                    updated_at=now,
                )
                session.add(rows[PLAN])
                video.chunks_total = len(plan.chunks)
                video.updated_at = now
                await note_run(session, video, PLAN, runner, 0)
                await announce_change(session, video.id)
            generation = _generation(video, rows)
            recorded = rows[PLAN].payload == plan.SerializeToString()
            return _outcome(video, generation, recorded=recorded, all_missing=True)

    async def complete_task(
        self, request: video_state_pb2.CompleteTaskRequest
    ) -> video_state_pb2.TaskOutcome:
        name = _task_name(request.task)
        async with self._sessions.begin() as session:
            video = await _current(session, request.video_id, request.job_id)
            rows = await _rows(session, video)
            if PLAN not in rows:
                raise FailedPrecondition("NOT_PLANNED", "The generation has no plan yet.")
            plan = transcode_pb2.TranscodePlan.FromString(rows[PLAN].payload)
            _check_task(request, plan)
            changed = _record(session, video, rows, name, request)
            generation = _generation(video, rows)
            if changed:
                now = datetime.now(UTC)
                if rows[name].complete:
                    await note_run(session, video, name, request.runner, request.delivery)
                if _account(video, generation, now):
                    await enqueue(session, video, "video.playable")
                video.updated_at = now
                await announce_change(session, video.id)
            opens = request.task.kind == Kind.KIND_CHUNK and request.task.chunk_index == 0
            recorded = rows[name].run == request.segments.run
            return _outcome(video, generation, recorded=recorded, all_missing=opens)

    async def generation(self, video_id: str, job_id: str) -> video_state_pb2.Generation:
        async with self._sessions() as session:
            video = await _current(session, video_id, job_id, lock=False)
            rows = await _rows(session, video)
        if PLAN not in rows:
            raise NotFound("NOT_PLANNED", "The generation has no plan yet.")
        return _generation(video, rows)

    async def live(self, video: Video) -> video_state_pb2.Generation | None:
        """The generation a playable, unfinished video plays from (None once READY)."""
        if video.state is VideoState.READY or not video.media_prefix:
            return None
        if video.media_prefix != generation_prefix(str(video.id), video.generation):
            return None
        async with self._sessions() as session:
            rows = await _rows(session, video)
        return _generation(video, rows) if PLAN in rows else None


def _task_name(task: transcode_pb2.TranscodeTask) -> str:
    if task.kind not in (Kind.KIND_CHUNK, Kind.KIND_AUDIO):
        raise InvalidArgument("INVALID_TASK", "Only chunk and audio tasks report segments.")
    return task_name(task)


def _check_task(
    request: video_state_pb2.CompleteTaskRequest, plan: transcode_pb2.TranscodePlan
) -> None:
    segments = request.segments
    if request.task.kind == Kind.KIND_CHUNK and not 0 <= request.task.chunk_index < len(
        plan.chunks
    ):
        raise InvalidArgument("INVALID_TASK", "The plan has no such chunk.", field="task")
    if request.task.kind == Kind.KIND_AUDIO and not plan.has_audio:
        raise InvalidArgument("INVALID_TASK", "The plan has no audio.", field="task")
    if not segments.run or len(segments.run) > 64 or not segments.run.isalnum():
        raise InvalidArgument("INVALID_TASK", "'segments.run' must be 1-64 letters or digits.")
    if request.complete and not segments.durations:
        raise InvalidArgument("INVALID_TASK", "A finished task must list its segments.")
    if any(d <= 0 or d > 3 * plan.segment_seconds for d in segments.durations):
        raise InvalidArgument("INVALID_TASK", "Segment durations are out of range.")


def _record(
    session: AsyncSession,
    video: Video,
    rows: dict[str, TranscodeTask],
    name: str,
    request: video_state_pb2.CompleteTaskRequest,
) -> bool:
    """Apply the report if it is news; False when it repeats or lost to a recorded one."""
    now = datetime.now(UTC)
    row = rows.get(name)
    if row is not None and row.complete:
        return False
    if row is not None:
        earlier = video_state_pb2.SegmentRun.FromString(row.payload)
        older = request.delivery < row.delivery
        shorter = len(request.segments.durations) < len(earlier.durations)
        if older or (shorter and row.run != request.segments.run):
            return False
    else:
        row = TranscodeTask(
            video_id=video.id, generation=video.generation, task=name, created_at=now
        )
        session.add(row)
        rows[name] = row
    row.payload = request.segments.SerializeToString()
    row.run = request.segments.run
    row.delivery = request.delivery
    row.complete = request.complete or request.task.kind == Kind.KIND_CHUNK
    row.updated_at = now
    return True


def _account(video: Video, generation: video_state_pb2.Generation, now: datetime) -> bool:
    """Progress, the playable moment and the pointer, from the record; True when the video
    has just become playable for the first time."""
    plan = generation.plan
    video.chunks_done = len(generation.chunks)
    done = {chunk.index for chunk in generation.chunks}
    video.seconds_done = sum(
        c.end_seconds - c.start_seconds for c in plan.chunks if c.index in done
    )
    video.progress_percent = round(99.0 * video.seconds_done / max(plan.duration_seconds, 1e-3), 1)
    if generation.playable and video.state is not VideoState.FAILED:
        keeps_ready_ladder = video.ready_at is not None and bool(video.media_prefix)
        if not keeps_ready_ladder:
            # A first generation is played as soon as it can be; a re-transcode of a video
            # that was READY keeps the old ladder until the new one is READY.
            video.media_prefix = plan.media_prefix
            if video.playable_at is None:
                video.playable_at = now
                metrics.observe_since(metrics.TIME_TO_PLAYABLE, video.queued_at, now)
                return True
    return False


def _outcome(
    video: Video,
    generation: video_state_pb2.Generation,
    *,
    recorded: bool,
    all_missing: bool,
) -> video_state_pb2.TaskOutcome:
    """What is due now. A plan report, and the first chunk's, is answered with every task still
    missing (a re-run plan restarts what was lost); any other task report with finalize once
    nothing is missing."""
    due: list[transcode_pb2.TranscodeTask] = []
    if video.state is not VideoState.FAILED:
        if is_complete(generation):
            due.append(Kind(kind=Kind.KIND_FINALIZE))
        elif all_missing:
            due += _missing(generation)
    return video_state_pb2.TaskOutcome(
        due=due,
        playable=generation.playable,
        video=video_to_proto(video),
        recorded=recorded,
        plan=generation.plan,
    )


def _missing(generation: video_state_pb2.Generation) -> list[transcode_pb2.TranscodeTask]:
    """The tasks not done yet, except that the later chunks wait for the first one: it is what
    makes the video playable, and encoding it with the machine's cores to itself (and the
    audio beside it) measured twice as fast as beside two niced chunks. Its report releases the
    rest, so the wait costs one short chunk."""
    done = {chunk.index for chunk in generation.chunks}
    chunks = [c.index for c in generation.plan.chunks if c.index not in done]
    if 0 in chunks:
        chunks = [0]
    due = [Kind(kind=Kind.KIND_CHUNK, chunk_index=index) for index in chunks]
    if generation.plan.has_audio and not generation.audio_complete:
        due.append(Kind(kind=Kind.KIND_AUDIO))
    return due


async def _current(
    session: AsyncSession, video_id: str, job_id: str, *, lock: bool = True
) -> Video:
    video = await session.get(Video, parse_video_id(video_id), with_for_update=lock)
    if video is None:
        raise video_not_found()
    if not job_id or video.job_id != job_id:
        raise stale_job(job_id, video.job_id)
    return video


async def _rows(session: AsyncSession, video: Video) -> dict[str, TranscodeTask]:
    found = await session.scalars(
        select(TranscodeTask).where(
            TranscodeTask.video_id == video.id, TranscodeTask.generation == video.generation
        )
    )
    return {row.task: row for row in found.all()}


def _generation(video: Video, rows: dict[str, TranscodeTask]) -> video_state_pb2.Generation:
    plan = transcode_pb2.TranscodePlan.FromString(rows[PLAN].payload)
    generation = video_state_pb2.Generation(job_id=video.job_id or "", plan=plan)
    for chunk in plan.chunks:
        row = rows.get(f"chunk-{chunk.index}")
        if row is not None and row.complete:
            generation.chunks.add(
                index=chunk.index, segments=video_state_pb2.SegmentRun.FromString(row.payload)
            )
    audio = rows.get(AUDIO)
    if audio is not None:
        generation.audio.CopyFrom(video_state_pb2.SegmentRun.FromString(audio.payload))
        generation.audio_complete = audio.complete
    first_done = bool(contiguous_chunks(generation))
    generation.playable = first_done and (
        not plan.has_audio or generation.audio_complete or len(generation.audio.durations) > 0
    )
    generation.finished = (
        video.state is VideoState.READY and video.media_prefix == plan.media_prefix
    )
    return generation
