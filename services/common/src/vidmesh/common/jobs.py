"""The transcode queue on NATS JetStream: names, topology and publishing (ARCHITECTURE §6).

The transcoder owns the topology and creates it at start-up, idempotently; everyone else only
publishes or binds. A generation is a small graph of tasks (plan → chunks + audio → finalize);
each task carries `Nats-Msg-Id` = its task id, so a repeated publish inside the duplicate window
is dropped by the server (gateway's record of finished tasks guards beyond the window).

Two lanes share one work-queue stream: `vidmesh.transcode.urgent.<video_id>` (plan, the first
chunk, audio, finalize: what makes a video playable and then ready) and
`vidmesh.transcode.bulk.<video_id>` (the other chunks), each with its own durable consumer, and
workers always ask the urgent one first, so a new upload is playable in seconds even while a
long video's chunks fill the queue. A task stays stored until it is acked, so "is there work
behind this video?" is a last-message lookup by the video's subjects. Each message also carries
the publisher's `traceparent`, so the task's span continues the upload's trace.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from vidmesh.common.tracing import inject
from vidmesh.v1 import transcode_pb2

Kind = transcode_pb2.TranscodeTask.Kind

JOBS_STREAM = "TRANSCODE"
JOBS_SUBJECT = "vidmesh.transcode"
URGENT = "urgent"
BULK = "bulk"
LANES = (URGENT, BULK)
# Consumers by lane; the one of the single-job pipeline (no filter) is removed at start-up.
CONSUMERS = {URGENT: "transcode-urgent", BULK: "transcode-bulk"}
LEGACY_CONSUMER = "transcoders"
DLQ_STREAM = "TRANSCODE_DLQ"
DLQ_SUBJECT = "vidmesh.transcode.dlq"
PROGRESS_PREFIX = "vidmesh.video.progress"
MAX_DELIVERIES_ADVISORY = f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{JOBS_STREAM}.*"


def progress_subject(video_id: str) -> str:
    return f"{PROGRESS_PREFIX}.{video_id}"


def lane_subject(lane: str, video_id: str) -> str:
    return f"{JOBS_SUBJECT}.{lane}.{video_id}"


def job_id(video_id: str, generation: int) -> str:
    """`<video_id>:<generation>`; a retry or re-transcode takes the next generation."""
    return f"{video_id}:{generation}"


def generation_of(job: str) -> int:
    """The generation in a job id (`<video_id>:<generation>`), 0 when it has none."""
    suffix = job.rsplit(":", 1)[-1]
    return int(suffix) if ":" in job and suffix.isascii() and suffix.isdigit() else 0


def task_kind(task: transcode_pb2.TranscodeTask) -> Kind.ValueType:
    """The task's kind; a job from before tasks existed is a plan."""
    return task.kind or transcode_pb2.TranscodeTask.KIND_PLAN


def task_name(task: transcode_pb2.TranscodeTask) -> str:
    """`plan`, `chunk-<i>`, `audio` or `finalize`: the task's name in ids and gateway's record."""
    kind = task_kind(task)
    if kind == transcode_pb2.TranscodeTask.KIND_CHUNK:
        return f"chunk-{task.chunk_index}"
    return {
        transcode_pb2.TranscodeTask.KIND_AUDIO: "audio",
        transcode_pb2.TranscodeTask.KIND_FINALIZE: "finalize",
    }.get(kind, "plan")


def task_lane(task: transcode_pb2.TranscodeTask) -> str:
    """Chunks after the first are bulk work; everything that gates playback is urgent."""
    if task_kind(task) == transcode_pb2.TranscodeTask.KIND_CHUNK and task.chunk_index > 0:
        return BULK
    return URGENT


def task_of(
    job: transcode_pb2.TranscodeJob, task: transcode_pb2.TranscodeTask, *, replay: int = 0
) -> transcode_pb2.TranscodeJob:
    """A copy of `job` asking for `task`, with its task id (`:r<n>` for the n-th replay)."""
    named = transcode_pb2.TranscodeTask()
    named.CopyFrom(task)
    named.task_id = f"{job.video_id}:{job.generation}:{task_name(task)}"
    if replay:
        named.task_id += f":r{replay}"
    message = transcode_pb2.TranscodeJob()
    message.CopyFrom(job)
    message.task.CopyFrom(named)
    message.enqueue_time.GetCurrentTime()
    return message


def plan_job(
    video_id: str, generation: int, *, source_key: str, owner_id: str
) -> transcode_pb2.TranscodeJob:
    """The first task of a generation."""
    job = transcode_pb2.TranscodeJob(
        job_id=job_id(video_id, generation),
        video_id=video_id,
        generation=generation,
        source_key=source_key,
        owner_id=owner_id,
    )
    return task_of(job, transcode_pb2.TranscodeTask(kind=transcode_pb2.TranscodeTask.KIND_PLAN))


@dataclass(frozen=True, slots=True)
class QueuePolicy:
    """How hard the queue tries: `attempts` deliveries by workers, then the dead-letter queue."""

    attempts: int = 3
    ack_wait_seconds: float = 60.0
    duplicate_window_seconds: float = 300.0
    dead_letter_max_age_days: int = 30


async def ensure_topology(js: JetStreamContext, policy: QueuePolicy) -> None:
    """Create or update both streams and the two lane consumers (safe to repeat)."""
    jobs = StreamConfig(
        name=JOBS_STREAM,
        subjects=[lane_subject(lane, "*") for lane in LANES],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        duplicate_window=policy.duplicate_window_seconds,
    )
    dead = StreamConfig(
        name=DLQ_STREAM,
        subjects=[DLQ_SUBJECT],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=policy.dead_letter_max_age_days * 86400.0,
        duplicate_window=policy.duplicate_window_seconds,
    )
    with contextlib.suppress(NotFoundError):
        # A work-queue stream refuses overlapping consumers: the unfiltered one goes first.
        await js.delete_consumer(JOBS_STREAM, LEGACY_CONSUMER)
    for config in (jobs, dead):
        try:
            await js.stream_info(config.name or "")
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)
    for lane in LANES:
        await js.add_consumer(
            JOBS_STREAM,
            ConsumerConfig(
                durable_name=CONSUMERS[lane],
                filter_subject=lane_subject(lane, ">"),
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=policy.ack_wait_seconds,
                max_deliver=policy.attempts + 1,
                max_ack_pending=1000,
            ),
        )


async def publish_job(
    js: JetStreamContext, job: transcode_pb2.TranscodeJob, *, message_id: str = ""
) -> bool:
    """Queue a task on its lane; returns False when the server recognised a duplicate.

    `message_id` replaces the task id as dedupe id when the same task must run again (a task
    the reconciler found gone after the duplicate window).
    """
    ack = await js.publish(
        lane_subject(task_lane(job.task), job.video_id),
        job.SerializeToString(),
        headers=inject({"Nats-Msg-Id": message_id or job.task.task_id or job.job_id}),
    )
    return not ack.duplicate


async def has_job(js: JetStreamContext, video_id: str) -> bool:
    """Whether a task of this video is queued or in flight (not yet acked)."""
    for lane in LANES:
        try:
            await js.get_last_msg(JOBS_STREAM, lane_subject(lane, video_id))
        except NotFoundError:
            continue
        return True
    return False
