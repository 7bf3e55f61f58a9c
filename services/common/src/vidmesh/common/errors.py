"""The error model: domain exceptions that become `google.rpc.Status` with an `ErrorInfo`.

Domain code raises a `ServiceError` subclass with a machine reason (UPPER_SNAKE_CASE) and a short
human message; the server interceptor turns it into a rich gRPC status (AIP-193), which Envoy
renders as JSON with the right HTTP status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

DOMAIN = "vidmesh"


class ServiceError(Exception):
    """An expected failure that callers should see with its reason and message."""

    code: ClassVar[grpc.StatusCode] = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        metadata: Mapping[str, str] | None = None,
        field: str | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})
        self.field = field
        self.retry_after_seconds = retry_after_seconds


class InvalidArgument(ServiceError):
    """The request is malformed or violates a documented limit."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class Unauthenticated(ServiceError):
    """No valid credential was presented."""

    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(ServiceError):
    """The caller is known but may not do this."""

    code = grpc.StatusCode.PERMISSION_DENIED


class NotFound(ServiceError):
    """The resource does not exist, or the caller may not know that it does."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(ServiceError):
    """The resource to create exists already."""

    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(ServiceError):
    """The resource is not in a state that allows this."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class ResourceExhausted(ServiceError):
    """A quota, rate or size limit was hit."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Aborted(ServiceError):
    """A concurrent operation conflicts with this one; retry after it ends (HTTP 409)."""

    code = grpc.StatusCode.ABORTED


class Unavailable(ServiceError):
    """Try again later (a dependency is down or the server is draining)."""

    code = grpc.StatusCode.UNAVAILABLE


class Cancelled(ServiceError):
    """The caller went away before the call could complete."""

    code = grpc.StatusCode.CANCELLED


class Internal(ServiceError):
    """A bug or an unexpected failure; its message is always generic."""

    code = grpc.StatusCode.INTERNAL


INTERNAL_ERROR = Internal("INTERNAL", "Internal error; it has been logged.")


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def to_rpc_status(error: ServiceError) -> status_pb2.Status:
    """Build the `google.rpc.Status` for an error, with ErrorInfo and, when known, details."""
    details = [
        _pack(
            error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN, metadata=error.metadata)
        )
    ]
    if error.field is not None:
        violation = error_details_pb2.BadRequest.FieldViolation(
            field=error.field, description=error.message, reason=error.reason
        )
        details.append(_pack(error_details_pb2.BadRequest(field_violations=[violation])))
    if error.retry_after_seconds is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(error.retry_after_seconds * 1e9))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status_pb2.Status(
        code=getattr(code_pb2, error.code.name),
        message=error.message,
        details=details,
    )
