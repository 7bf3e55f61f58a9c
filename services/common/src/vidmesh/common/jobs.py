"""The transcode queue on NATS JetStream: names, topology and publishing (ARCHITECTURE §6).

The transcoder owns the topology and creates it at start-up, idempotently; everyone else only
publishes or binds. Jobs carry `Nats-Msg-Id` = job id, so a repeated publish inside the
duplicate window is dropped by the server (the database guards beyond the window).

Each video's jobs go to their own subject, `vidmesh.transcode.jobs.<video_id>`: on a work-queue
stream a job stays stored until it is acked, so "is there work behind this video?" is one
last-message lookup by subject (the reconciler asks it), and a deleted video's jobs can be purged.
"""

from __future__ import annotations

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

from vidmesh.v1 import transcode_pb2

JOBS_STREAM = "TRANSCODE"
JOBS_SUBJECT = "vidmesh.transcode.jobs"
JOBS_SUBJECTS = f"{JOBS_SUBJECT}.>"
JOBS_CONSUMER = "transcoders"
DLQ_STREAM = "TRANSCODE_DLQ"
DLQ_SUBJECT = "vidmesh.transcode.dlq"
PROGRESS_PREFIX = "vidmesh.video.progress"
MAX_DELIVERIES_ADVISORY = (
    f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{JOBS_STREAM}.{JOBS_CONSUMER}"
)


def progress_subject(video_id: str) -> str:
    return f"{PROGRESS_PREFIX}.{video_id}"


def job_subject(video_id: str) -> str:
    return f"{JOBS_SUBJECT}.{video_id}"


def job_id(video_id: str, generation: int) -> str:
    """`<video_id>:<generation>`; a retry or re-transcode takes the next generation."""
    return f"{video_id}:{generation}"


def generation_of(job: str) -> int:
    """The generation in a job id (`<video_id>:<generation>`), 0 when it has none."""
    suffix = job.rsplit(":", 1)[-1]
    return int(suffix) if ":" in job and suffix.isascii() and suffix.isdigit() else 0


@dataclass(frozen=True, slots=True)
class QueuePolicy:
    """How hard the queue tries: `attempts` deliveries by workers, then the dead-letter queue."""

    attempts: int = 3
    ack_wait_seconds: float = 60.0
    duplicate_window_seconds: float = 300.0
    dead_letter_max_age_days: int = 30


async def ensure_topology(js: JetStreamContext, policy: QueuePolicy) -> None:
    """Create or update both streams and the durable consumer (safe to repeat)."""
    jobs = StreamConfig(
        name=JOBS_STREAM,
        # The bare subject is kept so jobs queued before per-video subjects are still served.
        subjects=[JOBS_SUBJECT, JOBS_SUBJECTS],
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
    for config in (jobs, dead):
        try:
            await js.stream_info(config.name or "")
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)
    await js.add_consumer(
        JOBS_STREAM,
        ConsumerConfig(
            durable_name=JOBS_CONSUMER,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=policy.ack_wait_seconds,
            max_deliver=policy.attempts + 1,
            max_ack_pending=1000,
        ),
    )


async def publish_job(
    js: JetStreamContext, job: transcode_pb2.TranscodeJob, *, message_id: str = ""
) -> bool:
    """Queue a job; returns False when the server recognised it as a duplicate.

    `message_id` replaces the job id as dedupe id when the same job must run again (a replayed
    dead letter, a job the reconciler found gone).
    """
    ack = await js.publish(
        job_subject(job.video_id),
        job.SerializeToString(),
        headers={"Nats-Msg-Id": message_id or job.job_id},
    )
    return not ack.duplicate


async def has_job(js: JetStreamContext, video_id: str) -> bool:
    """Whether a job of this video is queued or in flight (not yet acked)."""
    try:
        await js.get_last_msg(JOBS_STREAM, job_subject(video_id))
    except NotFoundError:
        return False
    return True
