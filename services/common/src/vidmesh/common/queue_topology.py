"""The transcode queue on NATS JetStream: topology and publishing (ARCHITECTURE §6).

The transcoder owns the topology and creates it at start-up, idempotently; everyone else only
publishes or binds. Each task carries `Nats-Msg-Id` = its task id, so a repeated publish inside
the duplicate window is dropped by the server (gateway's record of finished tasks guards beyond
the window). A task stays stored until it is acked, so "is there work behind this video?" is a
last-message lookup by the video's subjects. Each message also carries the publisher's
`traceparent`, so the task's span continues the upload's trace.
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
from vidmesh.common.transcode_tasks import (
    CONSUMERS,
    DLQ_STREAM,
    DLQ_SUBJECT,
    JOBS_STREAM,
    LANES,
    LEGACY_CONSUMER,
    lane_subject,
    task_lane,
)
from vidmesh.v1 import transcode_pb2


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
