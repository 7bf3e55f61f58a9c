"""An OTLP/HTTP trace receiver on a free loopback port: what a collector would be to the stack.

It decodes each `ExportTraceServiceRequest` (as the SDK exporter and Envoy send them) into flat
`ReceivedSpan`s, so tests can ask what one trace looks like across processes.
"""

from __future__ import annotations

import contextlib
import gzip
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from vidmesh.common.http import http_listener


@dataclass(frozen=True, slots=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, str]
    failed: bool


class OtlpReceiver:
    """Collects spans; `url` is what `OTEL_EXPORTER_OTLP_ENDPOINT` should be set to."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.url = ""

    async def _export(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        export = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            service = next(
                (
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                ),
                "",
            )
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    self.spans.append(
                        ReceivedSpan(
                            service=service,
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            attributes={
                                a.key: a.value.string_value or str(a.value.int_value)
                                for a in span.attributes
                            },
                            failed=span.status.code == span.status.STATUS_CODE_ERROR,
                        )
                    )
        reply = trace_service_pb2.ExportTraceServiceResponse()
        return web.Response(body=reply.SerializeToString(), content_type="application/x-protobuf")

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [span for span in self.spans if span.trace_id == trace_id]


@contextlib.asynccontextmanager
async def running_receiver() -> AsyncIterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/traces", receiver._export)
    async with http_listener(app, "127.0.0.1", 0) as port:
        receiver.url = f"http://127.0.0.1:{port}"
        yield receiver
