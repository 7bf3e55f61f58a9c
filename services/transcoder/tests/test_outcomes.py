"""How a failed task attempt is settled, and which reason its retry or dead letter carries."""

from __future__ import annotations

import pytest

from vidmesh.common.errors import FailedPrecondition, NotFound, Unavailable
from vidmesh.transcoder.encoder import FfmpegFailed, FfmpegStalled
from vidmesh.transcoder.outcomes import Settle, failed_attempt
from vidmesh.transcoder.tasks import NotYetDue, PermanentFailure


@pytest.mark.parametrize(
    ("error", "settle", "reason"),
    [
        (PermanentFailure("SOURCE_UNREADABLE", "gone"), Settle.BURY, "SOURCE_UNREADABLE"),
        (FailedPrecondition("ALREADY_SETTLED", "done"), Settle.SUPERSEDED, "ALREADY_SETTLED"),
        (NotFound("VIDEO_NOT_FOUND", "deleted"), Settle.SUPERSEDED, "VIDEO_NOT_FOUND"),
        (NotYetDue("plan not recorded"), Settle.RETRY, "NOT_YET_DUE"),
        (FfmpegStalled("no progress for 60s"), Settle.RETRY, "STALLED"),
        (FfmpegFailed("Invalid data found"), Settle.RETRY, "FFMPEG_FAILED"),
        (OSError("disk full"), Settle.RETRY, "TRANSIENT"),
        (Unavailable("DATABASE_UNAVAILABLE", "away"), Settle.RETRY, "TRANSIENT"),
        (KeyError("bug"), Settle.RETRY, "INTERNAL_ERROR"),
    ],
)
def test_each_failure_is_settled_with_its_reason(
    error: Exception, settle: Settle, reason: str
) -> None:
    failed = failed_attempt(error)
    assert (failed.settle, failed.reason) == (settle, reason)
    assert failed.bug == (reason == "INTERNAL_ERROR"), "only the unexpected is a bug"


def test_ffmpeg_failures_carry_its_last_words() -> None:
    assert failed_attempt(FfmpegFailed("moov atom not found")).detail == "moov atom not found"
