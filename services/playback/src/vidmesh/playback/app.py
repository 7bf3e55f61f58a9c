"""Wires playback: the gRPC servicer and the HLS HTTP listener."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from vidmesh.common.channels import ServiceCredential, connect
from vidmesh.common.http import http_listener
from vidmesh.common.playback_links import PlaybackLinks
from vidmesh.common.runtime import Loop
from vidmesh.common.server import ServiceBinding
from vidmesh.common.storage import BlobStore
from vidmesh.common.tokens import TokenCodec
from vidmesh.playback.clip_playlists import ClipPlaylists
from vidmesh.playback.downloads import Downloads
from vidmesh.playback.hls import LivePlaylists, build_app
from vidmesh.playback.posters import Posters
from vidmesh.playback.public import PublicVideos
from vidmesh.playback.servicer import PlaybackServicer
from vidmesh.playback.settings import PlaybackSettings
from vidmesh.playback.subtitles import Subtitles
from vidmesh.v1 import playback_pb2, playback_pb2_grpc, video_state_pb2_grpc


@dataclass(frozen=True, slots=True)
class Playback:
    bindings: list[ServiceBinding]
    http_port: int
    loops: tuple[Loop, ...] = ()


@contextlib.asynccontextmanager
async def playback(
    settings: PlaybackSettings, *, store: BlobStore, codec: TokenCodec, reuse_port: bool = False
) -> AsyncIterator[Playback]:
    """The servicer and the HLS listener; with `reuse_port` several processes share the
    listener's port (SO_REUSEPORT), the kernel spreading connections over them."""
    channel = connect(settings.gateway_address)
    try:
        states = video_state_pb2_grpc.VideoStateServiceStub(channel)
        credential = ServiceCredential(codec, "playback")
        clips = ClipPlaylists(store, states, credential)
        servicer = PlaybackServicer(
            states,
            credential,
            PlaybackLinks(codec, settings),
            clips,
            Posters(store, settings.work_dir),
        )
        name = playback_pb2.DESCRIPTOR.services_by_name["PlaybackService"].full_name
        binding = ServiceBinding(
            name,
            lambda server: playback_pb2_grpc.add_PlaybackServiceServicer_to_server(
                servicer, server
            ),
        )
        app = build_app(
            store,
            codec,
            LivePlaylists(states, credential),
            PublicVideos(states, credential, check_seconds=settings.public_check_seconds),
            public_max_age=settings.public_playlist_max_age,
            redirect=settings.redirect == "presigned",
            downloads=Downloads(store, states, credential, settings.work_dir),
            clips=clips,
            subtitles=Subtitles(store, states, credential),
        )
        async with http_listener(
            app, settings.host, settings.http_port, reuse_port=reuse_port
        ) as port:
            yield Playback(bindings=[binding], http_port=port)
    finally:
        await channel.close()
