"""Wires playback: the gRPC servicer and the HLS HTTP listener."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from vidmesh.common.channels import ServiceCredential, connect
from vidmesh.common.http import http_listener
from vidmesh.common.server import ServiceBinding
from vidmesh.common.storage import BlobStore
from vidmesh.common.tokens import TokenCodec
from vidmesh.playback.hls import LivePlaylists, build_app
from vidmesh.playback.servicer import PlaybackServicer
from vidmesh.playback.settings import PlaybackSettings
from vidmesh.v1 import playback_pb2, playback_pb2_grpc, video_pb2_grpc, video_state_pb2_grpc


@dataclass(frozen=True, slots=True)
class Playback:
    bindings: list[ServiceBinding]
    http_port: int


@contextlib.asynccontextmanager
async def playback(
    settings: PlaybackSettings, *, store: BlobStore, codec: TokenCodec
) -> AsyncIterator[Playback]:
    channel = connect(settings.gateway_address)
    try:
        servicer = PlaybackServicer(
            video_pb2_grpc.VideoServiceStub(channel),
            video_state_pb2_grpc.VideoStateServiceStub(channel),
            ServiceCredential(codec, "playback"),
            codec,
            token_ttl=timedelta(seconds=settings.token_ttl_seconds),
            base_url=settings.base_url,
        )
        name = playback_pb2.DESCRIPTOR.services_by_name["PlaybackService"].full_name
        binding = ServiceBinding(
            name,
            lambda server: playback_pb2_grpc.add_PlaybackServiceServicer_to_server(
                servicer, server
            ),
        )
        states = video_state_pb2_grpc.VideoStateServiceStub(channel)
        live = LivePlaylists(states, ServiceCredential(codec, "playback"))
        async with http_listener(
            build_app(store, codec, live), settings.host, settings.http_port
        ) as port:
            yield Playback(bindings=[binding], http_port=port)
    finally:
        await channel.close()
