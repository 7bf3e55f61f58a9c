"""A video's timeline (GetVideoTimeline): what an owner or operator reads to answer "why is this
video slow?" — the upload, each generation's wait in the queue, every task with the worker that
ran it and how long it took, and the moments the video became playable, ready or failed.

The state history (`video_transitions`) gives the stretches between states; the task runs
(`task_runs`) are written by the reports that count (the first completion of a task), with the
start time the worker sent, so a redelivered task shows the delivery that won.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vidmesh.gateway.convert import duration, timestamp
from vidmesh.gateway.models import TaskRun, Video, VideoState, VideoTransition
from vidmesh.v1 import video_pb2, video_state_pb2

Step = video_pb2.TimelineStep
Kind = video_pb2.TimelineStep.Kind

_TASK_KINDS: dict[str, Kind.ValueType] = {
    "plan": Step.KIND_PLAN,
    "audio": Step.KIND_AUDIO,
    "finalize": Step.KIND_FINALIZE,
}
# Within one moment, tasks sort before the milestones they lead to.
_ORDER = {kind: rank for rank, kind in enumerate(Kind.values())}


async def note_run(
    session: AsyncSession,
    video: Video,
    task: str,
    runner: video_state_pb2.TaskRunner,
    delivery: int,
) -> None:
    """Record who ran `task` of the video's current generation (the first report wins, as the
    task's record does); a report without a runner (an older worker) records nothing."""
    if not runner.worker:
        return
    finished = datetime.now(UTC)
    started = runner.start_time.ToDatetime(UTC) if runner.HasField("start_time") else finished
    await session.execute(
        insert(TaskRun)
        .values(
            video_id=video.id,
            generation=video.generation,
            task=task,
            worker=runner.worker[:128],
            delivery=delivery,
            # A worker's clock may run ahead of ours: a run never ends before it starts.
            started_at=min(started, finished),
            finished_at=finished,
        )
        .on_conflict_do_nothing()
    )


@dataclass(frozen=True, slots=True)
class _Interval:
    kind: Kind.ValueType
    name: str
    generation: int
    start: datetime
    end: datetime | None
    worker: str = ""
    delivery: int = 0
    detail: str = ""


def _step(interval: _Interval, since: datetime | None = None) -> video_pb2.TimelineStep:
    """A stretch takes its own length; a moment (`since` given) the time since its queueing."""
    origin = since if since is not None else interval.start
    length = (interval.end - origin).total_seconds() if interval.end is not None else None
    return video_pb2.TimelineStep(
        kind=interval.kind,
        name=interval.name,
        generation=interval.generation,
        start_time=timestamp(interval.start),
        end_time=timestamp(interval.end),
        duration=duration(length),
        worker=interval.worker,
        delivery=interval.delivery,
        detail=interval.detail,
    )


def _task_kind(task: str) -> Kind.ValueType:
    return Step.KIND_CHUNK if task.startswith("chunk-") else _TASK_KINDS.get(task, Step.KIND_PLAN)


def build_steps(
    video: Video, transitions: list[VideoTransition], runs: list[TaskRun]
) -> list[video_pb2.TimelineStep]:
    """The timeline from the record, by generation and then by start time."""
    entries: list[tuple[datetime, video_pb2.TimelineStep]] = []
    left_upload = next((t for t in transitions if t.state is not VideoState.UPLOADING), None)
    stored = left_upload.created_at if left_upload is not None else None
    upload = _Interval(Step.KIND_UPLOAD, "upload", 0, video.created_at, stored)
    entries.append((upload.start, _step(upload)))

    queued = [t for t in transitions if t.state is VideoState.QUEUED]
    plan_starts = {run.generation: run.started_at for run in runs if run.task == "plan"}
    for position, entered in enumerate(queued):
        generation, since = entered.generation, entered.created_at
        # A dead-letter retry queues the same generation again: each wait ends at the first
        # sign of work after it (the plan's start, else PROCESSING), or when the next began.
        plan = plan_starts.get(generation)
        later = [
            t.created_at
            for t in transitions
            if t.generation == generation
            and t.state is VideoState.PROCESSING
            and t.created_at >= since
        ]
        end = plan if plan is not None and plan >= since else min(later, default=None)
        waiting = entered is transitions[-1] and video.state is VideoState.QUEUED
        if end is None and not waiting:
            following = queued[position + 1 :]
            end = following[0].created_at if following else video.updated_at
        wait = _Interval(Step.KIND_QUEUE, "queue", generation, since, end)
        entries.append((since, _step(wait)))

    for run in runs:
        interval = _Interval(
            _task_kind(run.task),
            run.task,
            run.generation,
            run.started_at,
            run.finished_at,
            worker=run.worker,
            delivery=run.delivery,
        )
        entries.append((run.started_at, _step(interval)))

    moments: list[tuple[datetime, int, VideoState | None]] = [
        (t.created_at, t.generation, t.state)
        for t in transitions
        if t.state in (VideoState.READY, VideoState.FAILED)
    ]
    if video.playable_at is not None:
        before = [t for t in queued if t.created_at <= video.playable_at]
        owner = before[-1].generation if before else video.generation
        moments.append((video.playable_at, owner, None))
    last = transitions[-1] if transitions else None
    for at, generation, state in moments:
        if state is VideoState.FAILED:
            latest = last is not None and last.created_at == at and last.state is state
            detail = (video.failure_reason or "") if latest else ""
            moment = _Interval(Step.KIND_FAILED, "failed", generation, at, at, detail=detail)
        elif state is VideoState.READY:
            moment = _Interval(Step.KIND_READY, "ready", generation, at, at)
        else:
            moment = _Interval(Step.KIND_PLAYABLE, "playable", generation, at, at)
        since = max(
            (t.created_at for t in queued if t.generation == generation and t.created_at <= at),
            default=at,
        )
        entries.append((at, _step(moment, since=since)))

    entries.sort(key=lambda entry: (entry[1].generation, entry[0], _ORDER[entry[1].kind]))
    return [step for _, step in entries]


class Timelines:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def steps(self, video: Video) -> list[video_pb2.TimelineStep]:
        async with self._sessions() as session:
            transitions = list(
                await session.scalars(
                    select(VideoTransition)
                    .where(VideoTransition.video_id == video.id)
                    .order_by(VideoTransition.id)
                )
            )
            runs = list(await session.scalars(select(TaskRun).where(TaskRun.video_id == video.id)))
        return build_steps(video, transitions, runs)
