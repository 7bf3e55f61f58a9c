"""Client side of service-to-service calls: channels and the service credential."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from vidmesh.common.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    ServiceError,
    Unauthenticated,
    Unavailable,
)
from vidmesh.common.tokens import IssuedToken, TokenCodec
from vidmesh.common.tracing import TracingClientInterceptor

Metadata = tuple[tuple[str, str], ...]


def connect(address: str) -> grpc.aio.Channel:
    """An insecure loopback channel with keepalives (services run side by side) whose calls
    carry the caller's trace context."""
    return grpc.aio.insecure_channel(
        address,
        interceptors=[TracingClientInterceptor()],
        options=[
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.max_receive_message_length", 8 * 1024 * 1024),
        ],
    )


class ServiceCredential:
    """A service token for internal RPCs, re-issued before it expires."""

    def __init__(self, codec: TokenCodec, service: str) -> None:
        self._codec = codec
        self._service = service
        self._token: IssuedToken | None = None

    def metadata(self) -> Metadata:
        now = datetime.now(UTC)
        if self._token is None or self._token.expire_time - now < timedelta(minutes=5):
            self._token = self._codec.issue_service(self._service, now=now)
        return (("authorization", f"Bearer {self._token.token}"),)


_ERRORS_BY_CODE: dict[grpc.StatusCode, type[ServiceError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.ABORTED: Aborted,
    grpc.StatusCode.DEADLINE_EXCEEDED: Unavailable,
}


def error_reason(error: grpc.aio.AioRpcError) -> tuple[str, dict[str, str]]:
    """The ErrorInfo reason and metadata of a failed call ("" when it has none)."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                return info.reason, dict(info.metadata)
    return "", {}


def as_service_error(error: grpc.aio.AioRpcError) -> ServiceError:
    """Pass another service's expected error on to our caller with its code and reason.

    Unexpected codes become UNAVAILABLE: a dependency failed, and the caller may retry.
    """
    reason, metadata = error_reason(error)
    kind = _ERRORS_BY_CODE.get(error.code())
    if kind is None or not reason:
        return Unavailable("DEPENDENCY_FAILED", "A service this call needs failed; try again.")
    return kind(reason, error.details() or reason, metadata=metadata)


@contextlib.contextmanager
def remote_errors() -> Iterator[None]:
    """Translate failed calls made inside the block with `as_service_error`."""
    try:
        yield
    except grpc.aio.AioRpcError as error:
        raise as_service_error(error) from None
