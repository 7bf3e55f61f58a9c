"""Helpers for integration tests: a running gateway with stubs, and test accounts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import grpc

from vidmesh.common.server import RunningServer
from vidmesh.common.tokens import TokenCodec
from vidmesh.v1 import auth_pb2, auth_pb2_grpc, video_pb2_grpc, video_state_pb2_grpc

ADMIN_EMAIL = "admin@example.com"
PASSWORD = "correct horse battery"


@dataclass
class Account:
    user_id: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.access_token}"),)


@dataclass
class GatewayHarness:
    """A running gateway, a channel to it, and helpers to make accounts."""

    server: RunningServer
    channel: grpc.aio.Channel
    codec: TokenCodec
    database_url: str
    auth: auth_pb2_grpc.AuthServiceAsyncStub = field(init=False)
    videos: video_pb2_grpc.VideoServiceAsyncStub = field(init=False)
    states: video_state_pb2_grpc.VideoStateServiceAsyncStub = field(init=False)

    def __post_init__(self) -> None:
        self.auth = auth_pb2_grpc.AuthServiceStub(self.channel)  # type: ignore[assignment]
        self.videos = video_pb2_grpc.VideoServiceStub(self.channel)  # type: ignore[assignment]
        self.states = video_state_pb2_grpc.VideoStateServiceStub(self.channel)  # type: ignore[assignment]

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def service_metadata(self) -> tuple[tuple[str, str], ...]:
        token = self.codec.issue_service("tests").token
        return (("authorization", f"Bearer {token}"),)

    async def register(self, email: str | None = None) -> Account:
        address = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        response = await self.auth.Register(
            auth_pb2.RegisterRequest(email=address, password=PASSWORD)
        )
        return Account(
            user_id=response.user.user_id,
            email=response.user.email,
            access_token=response.credentials.access_token,
            refresh_token=response.credentials.refresh_token,
        )
