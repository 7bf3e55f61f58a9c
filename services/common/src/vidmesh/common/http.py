"""Plain-HTTP listeners (tus in ingest, HLS in playback, the web app) and their one middleware.

`edge_middleware` is the twin of the gRPC interceptor for aiohttp: it sets the request id and
the caller (from an `Authorization: Bearer` header) in the same contextvars, refuses paths and
headers holding control characters, turns `ServiceError`s into a JSON body
`{code, reason, message, metadata}` with the HTTP status Envoy would give the same gRPC code,
maps dependency outages to 503 with `Retry-After`, hides unexpected errors behind a generic 500,
writes one JSON access-log line per request and serves each request inside a server span that
continues the caller's (Envoy's) trace. The three doors so cannot drift apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from vidmesh.common.auth import caller_var, identify
from vidmesh.common.errors import INTERNAL_ERROR, InvalidArgument, ServiceError
from vidmesh.common.logs import request_id_var
from vidmesh.common.metrics import record_http
from vidmesh.common.outages import as_outage
from vidmesh.common.tokens import TokenCodec
from vidmesh.common.tracing import mark_failed, server_span
from vidmesh.common.validation import find_control_character

_log = logging.getLogger("vidmesh.http")
_PATH_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The mapping Envoy applies to gRPC codes, so REST and plain-HTTP doors agree.
HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
}


def error_response(
    error: ServiceError,
    statuses: Mapping[str, int] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """The JSON reply for `error`, with `statuses` overriding the HTTP status per gRPC code."""
    name = error.code.name
    status = (statuses or {}).get(name) or HTTP_STATUS.get(name, 400)
    body: dict[str, object] = {"code": name, "reason": error.reason, "message": error.message}
    if error.metadata:
        body["metadata"] = error.metadata
    reply_headers = dict(headers or {})
    if error.retry_after_seconds is not None:
        reply_headers["Retry-After"] = str(max(1, round(error.retry_after_seconds)))
    return web.json_response(body, status=status, headers=reply_headers)


def _check_request(request: web.Request) -> None:
    path = urllib.parse.unquote(request.raw_path.split("?", 1)[0], errors="replace")
    # Text fields may hold tabs and line breaks; a path may not (they split log lines and
    # headers a path is echoed into).
    if _PATH_CONTROL.search(path) or "\ufffd" in path:
        raise InvalidArgument("INVALID_PATH", "The path contains a control character.")
    # One scan of every value at once (a tab, allowed, joins them); the name only on a hit.
    if find_control_character("\t".join(request.headers.values())):
        name = next(k for k, v in request.headers.items() if find_control_character(v))
        raise InvalidArgument(
            "INVALID_HEADER", f"The '{name}' header contains a control character."
        )


def edge_middleware(
    codec: TokenCodec | None,
    listener: str,
    *,
    statuses: Mapping[str, int] | None = None,
    headers: Mapping[str, str] | None = None,
    success_level: int = logging.INFO,
) -> Any:
    """The shared middleware (an aiohttp middleware); `statuses` and `headers` let a protocol
    (tus) adjust its replies. Answers below 400 are logged at `success_level`: HLS lowers it to
    DEBUG, since Envoy's access log already has every segment request and one log line costs
    a fifth of serving a segment."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.resource
        template = route.canonical if route is not None else "unmatched"
        with server_span(
            f"{request.method} {template}",
            request.headers,
            attributes={"http.request.method": request.method, "http.route": template},
        ) as span:
            status = 499
            try:
                response = await served(request, handler)
                status = response.status
                return response
            except web.HTTPException as error:
                status = error.status
                raise
            finally:
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    mark_failed(str(status), span)

    async def served(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        request_id_var.set(request_id)
        if codec is not None:
            caller_var.set(identify(request.headers.get("Authorization"), codec))
        status, reason = 500, ""
        try:
            _check_request(request)
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        except Exception as error:
            outage = None if isinstance(error, ServiceError) else as_outage(error)
            if isinstance(error, ServiceError):
                known = error
            elif outage is not None:
                _log.warning(
                    "dependency unavailable",
                    extra={"reason": outage.reason, "error": type(error).__name__},
                )
                known = outage
            elif isinstance(error, ConnectionError):
                # The viewer closed the connection mid-reply: nothing to answer, nothing wrong.
                status, reason = 499, "CLIENT_CLOSED"
                raise
            else:
                _log.exception("unhandled error", extra={"path": request.path})
                known = INTERNAL_ERROR
            reply = error_response(known, statuses, headers)
            status, reason = reply.status, known.reason
            return reply
        finally:
            seconds = time.perf_counter() - started
            record_http(listener, request.method, status, seconds)
            level = success_level if status < 400 else logging.INFO
            if _log.isEnabledFor(level):
                _log.log(
                    level,
                    "http",
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": status,
                        "reason": reason or None,
                        "duration_ms": round(seconds * 1000, 2),
                    },
                )

    return middleware


@contextlib.asynccontextmanager
async def http_listener(
    app: web.Application, host: str, port: int, *, reuse_port: bool = False
) -> AsyncIterator[int]:
    """Serve `app` on `host:port` (0 picks a free port) and yield the bound port; with
    `reuse_port`, other processes may listen on the same port (SO_REUSEPORT)."""
    # Header lines up to Envoy's 16 KiB cap (tus metadata carries base64 titles/descriptions).
    runner = web.AppRunner(app, access_log=None, max_line_size=16384, max_field_size=16384)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        yield int(server.sockets[0].getsockname()[1])
    finally:
        await runner.cleanup()
