"""The state machine table, exhaustively."""

from __future__ import annotations

import itertools

import pytest

from vidmesh.common.errors import FailedPrecondition
from vidmesh.gateway.lifecycle import check_transition
from vidmesh.gateway.models import VideoState as S

LEGAL = {
    (S.UPLOADING, S.QUEUED),
    (S.UPLOADING, S.FAILED),
    (S.QUEUED, S.PROCESSING),
    (S.QUEUED, S.FAILED),
    (S.PROCESSING, S.PROCESSING),
    (S.PROCESSING, S.READY),
    (S.PROCESSING, S.FAILED),
}
REQUEUE_ONLY = {(S.READY, S.QUEUED), (S.FAILED, S.QUEUED)}
REUPLOAD_ONLY = {(S.FAILED, S.UPLOADING)}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_every_pair(current: S, target: S) -> None:
    if (current, target) in LEGAL:
        check_transition(current, target)
        check_transition(current, target, requeue=True)
        return
    with pytest.raises(FailedPrecondition) as caught:
        check_transition(current, target)
    assert caught.value.reason == "ILLEGAL_TRANSITION"
    if (current, target) in REQUEUE_ONLY:
        check_transition(current, target, requeue=True)
    else:
        with pytest.raises(FailedPrecondition):
            check_transition(current, target, requeue=True)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_reupload_opens_only_failed_to_uploading(current: S, target: S) -> None:
    if (current, target) in LEGAL | REUPLOAD_ONLY:
        check_transition(current, target, reupload=True)
        return
    with pytest.raises(FailedPrecondition):
        check_transition(current, target, reupload=True)
