"""Which failed upload calls the CLI resumes instead of giving up."""

from __future__ import annotations

import grpc
import pytest

from vidmesh.cli.upload import retryable

Code = grpc.StatusCode


def failure(code: Code, debug: str = "") -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), "", debug)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (failure(Code.UNAVAILABLE), True),
        (failure(Code.DEADLINE_EXCEEDED), True),
        (failure(Code.INTERNAL, 'Failed "execute_batch": (SendMessageOperation,)'), True),
        (failure(Code.INTERNAL, "something else broke"), False),
        (failure(Code.INVALID_ARGUMENT), False),
        (failure(Code.RESOURCE_EXHAUSTED), False),
    ],
)
def test_drops_and_masked_statuses_are_resumed(error: grpc.aio.AioRpcError, expected: bool) -> None:
    assert retryable(error) is expected
