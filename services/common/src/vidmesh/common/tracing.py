"""OpenTelemetry traces: one trace per upload, from Envoy through ingest, the queue, every
transcode task and its ffmpeg runs, to gateway.

Every service process installs the SDK's tracer provider, so spans get real ids and the W3C
`traceparent` travels in gRPC metadata, HTTP headers and NATS message headers even when nothing
is exported: the ids alone join log lines across services (`trace_id` in every JSON line written
inside a span). Spans leave the process only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; the OTLP/HTTP exporter then reads the standard
`OTEL_*` variables (headers, timeout, sampler) itself.

A task's span is the child of the span that published it, so a plan, its chunks and the
finalize nest under the upload that caused them, across processes and minutes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")

tracer = trace.get_tracer("vidmesh")
_installed: TracerProvider | None = None


def otlp_traces_url(environ: Mapping[str, str] | None = None) -> str | None:
    """Where spans are exported (the `/v1/traces` URL), or None when tracing export is off."""
    env = os.environ if environ is None else environ
    specific = env.get(ENDPOINT_VARIABLES[0], "").strip()
    if specific:
        return specific
    generic = env.get(ENDPOINT_VARIABLES[1], "").strip()
    return f"{generic.rstrip('/')}/v1/traces" if generic else None


def configure_tracing(service: str) -> Callable[[], None]:
    """Install the tracer provider for this process; returns the call that flushes it on exit.

    Without an OTLP endpoint spans are still made (for propagation and log correlation) but
    dropped when they end."""
    global _installed
    if _installed is None:
        provider = TracerProvider(resource=Resource.create({"service.name": f"vidmesh-{service}"}))
        if otlp_traces_url() is not None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        _installed = provider
    return _installed.shutdown


def log_fields() -> dict[str, str]:
    """`trace_id` and `span_id` of the current span, for a log line (empty outside spans)."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return {}
    return {
        "trace_id": trace.format_trace_id(span_context.trace_id),
        "span_id": trace.format_span_id(span_context.span_id),
    }


def inject(headers: dict[str, str]) -> dict[str, str]:
    """Add the current trace context (`traceparent`) to outgoing headers; returns them."""
    propagate.inject(headers)
    return headers


@contextlib.contextmanager
def server_span(
    name: str,
    carrier: Mapping[str, str] | None,
    *,
    kind: SpanKind = SpanKind.SERVER,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Span]:
    """A current span continuing the trace whose context `carrier` (headers, metadata) holds.

    Errors are not recorded automatically: the caller knows which outcomes are failures."""
    parent = propagate.extract(carrier) if carrier else otel_context.Context()
    with tracer.start_as_current_span(
        name,
        context=parent,
        kind=kind,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        yield span


@contextlib.contextmanager
def child_span(name: str, attributes: Mapping[str, Any] | None = None) -> Iterator[Span]:
    """A span inside the current one (an ffmpeg run, a probe); an exception marks it failed."""
    with tracer.start_as_current_span(name, attributes=attributes) as span:
        yield span


def mark_failed(description: str, span: Span | None = None) -> None:
    """Record that the operation behind `span` (by default the current one) failed, with a
    short reason."""
    (span or trace.get_current_span()).set_status(Status(StatusCode.ERROR, description))


# gRPC codes that mean the server failed (the rest are the caller's mistake or a normal end).
SERVER_FAULTS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def rpc_attributes(method: str) -> dict[str, str]:
    """Semantic-convention attributes of a gRPC call to `method` (`/pkg.Service/Method`)."""
    service, _, name = method.lstrip("/").partition("/")
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}


class TracingClientInterceptor(
    grpc.aio.UnaryUnaryClientInterceptor,
    grpc.aio.UnaryStreamClientInterceptor,
    grpc.aio.StreamUnaryClientInterceptor,
    grpc.aio.StreamStreamClientInterceptor,
):
    """Makes each outgoing call a client span and sends its context in the call's metadata."""

    async def _traced(
        self, continuation: Callable[[Any, Any], Any], details: Any, request: Any
    ) -> Any:
        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        span = tracer.start_span(
            method.lstrip("/"), kind=SpanKind.CLIENT, attributes=rpc_attributes(method)
        )
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=trace.set_span_in_context(span))
        metadata = grpc.aio.Metadata(*tuple(details.metadata or ()), *carrier.items())
        try:
            call = await continuation(details._replace(metadata=metadata), request)
        except BaseException:
            span.end()
            raise
        call.add_done_callback(lambda _call: span.end())
        return call

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await self._traced(continuation, details, request)

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await self._traced(continuation, details, request)

    async def intercept_stream_unary(
        self, continuation: Any, details: Any, request_iterator: Any
    ) -> Any:
        return await self._traced(continuation, details, request_iterator)

    async def intercept_stream_stream(
        self, continuation: Any, details: Any, request_iterator: Any
    ) -> Any:
        return await self._traced(continuation, details, request_iterator)
