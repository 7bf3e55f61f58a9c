"""PlaybackService: who may play what, and the signed URLs to play it with."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import grpc
from google.protobuf import timestamp_pb2

from vidmesh.common import hls_playlists
from vidmesh.common.auth import optional_principal
from vidmesh.common.channels import ServiceCredential, remote_errors
from vidmesh.common.layout import MASTER_PLAYLIST, POSTER, STORYBOARD, STORYBOARD_INDEX
from vidmesh.common.tokens import TokenCodec
from vidmesh.v1 import (
    playback_pb2,
    playback_pb2_grpc,
    video_pb2,
    video_pb2_grpc,
    video_state_pb2,
    video_state_pb2_grpc,
)

Context = grpc.aio.ServicerContext[Any, Any]


class PlaybackServicer(playback_pb2_grpc.PlaybackServiceServicer):
    def __init__(
        self,
        videos: video_pb2_grpc.VideoServiceAsyncStub,
        states: video_state_pb2_grpc.VideoStateServiceAsyncStub,
        credential: ServiceCredential,
        codec: TokenCodec,
        *,
        token_ttl: timedelta,
        base_url: str,
    ) -> None:
        self._videos = videos
        self._states = states
        self._credential = credential
        self._codec = codec
        self._ttl = token_ttl
        self._base = base_url.rstrip("/")

    async def GetPlaybackInfo(
        self, request: playback_pb2.GetPlaybackInfoRequest, context: Context
    ) -> playback_pb2.GetPlaybackInfoResponse:
        principal = optional_principal()
        viewer = [(k, v) for k, v in (context.invocation_metadata() or ()) if k == "authorization"]
        with remote_errors():
            # Gateway decides visibility with the viewer's own credentials.
            await self._videos.GetVideo(
                video_pb2.GetVideoRequest(video_id=request.video_id), metadata=viewer
            )
            source = await self._states.GetPlaybackSource(
                video_state_pb2.GetPlaybackSourceRequest(video_id=request.video_id),
                metadata=self._credential.metadata(),
            )
        video = source.video
        issued = self._codec.issue_playback(
            video.video_id,
            source.media_prefix,
            principal.subject if principal else "anonymous",
            self._ttl,
        )
        base = f"{self._base}/hls/{video.video_id}"
        query = f"?token={issued.token}"
        expire = timestamp_pb2.Timestamp()
        expire.FromDatetime(issued.expire_time)
        return playback_pb2.GetPlaybackInfoResponse(
            video_id=video.video_id,
            master_playlist_url=f"{base}/{MASTER_PLAYLIST}{query}",
            renditions=(
                hls_playlists.measured_renditions(source.live, final=False)
                if source.HasField("live")
                else video.renditions
            ),
            poster_url=f"{base}/{POSTER}{query}",
            storyboard_url=f"{base}/{STORYBOARD}{query}",
            storyboard_vtt_url=f"{base}/{STORYBOARD_INDEX}{query}",
            token=issued.token,
            token_expire_time=expire,
            duration=video.duration,
        )
