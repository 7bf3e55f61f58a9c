"""The plain-HTTP middleware: errors, outages and bad input become JSON answers with the status
Envoy gives the same gRPC code; callers and request ids reach the handler."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from sqlalchemy.exc import OperationalError

from vidmesh.common.auth import caller_var
from vidmesh.common.errors import FailedPrecondition, NotFound
from vidmesh.common.http import edge_middleware
from vidmesh.common.logs import request_id_var
from vidmesh.common.tokens import Principal, Role, TokenCodec

TUS = {"FAILED_PRECONDITION": 409}


async def call(
    handler: Any,
    *,
    path: str = "/v1/things",
    headers: dict[str, str] | None = None,
    codec: TokenCodec | None = None,
) -> web.StreamResponse:
    middleware = edge_middleware(codec, "test", statuses=TUS, headers={"Tus-Resumable": "1.0.0"})
    request = make_mocked_request("GET", path, headers=headers or {})
    response: web.StreamResponse = await middleware(request, handler)
    return response


def body(response: web.StreamResponse) -> dict[str, Any]:
    assert isinstance(response, web.Response)
    assert response.text is not None
    parsed: dict[str, Any] = json.loads(response.text)
    return parsed


async def test_a_service_error_is_json_with_the_status_envoy_would_give() -> None:
    async def handler(request: web.Request) -> web.Response:
        raise NotFound("VIDEO_NOT_FOUND", "No such video.", metadata={"video_id": "v"})

    response = await call(handler)
    assert response.status == 404
    assert body(response) == {
        "code": "NOT_FOUND",
        "reason": "VIDEO_NOT_FOUND",
        "message": "No such video.",
        "metadata": {"video_id": "v"},
    }
    assert response.headers["Tus-Resumable"] == "1.0.0", "the protocol's headers on errors too"


async def test_a_protocol_can_choose_its_own_status_for_a_code() -> None:
    async def handler(request: web.Request) -> web.Response:
        raise FailedPrecondition("OFFSET_MISMATCH", "The upload continues at byte 5.")

    assert (await call(handler)).status == 409


async def test_a_database_outage_is_503_with_retry_after() -> None:
    async def handler(request: web.Request) -> web.Response:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    response = await call(handler)
    assert response.status == 503
    assert response.headers["Retry-After"] == "2"
    assert body(response)["reason"] == "DATABASE_UNAVAILABLE"


async def test_a_bug_is_a_generic_500_that_leaks_nothing(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(request: web.Request) -> web.Response:
        raise ValueError("secret internals")

    response = await call(handler)
    assert response.status == 500
    assert "secret internals" not in json.dumps(body(response))
    assert body(response)["reason"] == "INTERNAL"
    assert any(r.exc_info for r in caplog.records), "the traceback goes to the log"


@pytest.mark.parametrize(
    ("path", "headers", "reason"),
    [
        ("/v1/a%00b", {}, "INVALID_PATH"),
        ("/v1/a%0Db", {}, "INVALID_PATH"),
        ("/v1/a%0Ab", {}, "INVALID_PATH"),
        ("/v1/ok", {"X-Title": "a\x01b"}, "INVALID_HEADER"),
    ],
)
async def test_control_characters_are_refused_before_the_handler(
    path: str, headers: dict[str, str], reason: str
) -> None:
    reached = []

    async def handler(request: web.Request) -> web.Response:
        reached.append(request)
        return web.Response()

    response = await call(handler, path=path, headers=headers)
    assert (response.status, body(response)["reason"]) == (400, reason)
    assert not reached


async def test_the_handler_sees_the_request_id_and_the_caller(token_codec: TokenCodec) -> None:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        seen["request_id"] = request_id_var.get()
        seen["caller"] = caller_var.get()
        return web.Response(text="ok")

    token = token_codec.issue_access("user-1", Role.USER).token
    headers = {"x-request-id": "req-7", "Authorization": f"Bearer {token}"}
    response = await call(handler, headers=headers, codec=token_codec)
    assert response.status == 200
    assert seen["request_id"] == "req-7"
    assert seen["caller"].principal == Principal("user-1", Role.USER)
