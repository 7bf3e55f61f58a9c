"""The shared interceptor on a real grpc.aio server: error mapping, request ids, callers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from vidmesh.common.auth import optional_principal, require_admin
from vidmesh.common.errors import NotFound, ResourceExhausted
from vidmesh.common.logs import request_id_var
from vidmesh.common.server import RunningServer, ServiceBinding, create_server
from vidmesh.common.tokens import Role, TokenCodec

SERVICE = "vidmesh.test.Probe"
CODEC = TokenCodec("k" * 40, issuer="test", access_ttl=timedelta(minutes=5))


async def crash(request: bytes, context: Any) -> bytes:
    raise RuntimeError("secret detail: /etc/passwd and SELECT * FROM users")


async def missing(request: bytes, context: Any) -> bytes:
    raise NotFound("THING_NOT_FOUND", "No such thing.", metadata={"id": "7"})


async def limited(request: bytes, context: Any) -> bytes:
    raise ResourceExhausted("RATE_LIMITED", "Slow down.", retry_after_seconds=2.5)


async def whoami(request: bytes, context: Any) -> bytes:
    principal = optional_principal()
    return f"{principal.subject if principal else '-'} {request_id_var.get()}".encode()


async def admin_only(request: bytes, context: Any) -> bytes:
    return require_admin().subject.encode()


async def stream_then_fail(request: bytes, context: Any) -> AsyncIterator[bytes]:
    yield b"one"
    raise NotFound("GONE", "It went away.")


def _register(server: grpc.aio.Server) -> None:
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {
        "Crash": grpc.unary_unary_rpc_method_handler(crash),
        "Missing": grpc.unary_unary_rpc_method_handler(missing),
        "Limited": grpc.unary_unary_rpc_method_handler(limited),
        "WhoAmI": grpc.unary_unary_rpc_method_handler(whoami),
        "AdminOnly": grpc.unary_unary_rpc_method_handler(admin_only),
        "Stream": grpc.unary_stream_rpc_method_handler(stream_then_fail),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


@pytest.fixture
async def server() -> AsyncIterator[RunningServer]:
    running = await create_server([ServiceBinding(SERVICE, _register)], codec=CODEC)
    yield running
    await running.stop(0)


@pytest.fixture
async def channel(server: RunningServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as chan:
        yield chan


def info(error: grpc.aio.AioRpcError) -> dict[str, Any]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    found: dict[str, Any] = {}
    for detail in status.details:
        for kind in (error_details_pb2.ErrorInfo, error_details_pb2.RetryInfo):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                found[kind.__name__] = message
    return found


async def call(channel: grpc.aio.Channel, method: str, **kwargs: Any) -> bytes:
    stub: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
        f"/{SERVICE}/{method}"
    )
    return bytes(await stub(b"", **kwargs))


async def test_unexpected_exceptions_become_generic_internal(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "Crash")
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in (caught.value.details() or "")
    assert info(caught.value)["ErrorInfo"].reason == "INTERNAL"


async def test_service_errors_carry_reason_domain_and_metadata(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "Missing")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    error_info = info(caught.value)["ErrorInfo"]
    assert (error_info.reason, error_info.domain, dict(error_info.metadata)) == (
        "THING_NOT_FOUND",
        "vidmesh",
        {"id": "7"},
    )


async def test_retry_info_is_attached(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "Limited")
    assert info(caught.value)["RetryInfo"].retry_delay.ToTimedelta() == timedelta(seconds=2.5)


async def test_request_id_and_principal_reach_the_handler(channel: grpc.aio.Channel) -> None:
    token = CODEC.issue_access("user-9", Role.USER).token
    reply = await call(
        channel,
        "WhoAmI",
        metadata=(("authorization", f"Bearer {token}"), ("x-request-id", "req-42")),
    )
    assert reply == b"user-9 req-42"
    anonymous = (await call(channel, "WhoAmI")).decode().split()
    assert anonymous[0] == "-"
    assert len(anonymous[1]) == 32, "a request id is made up when none is sent"


async def test_roles_are_enforced(channel: grpc.aio.Channel) -> None:
    user = CODEC.issue_access("u", Role.USER).token
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(channel, "AdminOnly", metadata=(("authorization", f"Bearer {user}"),))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    admin = CODEC.issue_access("boss", Role.ADMIN).token
    assert (
        await call(channel, "AdminOnly", metadata=(("authorization", f"Bearer {admin}"),))
        == b"boss"
    )


async def test_streaming_handlers_map_errors_too(channel: grpc.aio.Channel) -> None:
    method: grpc.aio.UnaryStreamMultiCallable[bytes, bytes] = channel.unary_stream(
        f"/{SERVICE}/Stream"
    )
    stream = method(b"")
    assert await stream.read() == b"one"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stream.read()
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert info(caught.value)["ErrorInfo"].reason == "GONE"


async def test_health_and_reflection_are_served(
    server: RunningServer, channel: grpc.aio.Channel
) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    health: Any = health_pb2_grpc.HealthStub(channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    await server.health.set(SERVICE, health_pb2.HealthCheckResponse.NOT_SERVING)
    reply = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE))
    assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
