"""Prometheus metrics every service shares, and the `/metrics` app that exposes them.

Names follow Prometheus conventions (base units, `_total` counters, `_seconds` histograms) and
labels stay low-cardinality: methods, codes, listeners and reasons, never ids. gRPC metrics use
the names of go-grpc-prometheus, so existing dashboards work. Each service also defines its own
(uploads in ingest, tasks in the transcoder, times to playable in gateway, bytes in playback)
with the same registry; docs/operations.md lists them all.
"""

from __future__ import annotations

import grpc
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    generate_latest,
)

# From a millisecond to the longest RPCs (upload streams, WatchVideo): seconds.
LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

GRPC_HANDLED = Counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, by status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
GRPC_HANDLING = Histogram(
    "grpc_server_handling_seconds",
    "Time from the start of an RPC to its end on the server (streams included).",
    ["grpc_service", "grpc_method"],
    buckets=LATENCY_BUCKETS,
)
HTTP_REQUESTS = Counter(
    "vidmesh_http_requests_total",
    "Requests answered by the plain-HTTP listeners (hls, tus, web), by status code.",
    ["listener", "method", "code"],
)
HTTP_DURATION = Histogram(
    "vidmesh_http_request_duration_seconds",
    "Time to answer a request of a plain-HTTP listener (until the last byte was handed over).",
    ["listener"],
    buckets=LATENCY_BUCKETS,
)


def record_rpc(method: str, code: grpc.StatusCode, seconds: float) -> None:
    """Count one finished RPC (`/package.Service/Method`)."""
    _, service, name = method.split("/", 2) if method.count("/") >= 2 else ("", "unknown", method)
    GRPC_HANDLED.labels(service, name, code.name).inc()
    GRPC_HANDLING.labels(service, name).observe(seconds)


def record_http(listener: str, method: str, status: int, seconds: float) -> None:
    """Count one answered HTTP request."""
    HTTP_REQUESTS.labels(listener, method, str(status)).inc()
    HTTP_DURATION.labels(listener).observe(seconds)


async def _metrics(request: web.Request) -> web.Response:
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def metrics_app() -> web.Application:
    """`GET /metrics`, served on a listener of its own (`serve()` starts it): scraping never
    competes with user traffic, Envoy never routes it, and several processes of one service
    (`--playback N`) each expose their own numbers."""
    app = web.Application()
    app.router.add_get("/metrics", _metrics)
    return app
