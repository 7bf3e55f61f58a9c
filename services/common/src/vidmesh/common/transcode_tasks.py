"""The transcode queue's names and messages (ARCHITECTURE §6): streams, lanes, subjects, job and
task ids, and the task graph of a generation (plan → chunks + audio → finalize).

Pure names and protobuf, no NATS client: gateway names tasks in its records without the queue
extra; publishing and the topology live in `queue_topology`. Two lanes share one work-queue
stream: `vidmesh.transcode.urgent.<video_id>` (plan, the first chunk, audio, finalize: what
makes a video playable and then ready) and `vidmesh.transcode.bulk.<video_id>` (the other
chunks), so a new upload is playable in seconds even while a long video's chunks fill the queue.
"""

from __future__ import annotations

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
