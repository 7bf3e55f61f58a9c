"""Dead letters: list, inspect, retry and purge tasks in `TRANSCODE_DLQ`; re-transcode videos.

Retrying a dead letter of the video's current generation re-runs only what is missing: the dead
task and the tasks dropped when the video failed (new `Nats-Msg-Id`s, `:r<n>`), since gateway
still holds every task of the generation that finished; a dead letter of an older generation
starts a new one.
"""

from __future__ import annotations

import builtins
import contextlib
import re
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError

from vidmesh.common.errors import FailedPrecondition, InvalidArgument, NotFound
from vidmesh.common.queue_topology import publish_job
from vidmesh.common.transcode_tasks import DLQ_STREAM, generation_of, plan_job, task_name, task_of
from vidmesh.common.video_states import VideoStates
from vidmesh.v1 import transcode_pb2, video_pb2

Task = transcode_pb2.TranscodeTask
DEFAULT_PAGE = 20
MAX_PAGE = 100
# RetryDeadLetters looks this deep by default, and at most MAX_BULK.
DEFAULT_BULK = 100
MAX_BULK = 1000


def _not_found() -> NotFound:
    return NotFound("DEAD_LETTER_NOT_FOUND", "No such dead letter.")


def _sequence(dead_letter_id: str) -> int:
    """A stream sequence number: ASCII digits within uint64 (NATS refuses anything else)."""
    if not re.fullmatch(r"[0-9]{1,20}", dead_letter_id) or not 0 < int(dead_letter_id) < 2**64:
        raise _not_found()
    return int(dead_letter_id)


def next_generation(video: video_pb2.Video) -> int:
    """One more than any job generation the video has seen (job ids are `<video>:<n>`)."""
    return max((generation_of(step.job_id) for step in video.transitions), default=0) + 1


def _current_job(video: video_pb2.Video) -> str:
    """The job (generation) the video's latest state change belongs to."""
    return next((step.job_id for step in reversed(video.transitions) if step.job_id), "")


def _replays(task_id: str) -> int:
    """How often a task was replayed already (its id ends in `:r<n>`)."""
    suffix = task_id.rsplit(":", 1)[-1]
    return int(suffix[1:]) if suffix[:1] == "r" and suffix[1:].isdigit() else 0


@dataclass(frozen=True, slots=True)
class Page:
    letters: list[transcode_pb2.DeadLetter]
    next_page_token: str


class DeadLetters:
    def __init__(self, js: JetStreamContext, states: VideoStates) -> None:
        self._js = js
        self._states = states

    async def get(self, dead_letter_id: str) -> transcode_pb2.DeadLetter:
        sequence = _sequence(dead_letter_id)
        try:
            stored = await self._js.get_msg(DLQ_STREAM, sequence)
            letter = transcode_pb2.DeadLetter.FromString(stored.data or b"")
        except (NotFoundError, DecodeError):
            raise _not_found() from None
        letter.dead_letter_id = str(sequence)
        return letter

    async def list(self, *, page_size: int, page_token: str, video_id: str, reason: str) -> Page:
        if page_size < 0:
            raise InvalidArgument("INVALID_PAGE_SIZE", "'page_size' must not be negative.")
        size = min(page_size or DEFAULT_PAGE, MAX_PAGE)
        info = await self._js.stream_info(DLQ_STREAM)
        if page_token and not re.fullmatch(r"[0-9]{1,20}", page_token):
            raise InvalidArgument("INVALID_PAGE_TOKEN", "'page_token' is not valid.")
        sequence = int(page_token) if page_token else info.state.last_seq
        letters: list[transcode_pb2.DeadLetter] = []
        while sequence >= max(info.state.first_seq, 1) and len(letters) < size:
            with contextlib.suppress(NotFound):
                letter = await self.get(str(sequence))
                if (not video_id or letter.job.video_id == video_id) and (
                    not reason or letter.reason == reason
                ):
                    letters.append(letter)
            sequence -= 1
        more = sequence >= max(info.state.first_seq, 1)
        return Page(letters=letters, next_page_token=str(sequence) if more else "")

    async def matching(
        self, *, video_id: str, reason: str, max_count: int
    ) -> builtins.list[transcode_pb2.DeadLetter]:
        """Dead letters matching the filter, newest first, looking at most `max_count` deep."""
        if not 0 <= max_count <= MAX_BULK:
            raise InvalidArgument(
                "INVALID_PAGE_SIZE", f"'max_count' must be between 0 and {MAX_BULK}."
            )
        wanted = max_count or DEFAULT_BULK
        found: builtins.list[transcode_pb2.DeadLetter] = []
        token = ""
        while len(found) < wanted:
            page = await self.list(
                page_size=min(wanted - len(found), MAX_PAGE),
                page_token=token,
                video_id=video_id,
                reason=reason,
            )
            found += page.letters
            token = page.next_page_token
            if not token:
                break
        return found

    async def remove(self, dead_letter_id: str) -> None:
        """Delete a dead letter that is gone already or covered by a retry (never an error)."""
        with contextlib.suppress(APIError, ValueError):
            await self._js.delete_msg(DLQ_STREAM, int(dead_letter_id))

    async def purge(self, dead_letter_id: str) -> None:
        letter = await self.get(dead_letter_id)
        try:
            await self._js.delete_msg(DLQ_STREAM, int(letter.dead_letter_id))
        except APIError:
            raise _not_found() from None

    async def retry(
        self, dead_letter_id: str, video: video_pb2.Video
    ) -> transcode_pb2.TranscodeJob:
        letter = await self.get(dead_letter_id)
        if _current_job(video) == letter.job.job_id:
            job = await self.resume(video, letter.job)
        else:
            job = await self.requeue(video, letter.job.source_key, letter.job.owner_id)
        with contextlib.suppress(APIError):
            await self._js.delete_msg(DLQ_STREAM, int(letter.dead_letter_id))
        return job

    async def resume(
        self, video: video_pb2.Video, task: transcode_pb2.TranscodeJob
    ) -> transcode_pb2.TranscodeJob:
        """Finish the video's failed generation: its dead task and whatever else was dropped
        when it failed run again (new `:r<n>` ids); what finished stays."""
        if video.state != video_pb2.Video.STATE_FAILED:
            raise FailedPrecondition(
                "ILLEGAL_TRANSITION", "Only a failed video can have a dead letter replayed."
            )
        replay = _replays(task.task.task_id) + 1
        missing, plan = await self._missing(task)
        await self._states.requeued(video.video_id, task.job_id, task.generation, resume=True)
        republished = [task_of(task, step, replay=replay) for step in missing]
        for message in republished:
            if plan is not None:
                message.plan.CopyFrom(plan)
            await publish_job(self._js, message)
        dead = next((m for m in republished if task_name(m.task) == task_name(task.task)), None)
        return dead or republished[0]

    async def _missing(
        self, task: transcode_pb2.TranscodeJob
    ) -> tuple[builtins.list[transcode_pb2.TranscodeTask], transcode_pb2.TranscodePlan | None]:
        """The tasks of the generation that have not finished (the plan if it never ran), and
        the plan they follow."""
        try:
            generation = await self._states.generation(task.video_id, task.job_id)
        except NotFound:
            return [Task(kind=Task.KIND_PLAN)], None
        done = {chunk.index for chunk in generation.chunks}
        missing = [
            Task(kind=Task.KIND_CHUNK, chunk_index=chunk.index)
            for chunk in generation.plan.chunks
            if chunk.index not in done
        ]
        if generation.plan.has_audio and not generation.audio_complete:
            missing.append(Task(kind=Task.KIND_AUDIO))
        return missing or [Task(kind=Task.KIND_FINALIZE)], generation.plan

    async def requeue(
        self, video: video_pb2.Video, source_key: str, owner_id: str
    ) -> transcode_pb2.TranscodeJob:
        """Queue the next generation of a video's job (from READY or FAILED only)."""
        if video.state not in (video_pb2.Video.STATE_READY, video_pb2.Video.STATE_FAILED):
            raise FailedPrecondition(
                "ILLEGAL_TRANSITION", "Only a ready or failed video can be transcoded again."
            )
        generation = next_generation(video)
        job = plan_job(video.video_id, generation, source_key=source_key, owner_id=owner_id)
        await self._states.requeued(video.video_id, job.job_id, generation)
        await publish_job(self._js, job)
        return job
