"""PlaybackService: who may play what, and the URLs to play it with (bare when public)."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import duration_pb2, timestamp_pb2

from vidmesh.common import hls_playlists
from vidmesh.common.auth import optional_principal, require_user
from vidmesh.common.channels import ServiceCredential, remote_errors
from vidmesh.common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from vidmesh.common.layout import MASTER_PLAYLIST, POSTER, STORYBOARD, STORYBOARD_INDEX
from vidmesh.common.playback_links import PlaybackGrant, PlaybackLinks
from vidmesh.playback.clip_playlists import ClipPlaylists
from vidmesh.playback.downloads import Download, describe, download_path, offered
from vidmesh.playback.posters import Posters, reencode
from vidmesh.playback.sources import playback_source
from vidmesh.v1 import (
    playback_pb2,
    playback_pb2_grpc,
    video_pb2,
    video_state_pb2,
    video_state_pb2_grpc,
)

Context = grpc.aio.ServicerContext[Any, Any]


def _seconds(value: float) -> duration_pb2.Duration:
    result = duration_pb2.Duration()
    result.FromNanoseconds(round(value * 1e9))
    return result


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
        clips: ClipPlaylists,
        posters: Posters,
    ) -> None:
        self._posters = posters
        self._states = states
        self._credential = credential
        self._links = links
        self._clips = clips

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
            poster_url=grant.url(granted.poster_key or POSTER),
            storyboard_url=grant.url(STORYBOARD),
            storyboard_vtt_url=grant.url(STORYBOARD_INDEX),
            token=grant.token,
            duration=video.duration,
            downloads=[
                _link(describe(video, granted.media_prefix, name), grant.url(download_path(name)))
                for name in offered(video)
            ],
        )
        if request.clip_id:
            await self._clip(request, granted, grant, response)
        if grant.expire_time is not None:
            expire = timestamp_pb2.Timestamp()
            expire.FromDatetime(grant.expire_time)
            response.token_expire_time.CopyFrom(expire)
        return response

    async def _clip(
        self,
        request: playback_pb2.GetPlaybackInfoRequest,
        granted: video_state_pb2.AuthorizePlaybackResponse,
        grant: PlaybackGrant,
        response: playback_pb2.GetPlaybackInfoResponse,
    ) -> None:
        """Point the response at a clip of the video: its cut master and where it starts and
        ends on the cut timeline."""
        source = await playback_source(
            self._states, self._credential, request.video_id, request.clip_id
        )
        if source is None or not source.HasField("clip"):
            raise NotFound("CLIP_NOT_FOUND", "The clip does not exist or is not this video's.")
        video = granted.video
        if video.state != video_pb2.Video.STATE_READY or not video.renditions:
            raise FailedPrecondition("NOT_READY", "The video of this clip is not ready.")
        cut = await self._clips.trim(granted.media_prefix, video.renditions[0].name, source.clip)
        response.master_playlist_url = grant.url(f"clips/{request.clip_id}/{MASTER_PLAYLIST}")
        response.clip_start.CopyFrom(_seconds(cut.start))
        response.clip_end.CopyFrom(_seconds(cut.end))
        del response.downloads[:]

    async def SetPoster(
        self, request: playback_pb2.SetPosterRequest, context: Context
    ) -> playback_pb2.SetPosterResponse:
        principal = require_user()
        with remote_errors():
            granted = await self._states.AuthorizePlayback(
                video_state_pb2.AuthorizePlaybackRequest(
                    video_id=request.video_id,
                    viewer_id=principal.subject,
                    viewer_is_admin=principal.is_admin,
                ),
                metadata=self._credential.metadata(),
            )
        video = granted.video
        if video.owner_id != principal.subject:
            raise PermissionDenied("NOT_VIDEO_OWNER", "Only the owner may set the poster.")
        if video.state != video_pb2.Video.STATE_READY:
            raise FailedPrecondition("NOT_READY", "Only a READY video's poster can be set.")
        source = request.WhichOneof("source")
        if source == "image":
            jpeg = reencode(request.image)
        elif source == "frame_time":
            jpeg = await self._posters.frame(
                granted.media_prefix, request.frame_time.ToNanoseconds() / 1e9
            )
        else:
            raise InvalidArgument(
                "FIELD_REQUIRED", "Send an 'image' or a 'frame_time'.", field="image"
            )
        name = await self._posters.store(granted.media_prefix, jpeg)
        with remote_errors():
            await self._states.RecordPoster(
                video_state_pb2.RecordPosterRequest(
                    video_id=video.video_id, media_prefix=granted.media_prefix, poster_key=name
                ),
                metadata=self._credential.metadata(),
            )
        grant = self._links.grant(
            video.video_id, granted.media_prefix, principal.subject, public=granted.public
        )
        return playback_pb2.SetPosterResponse(poster_url=grant.url(name))
