"""The transcoder's Prometheus metrics: tasks by kind and outcome, their durations, encode speed
and, from JetStream, the queue each worker sees (read when scraped, never per task)."""

from __future__ import annotations

from nats.js import JetStreamContext
from prometheus_client import Counter, Gauge, Histogram

from vidmesh.common.transcode_tasks import CONSUMERS, task_kind
from vidmesh.transcoder import queue_state
from vidmesh.v1 import transcode_pb2

TASKS = Counter(
    "vidmesh_transcode_tasks_total",
    "Task deliveries by kind (plan, chunk, audio, finalize) and outcome (done, retried, "
    "dead_lettered, superseded).",
    ["kind", "outcome"],
)
TASK_SECONDS = Histogram(
    "vidmesh_transcode_task_seconds",
    "Time a finished task took, by kind.",
    ["kind"],
    buckets=(0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300, 600, 1800),
)
ENCODE_SPEED = Histogram(
    "vidmesh_transcode_speed_ratio",
    "Seconds of video a chunk covers per second it took to encode its whole ladder (x real time).",
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32),
)
QUEUE_PENDING = Gauge(
    "vidmesh_jobs_pending",
    "Task messages waiting for a worker, per consumer (lane).",
    ["consumer"],
)
QUEUE_ACK_PENDING = Gauge(
    "vidmesh_jobs_ack_pending",
    "Task messages delivered to a worker and not yet settled, per consumer (lane).",
    ["consumer"],
)
DEAD_LETTERS = Gauge("vidmesh_dead_letters", "Messages held in the dead-letter stream.")

_KINDS = {
    transcode_pb2.TranscodeTask.KIND_PLAN: "plan",
    transcode_pb2.TranscodeTask.KIND_CHUNK: "chunk",
    transcode_pb2.TranscodeTask.KIND_AUDIO: "audio",
    transcode_pb2.TranscodeTask.KIND_FINALIZE: "finalize",
}


def kind_of(job: transcode_pb2.TranscodeJob) -> str:
    return _KINDS.get(task_kind(job.task), "plan")


def finished(job: transcode_pb2.TranscodeJob, seconds: float) -> None:
    """Count a task done, with its duration and, for a chunk, its encode speed."""
    kind = kind_of(job)
    TASKS.labels(kind, "done").inc()
    TASK_SECONDS.labels(kind).observe(seconds)
    if kind == "chunk" and seconds > 0:
        for chunk in job.plan.chunks:
            if chunk.index == job.task.chunk_index:
                ENCODE_SPEED.observe((chunk.end_seconds - chunk.start_seconds) / seconds)


async def read_queue(js: JetStreamContext) -> None:
    """Refresh the queue gauges from JetStream (consumer lag per lane, the dead letters)."""
    queue = await queue_state.read_queue(js)
    for lane in queue.lanes:
        QUEUE_PENDING.labels(CONSUMERS[lane.name]).set(lane.pending)
        QUEUE_ACK_PENDING.labels(CONSUMERS[lane.name]).set(lane.running)
    DEAD_LETTERS.set(queue.dead_letters)
