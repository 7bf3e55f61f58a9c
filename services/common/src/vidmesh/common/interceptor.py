"""One server interceptor for every service: request id, authentication, errors, access log,
metrics and the call's server span (continuing the caller's trace from its `traceparent`).

grpc.aio interceptors see only the handler, so this one wraps each handler's behaviour (unary
and streaming alike) and runs it inside the request's context: the request id and the caller are
set in contextvars first, `ServiceError`s become rich statuses, and anything unexpected becomes
INTERNAL with a generic message (Envoy would otherwise copy the Python text into the HTTP body).

It is also the gRPC door's input guard: a request that does not decode (invalid UTF-8, which
grpcio would turn into an INTERNAL carrying the protobuf error text) or whose text holds control
characters (PostgreSQL refuses NUL) is INVALID_ARGUMENT before any handler runs, and a lost
database or queue connection is UNAVAILABLE with a retry hint instead of a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message
from grpc_status import rpc_status

from vidmesh.common.auth import caller_var, identify
from vidmesh.common.errors import (
    INTERNAL_ERROR,
    InvalidArgument,
    ServiceError,
    to_rpc_status,
)
from vidmesh.common.logs import request_id_var
from vidmesh.common.metrics import record_rpc
from vidmesh.common.outages import as_outage
from vidmesh.common.tokens import TokenCodec
from vidmesh.common.tracing import SERVER_FAULTS, mark_failed, rpc_attributes, server_span
from vidmesh.common.validation import find_control_character

_log = logging.getLogger("vidmesh.rpc")
_QUIET_PREFIXES = ("/grpc.health.", "/grpc.reflection.")

Context = grpc.aio.ServicerContext[Any, Any]


def _metadata(context: Context) -> dict[str, str]:
    pairs = context.invocation_metadata() or ()
    return {key: value for key, value in pairs if isinstance(value, str)}


class _Malformed:
    """Stands in for a request that did not decode, so the handler wrapper can refuse it."""


MALFORMED = _Malformed()


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except DecodeError:
            return MALFORMED

    return deserialize


def _text_problem(message: Message, prefix: str = "") -> str | None:
    """The path of the first string field holding a control character, if any."""
    for descriptor, value in message.ListFields():
        name = f"{prefix}{descriptor.name}"
        repeated = descriptor.is_repeated
        if descriptor.type == descriptor.TYPE_STRING:
            if any(find_control_character(text) for text in (value if repeated else [value])):
                return name
        elif descriptor.type == descriptor.TYPE_MESSAGE:
            entry = descriptor.message_type
            if entry is not None and entry.GetOptions().map_entry:
                texts = [str(k) + (v if isinstance(v, str) else "") for k, v in value.items()]
                if any(find_control_character(text) for text in texts):
                    return name
                continue
            for child in value if repeated else [value]:
                found = _text_problem(child, f"{name}.")
                if found:
                    return found
    return None


def check_request(request: Any) -> Any:
    """Refuse a request that did not decode or carries control characters in its text."""
    if request is MALFORMED:
        raise InvalidArgument(
            "MALFORMED_REQUEST", "The request could not be decoded (text must be valid UTF-8)."
        )
    if isinstance(request, Message):
        field = _text_problem(request)
        if field is not None:
            raise InvalidArgument(
                "INVALID_CHARACTERS",
                f"'{field}' contains a control character (such as NUL); remove it.",
                field=field,
            )
    return request


async def _checked_stream(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        yield check_request(request)


class _Call:
    """Per-call bookkeeping: context variables, the outcome and the access-log line."""

    def __init__(self, method: str, context: Context, codec: TokenCodec) -> None:
        self.method = method
        self.context = context
        self.metadata = metadata = _metadata(context)
        self.request_id = metadata.get("x-request-id") or uuid.uuid4().hex
        self.identity = identify(metadata.get("authorization"), codec)
        self.started = time.perf_counter()
        self.code = grpc.StatusCode.OK
        self.reason = ""

    @contextlib.asynccontextmanager
    async def guarded(self) -> AsyncIterator[None]:
        """Run a handler with this call's context; map its errors; log the outcome."""
        request_id_var.set(self.request_id)
        caller_var.set(self.identity)
        with contextlib.ExitStack() as scope:
            # Health checks and reflection (probes every few seconds) would drown the traces.
            if not self.method.startswith(_QUIET_PREFIXES):
                span = scope.enter_context(
                    server_span(
                        self.method.lstrip("/"),
                        self.metadata,
                        attributes=rpc_attributes(self.method),
                    )
                )
                scope.callback(self._settle_span, span)
            try:
                yield
            except Exception as error:
                if isinstance(error, grpc.aio.AbortError):
                    raise
                await self.fail(error)
            finally:
                self.finish()

    def _settle_span(self, span: Any) -> None:
        span.set_attribute("rpc.grpc.status_code", self.code.value[0])
        if self.reason:
            span.set_attribute("error.type", self.reason)
        if self.code in SERVER_FAULTS:
            mark_failed(self.reason or self.code.name, span)

    async def fail(self, error: BaseException) -> None:
        """Abort the call with the status that the error deserves."""
        outage = None if isinstance(error, ServiceError) else as_outage(error)
        if isinstance(error, ServiceError):
            service_error = error
        elif outage is not None:
            _log.warning(
                "dependency unavailable in %s",
                self.method,
                extra={"reason": outage.reason, "error": type(error).__name__},
            )
            service_error = outage
        else:
            _log.exception("unhandled error in %s", self.method, exc_info=error)
            service_error = INTERNAL_ERROR
        self.code = service_error.code
        self.reason = service_error.reason
        status = rpc_status.to_status(to_rpc_status(service_error))
        if service_error.retry_after_seconds is not None:
            # Envoy passes the trailers of a trailers-only reply on as HTTP headers.
            seconds = str(max(1, round(service_error.retry_after_seconds)))
            status = status._replace(  # type: ignore[attr-defined]
                trailing_metadata=(*status.trailing_metadata, ("retry-after", seconds))
            )
        await self.context.abort_with_status(status)

    def finish(self) -> None:
        if self.code is grpc.StatusCode.OK:
            code = self.context.code()
            self.code = code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.OK
        seconds = time.perf_counter() - self.started
        record_rpc(self.method, self.code, seconds)
        if self.method.startswith(_QUIET_PREFIXES) and self.code is grpc.StatusCode.OK:
            return
        principal = self.identity.principal
        _log.info(
            "rpc",
            extra={
                "method": self.method,
                "code": self.code.name,
                "reason": self.reason or None,
                "duration_ms": round(seconds * 1000, 2),
                "principal": principal.subject if principal else None,
            },
        )


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    """Wraps every handler with the shared request context, input guard and error mapping."""

    def __init__(self, codec: TokenCodec) -> None:
        self._codec = codec

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        codec = self._codec
        serializers: dict[str, Any] = {
            "request_deserializer": _tolerant(handler.request_deserializer),
            "response_serializer": handler.response_serializer,
        }

        if handler.unary_unary:
            unary: Any = handler.unary_unary

            async def single_response(request: Any, context: Context) -> Any:
                async with _Call(method, context, codec).guarded():
                    return await unary(check_request(request), context)

            return grpc.unary_unary_rpc_method_handler(single_response, **serializers)

        if handler.stream_unary:
            collecting: Any = handler.stream_unary

            async def streamed_request(requests: Any, context: Context) -> Any:
                async with _Call(method, context, codec).guarded():
                    return await collecting(_checked_stream(requests), context)

            return grpc.stream_unary_rpc_method_handler(streamed_request, **serializers)

        streaming: Any = handler.unary_stream or handler.stream_stream
        single_request = handler.unary_stream is not None

        async def streamed_response(request: Any, context: Context) -> AsyncIterator[Any]:
            async with _Call(method, context, codec).guarded():
                checked = check_request(request) if single_request else _checked_stream(request)
                async for response in streaming(checked, context):
                    yield response

        if single_request:
            return grpc.unary_stream_rpc_method_handler(streamed_response, **serializers)
        return grpc.stream_stream_rpc_method_handler(streamed_response, **serializers)
