"""The JetStream worker loop: fetch one job, heartbeat while it runs, settle it exactly once.

Outcomes: success → CompleteTranscode, then ack. A report refused as stale or illegal means the
job was superseded (or the video deleted) → ack and drop. A transient failure → nak with
exponential backoff, until the last attempt, which goes to the dead-letter queue like a
permanent failure: publish the DeadLetter (deduplicated), fail the video, then term the job.

Reports to gateway are retried until gateway has them (an outage is not the job's fault and must
not use up its attempts), with the job heartbeated meanwhile, and the job is settled only after
its report: a worker that dies in between has the job redelivered and reports again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable

from google.protobuf.message import DecodeError
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError

from vidmesh.common.errors import FailedPrecondition, NotFound, ServiceError
from vidmesh.common.jobs import (
    DLQ_SUBJECT,
    JOBS_CONSUMER,
    JOBS_STREAM,
    MAX_DELIVERIES_ADVISORY,
    progress_subject,
)
from vidmesh.common.outages import as_outage, until_acknowledged
from vidmesh.common.storage import BlobStore
from vidmesh.common.validation import without_control_characters
from vidmesh.common.video_states import VideoStates
from vidmesh.transcoder.encoder import FfmpegFailed, FfmpegStalled
from vidmesh.transcoder.jobs import PermanentFailure, transcode
from vidmesh.transcoder.settings import TranscoderSettings
from vidmesh.v1 import transcode_pb2, video_pb2

_log = logging.getLogger(__name__)


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
        self._store = store
        self._states = states
        self._settings = settings
        self.completed = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Process jobs one at a time until `stop` is set; the current job is nak'ed on stop."""
        subscription = await self._js.pull_subscribe_bind(durable=JOBS_CONSUMER, stream=JOBS_STREAM)
        backstop = await self.start_backstop()
        try:
            while not stop.is_set():
                try:
                    messages = await subscription.fetch(1, timeout=1)
                except (TimeoutError, NatsTimeoutError):
                    continue
                except Exception as error:
                    if as_outage(error) is None:
                        raise
                    # NATS is away; the client reconnects by itself (logged once there).
                    await asyncio.sleep(0.5)
                    continue
                for message in messages:
                    task = asyncio.create_task(self.handle(message))
                    stopping = asyncio.create_task(stop.wait())
                    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    stopping.cancel()
                    if not task.done():
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
                        await message.nak()
                        _log.info("job handed back on shutdown")
        finally:
            await backstop.unsubscribe()
            await subscription.unsubscribe()

    async def start_backstop(self) -> Subscription:
        """Listen for jobs the server gave up redelivering (one listener per queue group)."""
        return await self._nc.subscribe(
            MAX_DELIVERIES_ADVISORY, queue="vidmesh-backstop", cb=self._on_max_deliveries
        )

    async def handle(self, message: Msg) -> None:
        try:
            job = transcode_pb2.TranscodeJob.FromString(message.data)
        except DecodeError:
            _log.error("undecodable job dropped", extra={"subject": message.subject})
            await message.term()
            return
        heartbeat = asyncio.create_task(self._heartbeat(message))
        try:
            await self._handle(message, job)
        except Exception as error:
            outage = as_outage(error)
            if outage is None:
                raise
            # NATS went away while settling: the job is redelivered once it is back.
            _log.warning("job not settled", extra={"job_id": job.job_id, "reason": outage.reason})
        finally:
            heartbeat.cancel()

    async def _handle(self, message: Msg, job: transcode_pb2.TranscodeJob) -> None:
        delivery = message.metadata.num_delivered or 1
        context = {"job_id": job.job_id, "delivery": delivery}
        try:
            video = await until_acknowledged(
                lambda: self._states.processing(
                    job.video_id, job.job_id, delivery, self._settings.worker_name
                ),
                what="reporting a job started",
            )
            if video.state != video_pb2.Video.STATE_PROCESSING:
                # A repeat of a delivery whose outcome is already recorded: nothing to do.
                raise FailedPrecondition("ALREADY_SETTLED", "The job has already finished.")
        except (FailedPrecondition, NotFound) as refused:
            _log.info("job superseded; dropped", extra={**context, "reason": refused.reason})
            await message.ack()
            return
        try:
            ladder = await transcode(
                job,
                delivery,
                store=self._store,
                work_dir=self._settings.work_dir,
                preset=self._settings.preset,
                stall_seconds=self._settings.stall_seconds,
                on_progress=self._progress_reporter(job, delivery),
            )
        except PermanentFailure as failure:
            await self._bury(message, job, delivery, failure.reason, failure.message)
            return
        except FfmpegStalled as stalled:
            await self._retry_or_bury(message, job, delivery, "STALLED", str(stalled))
            return
        except FfmpegFailed as failed:
            await self._retry_or_bury(message, job, delivery, "FFMPEG_FAILED", failed.detail)
            return
        except (OSError, ServiceError) as error:
            await self._retry_or_bury(message, job, delivery, "TRANSIENT", str(error))
            return
        except Exception as error:
            # A bug must not leave the job unsettled until the ack deadline: count it as an
            # attempt, so it retries and ends in the dead-letter queue if it persists.
            _log.exception("job failed unexpectedly", extra=context)
            await self._retry_or_bury(message, job, delivery, "INTERNAL_ERROR", repr(error))
            return
        try:
            await until_acknowledged(
                lambda: self._states.completed(
                    job.video_id,
                    job.job_id,
                    delivery,
                    renditions=ladder.renditions,
                    media_prefix=ladder.media_prefix,
                    duration_seconds=ladder.duration,
                    poster_key=ladder.poster_key,
                ),
                what="reporting a job done",
            )
        except (FailedPrecondition, NotFound) as refused:
            _log.info("finished a superseded job", extra={**context, "reason": refused.reason})
        await message.ack()
        self.completed += 1
        _log.info("job done", extra={**context, "media_prefix": ladder.media_prefix})

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
                attempt=delivery,
                percent=percent,
                stage="encoding",
                worker=self._settings.worker_name,
            )
            event.time.GetCurrentTime()
            await self._nc.publish(progress_subject(job.video_id), event.SerializeToString())
            try:
                await self._states.progress(job.video_id, job.job_id, round(percent, 1))
            except ServiceError as error:
                _log.warning("progress not recorded", extra={"reason": error.reason})

        return report

    async def _retry_or_bury(
        self, message: Msg, job: transcode_pb2.TranscodeJob, delivery: int, reason: str, text: str
    ) -> None:
        if delivery >= self._settings.attempts:
            await self._bury(message, job, delivery, reason, text)
            return
        delay = min(self._settings.backoff_seconds * 2 ** (delivery - 1), 300.0)
        _log.warning(
            "job failed; will retry",
            extra={"job_id": job.job_id, "delivery": delivery, "reason": reason, "delay": delay},
        )
        await message.nak(delay=delay)

    async def _bury(
        self, message: Msg, job: transcode_pb2.TranscodeJob, delivery: int, reason: str, text: str
    ) -> None:
        await dead_letter(
            self._js, self._states, job, delivery, reason, text, self._settings.worker_name
        )
        await message.term()

    async def _on_max_deliveries(self, advisory: Msg) -> None:
        """Backstop: a job that kept killing its worker still ends in the dead-letter queue."""
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
            "The job was delivered too many times without finishing (its worker kept dying).",
            "advisory",
        )
        with contextlib.suppress(APIError):
            await self._js.delete_msg(JOBS_STREAM, sequence)


async def dead_letter(
    js: JetStreamContext,
    states: VideoStates,
    job: transcode_pb2.TranscodeJob,
    attempts: int,
    reason: str,
    text: str,
    worker: str,
) -> None:
    """Record a job that failed for good, then fail its video (each step safe to repeat)."""
    text = without_control_characters(text)  # ffmpeg output may carry escapes; gateway refuses
    letter = transcode_pb2.DeadLetter(
        job=job, reason=reason, message=text[-2000:], attempts=attempts, worker=worker
    )
    letter.time.GetCurrentTime()
    await js.publish(
        DLQ_SUBJECT, letter.SerializeToString(), headers={"Nats-Msg-Id": f"dlq:{job.job_id}"}
    )
    _log.error("job dead-lettered", extra={"job_id": job.job_id, "reason": reason})
    try:
        await until_acknowledged(
            lambda: states.failed(
                job.video_id, reason, text[-500:] or reason, job_id=job.job_id, attempt=attempts
            ),
            what="reporting a dead letter",
        )
    except ServiceError as error:
        _log.warning("could not fail the video", extra={"reason": error.reason})
