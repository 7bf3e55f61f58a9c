"""What every transcode task shares: its context, its scratch space, its failures.

A task reads the original in place from the object store (a file for the local store, a
presigned URL that ffmpeg reads with ranged requests for S3), so no worker needs another's disk
and no chunk copies the whole original.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from vidmesh.common.errors import NotFound
from vidmesh.common.layout import hls_key
from vidmesh.common.outages import until_acknowledged
from vidmesh.common.storage import MEDIA, RAW, BlobNotFound, BlobStore
from vidmesh.common.transcode_tasks import task_name
from vidmesh.common.video_states import VideoStates
from vidmesh.transcoder.ladder import Rung
from vidmesh.transcoder.settings import TranscoderSettings
from vidmesh.v1 import transcode_pb2, video_state_pb2

T = TypeVar("T")
SOURCE_URL_TTL = timedelta(hours=6)


class PermanentFailure(Exception):
    """Retrying cannot help (the source is gone or unreadable, the task names no chunk)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class NotYetDue(Exception):
    """The task ran before what it depends on was recorded; retry it later."""


@dataclass(frozen=True, slots=True)
class TaskContext:
    store: BlobStore
    states: VideoStates
    settings: TranscoderSettings
    # Who runs this delivery and since when: sent with every report that completes a task, for
    # the video's timeline.
    runner: video_state_pb2.TaskRunner = field(default_factory=video_state_pb2.TaskRunner)

    async def report(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        """A call to gateway, repeated through an outage: the work behind it is done and must
        not be redone (the task stays heartbeated meanwhile)."""
        return await until_acknowledged(call, what=what)


def new_run() -> str:
    """A folder name unique to one delivery of one task."""
    return uuid.uuid4().hex[:12]


async def source_url(context: TaskContext, job: transcode_pb2.TranscodeJob) -> str:
    try:
        return await context.store.media_url(RAW, job.source_key, SOURCE_URL_TTL)
    except BlobNotFound:
        raise PermanentFailure("SOURCE_MISSING", "The original is gone from storage.") from None


@contextlib.asynccontextmanager
async def workspace(
    context: TaskContext, job: transcode_pb2.TranscodeJob, run: str
) -> AsyncIterator[Path]:
    """A scratch folder for one delivery, removed afterwards whatever happens."""
    name = f"{job.video_id}-{job.generation}-{task_name(job.task)}-{run}"
    folder = context.settings.work_dir / name
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)


def rungs_of(plan: transcode_pb2.TranscodePlan) -> list[Rung]:
    """The ladder of a recorded plan (nominal bandwidth is the rung's -maxrate)."""
    return [
        Rung(r.name, r.width, r.height, int(r.bandwidth // 1000), int(plan.audio_bandwidth // 1000))
        for r in plan.renditions
    ]


async def plan_of(
    context: TaskContext, job: transcode_pb2.TranscodeJob
) -> transcode_pb2.TranscodePlan:
    """The plan a task came with (so it starts without a call to gateway), else gateway's."""
    if job.HasField("plan"):
        return job.plan
    return (await recorded_generation(context, job)).plan


async def discard_run(store: BlobStore, prefix: str, renditions: list[str], run: str) -> None:
    """Remove what a delivery stored when another delivery's run was recorded first: no
    playlist will ever name it."""
    for rendition in renditions:
        await store.delete_prefix(MEDIA, hls_key(prefix, f"{rendition}/{run}") + "/")


async def recorded_generation(
    context: TaskContext, job: transcode_pb2.TranscodeJob
) -> video_state_pb2.Generation:
    """The generation as gateway recorded it; a task that outran its plan waits for it."""
    try:
        return await context.report(
            lambda: context.states.generation(job.video_id, job.job_id), "reading the plan"
        )
    except NotFound as missing:
        if missing.reason == "NOT_PLANNED":
            raise NotYetDue("the plan is not recorded yet") from None
        raise
