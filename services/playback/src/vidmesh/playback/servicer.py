"""PlaybackService: who may play what, and the URLs to play it with (bare when public)."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import timestamp_pb2

from vidmesh.common import hls_playlists
from vidmesh.common.auth import optional_principal
from vidmesh.common.channels import ServiceCredential, remote_errors
from vidmesh.common.layout import MASTER_PLAYLIST, POSTER, STORYBOARD, STORYBOARD_INDEX
from vidmesh.common.playback_links import PlaybackLinks
from vidmesh.playback.downloads import Download, describe, download_path, offered
from vidmesh.v1 import playback_pb2, playback_pb2_grpc, video_state_pb2, video_state_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


def _link(download: Download, url: str) -> playback_pb2.DownloadLink:
    return playback_pb2.DownloadLink(
        name=download.name,
        url=url,
        filename=download.filename,
        content_type=download.content_type,
    )


class PlaybackServicer(playback_pb2_grpc.PlaybackServiceServicer):
    def __init__(
        self,
        states: video_state_pb2_grpc.VideoStateServiceAsyncStub,
        credential: ServiceCredential,
        links: PlaybackLinks,
    ) -> None:
        self._states = states
        self._credential = credential
        self._links = links

    async def GetPlaybackInfo(
        self, request: playback_pb2.GetPlaybackInfoRequest, context: Context
    ) -> playback_pb2.GetPlaybackInfoResponse:
        principal = optional_principal()
        viewer = principal.subject if principal and not principal.is_service else ""
        with remote_errors():
            # One round trip: gateway checks the viewer and says where the ladder is.
            granted = await self._states.AuthorizePlayback(
                video_state_pb2.AuthorizePlaybackRequest(
                    video_id=request.video_id,
                    viewer_id=viewer,
                    viewer_is_admin=bool(principal and principal.is_admin),
                ),
                metadata=self._credential.metadata(),
            )
        video = granted.video
        grant = self._links.grant(
            video.video_id, granted.media_prefix, viewer or None, public=granted.public
        )
        response = playback_pb2.GetPlaybackInfoResponse(
            video_id=video.video_id,
            master_playlist_url=grant.url(MASTER_PLAYLIST),
            renditions=(
                hls_playlists.measured_renditions(granted.live, final=False)
                if granted.HasField("live")
                else video.renditions
            ),
            poster_url=grant.url(POSTER),
            storyboard_url=grant.url(STORYBOARD),
            storyboard_vtt_url=grant.url(STORYBOARD_INDEX),
            token=grant.token,
            duration=video.duration,
            downloads=[
                _link(describe(video, granted.media_prefix, name), grant.url(download_path(name)))
                for name in offered(video)
            ],
        )
        if grant.expire_time is not None:
            expire = timestamp_pb2.Timestamp()
            expire.FromDatetime(grant.expire_time)
            response.token_expire_time.CopyFrom(expire)
        return response
