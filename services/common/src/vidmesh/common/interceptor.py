"""One server interceptor for every service: request id, authentication, errors, access log.

grpc.aio interceptors see only the handler, so this one wraps each handler's behaviour (unary
and streaming alike) and runs it inside the request's context: the request id and the caller are
set in contextvars first, `ServiceError`s become rich statuses, and anything unexpected becomes
INTERNAL with a generic message (Envoy would otherwise copy the Python text into the HTTP body).
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc_status import rpc_status

from vidmesh.common.auth import ANONYMOUS, CallerIdentity, caller_var
from vidmesh.common.errors import INTERNAL_ERROR, ServiceError, Unauthenticated, to_rpc_status
from vidmesh.common.logs import request_id_var
from vidmesh.common.tokens import TokenCodec

_log = logging.getLogger("vidmesh.rpc")
_QUIET_PREFIXES = ("/grpc.health.", "/grpc.reflection.")

Context = grpc.aio.ServicerContext[Any, Any]


def _metadata(context: Context) -> dict[str, str]:
    pairs = context.invocation_metadata() or ()
    return {key: value for key, value in pairs if isinstance(value, str)}


def _identify(metadata: dict[str, str], codec: TokenCodec) -> CallerIdentity:
    header = metadata.get("authorization")
    if header is None:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        error = Unauthenticated(
            "INVALID_TOKEN", "Send the token as 'authorization: Bearer <token>'."
        )
        return CallerIdentity(error=error)
    try:
        return CallerIdentity(principal=codec.verify(token.strip()))
    except Unauthenticated as error:
        return CallerIdentity(error=error)


class _Call:
    """Per-call bookkeeping: context variables, the outcome and the access-log line."""

    def __init__(self, method: str, context: Context, codec: TokenCodec) -> None:
        self.method = method
        self.context = context
        metadata = _metadata(context)
        self.request_id = metadata.get("x-request-id") or uuid.uuid4().hex
        self.identity = _identify(metadata, codec)
        self.started = time.perf_counter()
        self.code = grpc.StatusCode.OK
        self.reason = ""

    @contextlib.asynccontextmanager
    async def guarded(self) -> AsyncIterator[None]:
        """Run a handler with this call's context; map its errors; log the outcome."""
        request_id_var.set(self.request_id)
        caller_var.set(self.identity)
        try:
            yield
        except Exception as error:
            if isinstance(error, grpc.aio.AbortError):
                raise
            await self.fail(error)
        finally:
            self.finish()

    async def fail(self, error: BaseException) -> None:
        """Abort the call with the status that the error deserves."""
        if isinstance(error, ServiceError):
            service_error = error
        else:
            _log.exception("unhandled error in %s", self.method, exc_info=error)
            service_error = INTERNAL_ERROR
        self.code = service_error.code
        self.reason = service_error.reason
        await self.context.abort_with_status(rpc_status.to_status(to_rpc_status(service_error)))

    def finish(self) -> None:
        if self.code is grpc.StatusCode.OK:
            code = self.context.code()
            self.code = code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.OK
        if self.method.startswith(_QUIET_PREFIXES) and self.code is grpc.StatusCode.OK:
            return
        principal = self.identity.principal
        _log.info(
            "rpc",
            extra={
                "method": self.method,
                "code": self.code.name,
                "reason": self.reason or None,
                "duration_ms": round((time.perf_counter() - self.started) * 1000, 2),
                "principal": principal.subject if principal else None,
            },
        )


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    """Wraps every handler with the shared request context and error mapping."""

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
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }

        if handler.unary_unary or handler.stream_unary:
            behaviour: Any = handler.unary_unary or handler.stream_unary

            async def single_response(request: Any, context: Context) -> Any:
                async with _Call(method, context, codec).guarded():
                    return await behaviour(request, context)

            if handler.unary_unary:
                return grpc.unary_unary_rpc_method_handler(single_response, **serializers)
            return grpc.stream_unary_rpc_method_handler(single_response, **serializers)

        streaming: Any = handler.unary_stream or handler.stream_stream

        async def streamed_response(request: Any, context: Context) -> AsyncIterator[Any]:
            async with _Call(method, context, codec).guarded():
                async for response in streaming(request, context):
                    yield response

        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(streamed_response, **serializers)
        return grpc.stream_stream_rpc_method_handler(streamed_response, **serializers)
