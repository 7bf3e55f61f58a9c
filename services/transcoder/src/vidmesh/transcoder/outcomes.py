"""What a failed task attempt means for its message: drop it, bury it, or retry it (and why).

One table instead of an `except` ladder in the worker, so the reasons a dead letter can carry
(documented on `DeadLetter.reason` in transcode.proto) are decided, and tested, in one place.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vidmesh.common.errors import FailedPrecondition, NotFound, ServiceError
from vidmesh.transcoder.encoder import FfmpegFailed, FfmpegStalled
from vidmesh.transcoder.tasks import NotYetDue, PermanentFailure


class Settle(enum.Enum):
    SUPERSEDED = "superseded"  # gateway moved on (a newer generation, a deleted video): ack
    BURY = "bury"  # retrying cannot help: straight to the dead-letter queue
    RETRY = "retry"  # another delivery may succeed; the last one is buried


@dataclass(frozen=True, slots=True)
class FailedAttempt:
    settle: Settle
    reason: str
    detail: str
    bug: bool = False  # unexpected: logged with its traceback


def failed_attempt(error: Exception) -> FailedAttempt:
    """How to settle a task whose attempt raised `error`."""
    if isinstance(error, PermanentFailure):
        return FailedAttempt(Settle.BURY, error.reason, error.message)
    if isinstance(error, FailedPrecondition | NotFound):
        return FailedAttempt(Settle.SUPERSEDED, error.reason, str(error))
    if isinstance(error, NotYetDue):
        return FailedAttempt(Settle.RETRY, "NOT_YET_DUE", str(error))
    if isinstance(error, FfmpegStalled):
        return FailedAttempt(Settle.RETRY, "STALLED", str(error))
    if isinstance(error, FfmpegFailed):
        return FailedAttempt(Settle.RETRY, "FFMPEG_FAILED", error.detail)
    if isinstance(error, OSError | ServiceError):
        return FailedAttempt(Settle.RETRY, "TRANSIENT", str(error))
    # A bug must not leave the task unsettled until the ack deadline: count it as a delivery,
    # so it retries and ends in the dead-letter queue if it persists.
    return FailedAttempt(Settle.RETRY, "INTERNAL_ERROR", repr(error), bug=True)
