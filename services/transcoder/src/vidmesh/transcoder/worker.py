"""The JetStream worker: task slots that take urgent work first, each settling its task once.

Every slot asks the urgent lane (plan, first chunk, audio, finalize) before the bulk lane (the
other chunks), so what makes a new upload playable never waits behind a long video's chunks.
Outcomes: success → the report to gateway, then publish whatever gateway says is now due, then
ack. A worker that dies in between has the task redelivered, reports again, hears the same
answer and publishes again (deduplicated by task id), so a generation cannot be left waiting
for a step nobody publishes. A task refused as stale means the generation was superseded (or
the video deleted or failed) → ack and drop. A transient failure → nak with exponential backoff,
until the last delivery, which goes to the dead-letter queue like a permanent failure: publish
the DeadLetter (deduplicated), fail the video with the reason, then term the task.

Reports to gateway are retried until gateway has them (an outage is not the task's fault and
must not use up its deliveries), with the task heartbeated meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from google.protobuf.message import DecodeError
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError
from opentelemetry.trace import SpanKind

from vidmesh.common.errors import FailedPrecondition, NotFound, ServiceError
from vidmesh.common.outages import as_outage, until_acknowledged
from vidmesh.common.queue_topology import publish_job
from vidmesh.common.storage import BlobStore
from vidmesh.common.tracing import mark_failed, server_span
from vidmesh.common.transcode_tasks import (
    BULK,
    CONSUMERS,
    DLQ_SUBJECT,
    JOBS_STREAM,
    MAX_DELIVERIES_ADVISORY,
    URGENT,
    progress_subject,
    task_kind,
    task_name,
    task_of,
)
from vidmesh.common.validation import without_control_characters
from vidmesh.common.video_states import VideoStates
from vidmesh.transcoder import metrics
from vidmesh.transcoder.audio_track import encode_audio
from vidmesh.transcoder.chunks import encode_chunk
from vidmesh.transcoder.finalize import finalize
from vidmesh.transcoder.outcomes import Settle, failed_attempt
from vidmesh.transcoder.planning import plan_generation
from vidmesh.transcoder.settings import TranscoderSettings
from vidmesh.transcoder.tasks import PermanentFailure, TaskContext
from vidmesh.transcoder.workers import Activity
from vidmesh.v1 import transcode_pb2, video_pb2, video_state_pb2

_log = logging.getLogger(__name__)
Kind = transcode_pb2.TranscodeTask

# How long a slot waits on each lane per round. An idle slot spends nearly all its time in the
# urgent wait, so a new upload's plan or first chunk is taken the moment it is published (with
# 0.2 s urgent / 0.3 s bulk, pick-up took up to 0.3 s, a fifth of the time to playable); bulk
# work waits at most half a second more, which nobody sees.
LANE_WAITS = ((URGENT, 0.5), (BULK, 0.05))


class Worker:
    def __init__(
        self,
        client: Client,
        store: BlobStore,
        states: VideoStates,
        settings: TranscoderSettings,
    ) -> None:
        self._nc = client
        self._js: JetStreamContext = client.jetstream()
        self._states = states
        self._settings = settings
        self._context = TaskContext(store, states, settings)
        self.activity = Activity()

    @property
    def completed(self) -> int:
        return self.activity.completed

    async def run(self, stop: asyncio.Event) -> None:
        """Run `settings.slots` tasks at a time until `stop` is set; running tasks are nak'ed."""
        backstop = await self.start_backstop()
        try:
            await asyncio.gather(*(self._slot(stop) for _ in range(self._settings.slots)))
        finally:
            await backstop.unsubscribe()

    async def _slot(self, stop: asyncio.Event) -> None:
        lanes = {
            lane: await self._js.pull_subscribe_bind(durable=CONSUMERS[lane], stream=JOBS_STREAM)
            for lane, _ in LANE_WAITS
        }
        try:
            while not stop.is_set():
                message = await self._next(lanes)
                if message is not None:
                    await self._run_until_stopped(message, stop)
        finally:
            for subscription in lanes.values():
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    async def _next(self, lanes: dict[str, JetStreamContext.PullSubscription]) -> Msg | None:
        for lane, wait in LANE_WAITS:
            try:
                messages = await lanes[lane].fetch(1, timeout=wait)
            except (TimeoutError, NatsTimeoutError):
                continue
            except Exception as error:
                if as_outage(error) is None:
                    raise
                # NATS is away; the client reconnects by itself (logged once there).
                await asyncio.sleep(0.5)
                return None
            if messages:
                return messages[0]
        return None

    async def _run_until_stopped(self, message: Msg, stop: asyncio.Event) -> None:
        task = asyncio.create_task(self.handle(message))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(Exception):
                await message.nak()
            _log.info("task handed back on shutdown")

    async def start_backstop(self) -> Subscription:
        """Listen for tasks the server gave up redelivering (one listener per queue group)."""
        return await self._nc.subscribe(
            MAX_DELIVERIES_ADVISORY, queue="vidmesh-backstop", cb=self._on_max_deliveries
        )

    async def handle(self, message: Msg) -> None:
        try:
            job = transcode_pb2.TranscodeJob.FromString(message.data)
        except DecodeError:
            _log.error("undecodable task dropped", extra={"subject": message.subject})
            await message.term()
            return
        heartbeat = asyncio.create_task(self._heartbeat(message))
        try:
            with server_span(
                f"transcode {metrics.kind_of(job)}",
                message.headers,
                kind=SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "nats",
                    "messaging.destination.name": message.subject,
                    "vidmesh.video_id": job.video_id,
                    "vidmesh.job_id": job.job_id,
                    "vidmesh.task": task_name(job.task),
                    "vidmesh.delivery": message.metadata.num_delivered or 1,
                    "vidmesh.worker": self._settings.worker_name,
                },
            ):
                await self._handle(message, job)
        except Exception as error:
            outage = as_outage(error)
            if outage is None:
                raise
            # NATS went away while settling: the task is redelivered once it is back.
            _log.warning("task not settled", extra={"job_id": job.job_id, "reason": outage.reason})
        finally:
            heartbeat.cancel()

    async def _handle(self, message: Msg, job: transcode_pb2.TranscodeJob) -> None:
        delivery = message.metadata.num_delivered or 1
        context = {"job_id": job.job_id, "task": task_name(job.task), "delivery": delivery}
        try:
            video = await until_acknowledged(
                lambda: self._states.processing(
                    job.video_id, job.job_id, delivery, self._settings.worker_name
                ),
                what="reporting a task started",
            )
            if video.state != video_pb2.Video.STATE_PROCESSING:
                # A repeat of a task whose generation is already settled: nothing to do.
                raise FailedPrecondition("ALREADY_SETTLED", "The generation has already finished.")
        except (FailedPrecondition, NotFound) as refused:
            _log.info("task superseded; dropped", extra={**context, "reason": refused.reason})
            metrics.TASKS.labels(metrics.kind_of(job), "superseded").inc()
            await message.ack()
            return
        started = time.monotonic()
        self.activity.running[job.task.task_id] = (job.video_id, time.time())
        runner = video_state_pb2.TaskRunner(worker=self._settings.worker_name)
        runner.start_time.GetCurrentTime()
        try:
            outcome = await self._perform(replace(self._context, runner=runner), job, delivery)
        except Exception as error:
            failed = failed_attempt(error)
            if failed.bug:
                _log.exception("task failed unexpectedly", extra=context)
            if failed.settle is Settle.SUPERSEDED:
                _log.info("finished a superseded task", extra={**context, "reason": failed.reason})
                metrics.TASKS.labels(metrics.kind_of(job), "superseded").inc()
                await message.ack()
            elif failed.settle is Settle.BURY:
                await self._bury(message, job, delivery, failed.reason, failed.detail)
            else:
                await self._retry_or_bury(message, job, delivery, failed.reason, failed.detail)
            return
        finally:
            self.activity.running.pop(job.task.task_id, None)
        if outcome is not None:
            for due in outcome.due:
                following = task_of(job, due)
                following.plan.CopyFrom(outcome.plan)
                await publish_job(self._js, following)
        await message.ack()
        self.activity.completed += 1
        metrics.finished(job, time.monotonic() - started)
        _log.info(
            "task done",
            extra={**context, "due": [task_name(t) for t in outcome.due] if outcome else []},
        )

    async def _perform(
        self, context: TaskContext, job: transcode_pb2.TranscodeJob, delivery: int
    ) -> video_state_pb2.TaskOutcome | None:
        """Run the task; the outcome says what to publish next (None after finalize)."""
        kind = task_kind(job.task)
        if kind == Kind.KIND_PLAN:
            return await plan_generation(context, job)
        if kind == Kind.KIND_CHUNK:
            return await encode_chunk(
                context, job, delivery, self._progress_reporter(job, delivery)
            )
        if kind == Kind.KIND_AUDIO:
            return await encode_audio(context, job, delivery)
        if kind == Kind.KIND_FINALIZE:
            await finalize(context, job, delivery)
            return None
        raise PermanentFailure("INVALID_TASK", f"Unknown task kind {kind}.")

    async def _heartbeat(self, message: Msg) -> None:
        while True:
            await asyncio.sleep(self._settings.heartbeat_seconds)
            try:
                await message.in_progress()
            except Exception as error:
                if as_outage(error) is None:
                    raise
                # NATS is away; keep trying, the job is ours until ack_wait passes.
                _log.warning("heartbeat missed", extra={"error": type(error).__name__})

    def _progress_reporter(
        self, job: transcode_pb2.TranscodeJob, delivery: int
    ) -> Callable[[float], Awaitable[None]]:
        """Live progress of one task on core NATS, for observers (gateway counts chunks)."""
        last = 0.0

        async def report(percent: float) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last < self._settings.progress_interval_seconds:
                return
            last = now
            event = transcode_pb2.TranscodeProgress(
                job_id=job.job_id,
                video_id=job.video_id,
                delivery=delivery,
                percent=percent,
                stage=task_name(job.task),
                worker=self._settings.worker_name,
            )
            event.time.GetCurrentTime()
            with contextlib.suppress(Exception):
                await self._nc.publish(progress_subject(job.video_id), event.SerializeToString())

        return report

    async def _retry_or_bury(
        self, message: Msg, job: transcode_pb2.TranscodeJob, delivery: int, reason: str, text: str
    ) -> None:
        if delivery >= self._settings.attempts:
            await self._bury(message, job, delivery, reason, text)
            return
        metrics.TASKS.labels(metrics.kind_of(job), "retried").inc()
        mark_failed(reason)
        delay = min(self._settings.backoff_seconds * 2 ** (delivery - 1), 300.0)
        _log.warning(
            "task failed; will retry",
            extra={
                "task_id": job.task.task_id,
                "delivery": delivery,
                "reason": reason,
                "delay": delay,
            },
        )
        await message.nak(delay=delay)

    async def _bury(
        self, message: Msg, job: transcode_pb2.TranscodeJob, delivery: int, reason: str, text: str
    ) -> None:
        await dead_letter(
            self._js, self._states, job, delivery, reason, text, self._settings.worker_name
        )
        metrics.TASKS.labels(metrics.kind_of(job), "dead_lettered").inc()
        mark_failed(reason)
        await message.term()

    async def _on_max_deliveries(self, advisory: Msg) -> None:
        """Backstop: a task that kept killing its worker still ends in the dead-letter queue."""
        try:
            sequence = int(json.loads(advisory.data)["stream_seq"])
            stored = await self._js.get_msg(JOBS_STREAM, sequence)
            job = transcode_pb2.TranscodeJob.FromString(stored.data or b"")
            deliveries = int(json.loads(advisory.data).get("deliveries", 0))
        except (NotFoundError, KeyError, ValueError, DecodeError):
            return
        await dead_letter(
            self._js,
            self._states,
            job,
            deliveries,
            "MAX_DELIVERIES",
            "The task was delivered too many times without finishing (its worker kept dying).",
            "advisory",
        )
        with contextlib.suppress(APIError):
            await self._js.delete_msg(JOBS_STREAM, sequence)


async def dead_letter(
    js: JetStreamContext,
    states: VideoStates,
    job: transcode_pb2.TranscodeJob,
    deliveries: int,
    reason: str,
    text: str,
    worker: str,
) -> None:
    """Record a task that failed for good, then fail its video (each step safe to repeat)."""
    text = without_control_characters(text)  # ffmpeg output may carry escapes; gateway refuses
    letter = transcode_pb2.DeadLetter(
        job=job, reason=reason, message=text[-2000:], deliveries=deliveries, worker=worker
    )
    letter.time.GetCurrentTime()
    await js.publish(
        DLQ_SUBJECT,
        letter.SerializeToString(),
        headers={"Nats-Msg-Id": f"dlq:{job.task.task_id or job.job_id}"},
    )
    _log.error("task dead-lettered", extra={"task_id": job.task.task_id, "reason": reason})
    try:
        await until_acknowledged(
            lambda: states.failed(
                job.video_id, reason, text[-500:] or reason, job_id=job.job_id, delivery=deliveries
            ),
            what="reporting a dead letter",
        )
    except ServiceError as error:
        _log.warning("could not fail the video", extra={"reason": error.reason})
