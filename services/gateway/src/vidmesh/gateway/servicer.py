"""gRPC servicers of gateway: thin translations between protos and the domain modules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from typing import Any

import grpc

from vidmesh.common.auth import (
    optional_principal,
    require_admin,
    require_service,
    require_user,
)
from vidmesh.common.errors import InvalidArgument, NotFound, Unauthenticated, Unavailable
from vidmesh.common.peers import client_address
from vidmesh.common.playback_links import PlaybackLinks
from vidmesh.common.tokens import Principal, Role
from vidmesh.common.transcode_tasks import generation_of
from vidmesh.common.validation import parse_uuid
from vidmesh.gateway import convert
from vidmesh.gateway.accounts import Accounts
from vidmesh.gateway.captions import CaptionStore, captions_to_proto, track_to_proto
from vidmesh.gateway.catalog import (
    Catalog,
    Scope,
    VideoChanges,
    may_play,
    owns,
    parse_video_id,
    plays_without_token,
    video_not_found,
)
from vidmesh.gateway.clips import Clips, clip_to_proto
from vidmesh.gateway.generations import Generations
from vidmesh.gateway.lifecycle import TERMINAL
from vidmesh.gateway.models import Video, VideoState
from vidmesh.gateway.notifications import ChangeHub
from vidmesh.gateway.quotas import Quotas
from vidmesh.gateway.reconciler import UploadLeases
from vidmesh.gateway.reports import Failure, NewVideo, SourceFacts, StateReports, StoredRenditions
from vidmesh.gateway.search import title_ranges
from vidmesh.gateway.timeline import Timelines
from vidmesh.gateway.webhooks import Webhooks
from vidmesh.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    quota_pb2,
    quota_pb2_grpc,
    video_pb2,
    video_pb2_grpc,
    video_state_pb2,
    video_state_pb2_grpc,
    webhook_pb2,
    webhook_pb2_grpc,
)

Context = grpc.aio.ServicerContext[Any, Any]
MUTABLE_FIELDS = ("title", "description", "visibility", "downloads")


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, accounts: Accounts, trusted_proxies: Collection[str]) -> None:
        self._accounts = accounts
        self._trusted = trusted_proxies

    async def Register(
        self, request: auth_pb2.RegisterRequest, context: Context
    ) -> auth_pb2.RegisterResponse:
        signed_in = await self._accounts.register(
            request.email, request.password, request.display_name
        )
        return auth_pb2.RegisterResponse(
            user=convert.user_to_proto(signed_in.user),
            credentials=convert.credentials_to_proto(signed_in),
        )

    async def Login(
        self, request: auth_pb2.LoginRequest, context: Context
    ) -> auth_pb2.LoginResponse:
        metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
        address = client_address(context.peer(), metadata, self._trusted)
        signed_in = await self._accounts.login(request.email, request.password, address)
        return auth_pb2.LoginResponse(
            user=convert.user_to_proto(signed_in.user),
            credentials=convert.credentials_to_proto(signed_in),
        )

    async def RefreshToken(
        self, request: auth_pb2.RefreshTokenRequest, context: Context
    ) -> auth_pb2.RefreshTokenResponse:
        signed_in = await self._accounts.refresh(request.refresh_token)
        return auth_pb2.RefreshTokenResponse(credentials=convert.credentials_to_proto(signed_in))

    async def GetCurrentUser(
        self, request: auth_pb2.GetCurrentUserRequest, context: Context
    ) -> auth_pb2.GetCurrentUserResponse:
        principal = require_user()
        try:
            user = await self._accounts.get_user(principal.subject)
        except NotFound:
            raise Unauthenticated(
                "INVALID_TOKEN", "The account of this token no longer exists."
            ) from None
        return auth_pb2.GetCurrentUserResponse(user=convert.user_to_proto(user))


def _changes(request: video_pb2.UpdateVideoRequest) -> VideoChanges:
    video = request.video
    paths = list(request.update_mask.paths)
    if not paths:
        paths = [
            name
            for name, present in (
                ("title", bool(video.title)),
                ("description", bool(video.description)),
                ("visibility", video.visibility != video_pb2.VISIBILITY_UNSPECIFIED),
            )
            if present
        ]
    unknown = [path for path in paths if path not in MUTABLE_FIELDS]
    if unknown or not paths:
        raise InvalidArgument(
            "INVALID_UPDATE_MASK",
            f"'update_mask' may name only {', '.join(MUTABLE_FIELDS)}"
            + (f"; not {', '.join(unknown)}." if unknown else "; nothing to update."),
            field="update_mask",
        )
    visibility = None
    if "visibility" in paths:
        visibility = convert.visibility_from_proto(video.visibility, default=None)
        if visibility is None:
            raise InvalidArgument(
                "INVALID_VISIBILITY", "'visibility' must be set.", field="video.visibility"
            )
    return VideoChanges(
        title=video.title if "title" in paths else None,
        description=video.description if "description" in paths else None,
        visibility=visibility,
        downloads=convert.downloads_from_proto(video.downloads) if "downloads" in paths else None,
    )


def _watch_key(video: Video, queue_position: int) -> tuple[object, ...]:
    return (
        video.state,
        video.progress_percent,
        video.updated_at,
        len(video.transitions),
        queue_position,
    )


def _viewer(request: video_state_pb2.AuthorizePlaybackRequest) -> Principal | None:
    """The viewer playback vouches for (from their access token), or None when anonymous."""
    if not request.viewer_id:
        return None
    parse_uuid(request.viewer_id, "viewer_id", "INVALID_USER_ID")
    role = Role.ADMIN if request.viewer_is_admin else Role.USER
    return Principal(subject=request.viewer_id, role=role)


# How often a watched video that waits in the queue re-reads its position (others move it).
QUEUE_REFRESH_SECONDS = 2.0


class WebhookServicer(webhook_pb2_grpc.WebhookServiceServicer):
    def __init__(self, webhooks: Webhooks) -> None:
        self._webhooks = webhooks

    async def CreateWebhook(
        self, request: webhook_pb2.CreateWebhookRequest, context: Context
    ) -> webhook_pb2.CreateWebhookResponse:
        webhook, secret = await self._webhooks.create(request.webhook, require_user())
        return webhook_pb2.CreateWebhookResponse(webhook=webhook, secret=secret)

    async def ListWebhooks(
        self, request: webhook_pb2.ListWebhooksRequest, context: Context
    ) -> webhook_pb2.ListWebhooksResponse:
        return webhook_pb2.ListWebhooksResponse(
            webhooks=await self._webhooks.endpoints(require_user())
        )

    async def DeleteWebhook(
        self, request: webhook_pb2.DeleteWebhookRequest, context: Context
    ) -> webhook_pb2.DeleteWebhookResponse:
        await self._webhooks.delete(request.webhook_id, require_user())
        return webhook_pb2.DeleteWebhookResponse()

    async def ListWebhookDeliveries(
        self, request: webhook_pb2.ListWebhookDeliveriesRequest, context: Context
    ) -> webhook_pb2.ListWebhookDeliveriesResponse:
        deliveries = await self._webhooks.deliveries(request.webhook_id, require_user())
        return webhook_pb2.ListWebhookDeliveriesResponse(deliveries=deliveries)

    async def RetryWebhookDelivery(
        self, request: webhook_pb2.RetryWebhookDeliveryRequest, context: Context
    ) -> webhook_pb2.RetryWebhookDeliveryResponse:
        delivery = await self._webhooks.retry(
            request.webhook_id, request.delivery_id, require_user()
        )
        return webhook_pb2.RetryWebhookDeliveryResponse(delivery=delivery)


class QuotaServicer(quota_pb2_grpc.QuotaServiceServicer):
    def __init__(self, quotas: Quotas) -> None:
        self._quotas = quotas

    async def GetQuota(
        self, request: quota_pb2.GetQuotaRequest, context: Context
    ) -> quota_pb2.GetQuotaResponse:
        principal = require_user()
        user_id = request.user_id or principal.subject
        if user_id != principal.subject:
            require_admin()
        key = parse_uuid(user_id, "user_id", "INVALID_USER_ID")
        return quota_pb2.GetQuotaResponse(quota=await self._quotas.get(key))

    async def UpdateQuota(
        self, request: quota_pb2.UpdateQuotaRequest, context: Context
    ) -> quota_pb2.UpdateQuotaResponse:
        require_admin()
        if not request.user_id:
            raise InvalidArgument("FIELD_REQUIRED", "'user_id' is required.", field="user_id")
        key = parse_uuid(request.user_id, "user_id", "INVALID_USER_ID")
        quota = await self._quotas.update(
            key,
            storage_bytes=(
                request.storage_limit_bytes if request.HasField("storage_limit_bytes") else None
            ),
            daily_bytes=request.daily_limit_bytes
            if request.HasField("daily_limit_bytes")
            else None,
            use_defaults=request.use_defaults,
        )
        return quota_pb2.UpdateQuotaResponse(quota=quota)


class VideoServicer(video_pb2_grpc.VideoServiceServicer):
    def __init__(
        self,
        catalog: Catalog,
        hub: ChangeHub,
        links: PlaybackLinks,
        timelines: Timelines,
        clips: Clips,
        captions: CaptionStore,
    ) -> None:
        self._captions = captions
        self._catalog = catalog
        self._hub = hub
        self._links = links
        self._timelines = timelines
        self._clips = clips

    async def CreateCaptions(
        self, request: video_pb2.CreateCaptionsRequest, context: Context
    ) -> video_pb2.CreateCaptionsResponse:
        captions = await self._captions.create(
            request.video_id, request.captions, request.content, require_user()
        )
        return video_pb2.CreateCaptionsResponse(captions=captions)

    async def UpdateCaptions(
        self, request: video_pb2.UpdateCaptionsRequest, context: Context
    ) -> video_pb2.UpdateCaptionsResponse:
        captions = await self._captions.update(
            request.video_id, request.language, request.captions, request.content, require_user()
        )
        return video_pb2.UpdateCaptionsResponse(captions=captions)

    async def ListCaptions(
        self, request: video_pb2.ListCaptionsRequest, context: Context
    ) -> video_pb2.ListCaptionsResponse:
        video = await self._catalog.get(request.video_id, optional_principal())
        tracks = await self._captions.tracks(video)
        return video_pb2.ListCaptionsResponse(captions=[captions_to_proto(t) for t in tracks])

    async def DeleteCaptions(
        self, request: video_pb2.DeleteCaptionsRequest, context: Context
    ) -> video_pb2.DeleteCaptionsResponse:
        await self._captions.delete(request.video_id, request.language, require_user())
        return video_pb2.DeleteCaptionsResponse()

    async def CreateClip(
        self, request: video_pb2.CreateClipRequest, context: Context
    ) -> video_pb2.CreateClipResponse:
        clip = await self._clips.create(request.video_id, request.clip, require_user())
        return video_pb2.CreateClipResponse(clip=clip)

    async def ListClips(
        self, request: video_pb2.ListClipsRequest, context: Context
    ) -> video_pb2.ListClipsResponse:
        video = await self._catalog.get(request.video_id, optional_principal())
        return video_pb2.ListClipsResponse(clips=await self._clips.list(video))

    async def GetClip(
        self, request: video_pb2.GetClipRequest, context: Context
    ) -> video_pb2.GetClipResponse:
        principal = optional_principal()
        clip, video = await self._clips.get(request.clip_id, principal)
        return video_pb2.GetClipResponse(
            clip=clip_to_proto(clip), video=self._to_proto(video, principal)
        )

    async def DeleteClip(
        self, request: video_pb2.DeleteClipRequest, context: Context
    ) -> video_pb2.DeleteClipResponse:
        await self._clips.delete(request.clip_id, require_user())
        return video_pb2.DeleteClipResponse()

    def _to_proto(
        self, video: Video, principal: Principal | None, *, queue_position: int = 0
    ) -> video_pb2.Video:
        """The video as `principal` sees it, with a poster URL that works as it is (so a feed
        needs no playback call per card)."""
        message = convert.video_to_proto(video, queue_position=queue_position)
        if video.poster_key and video.media_prefix:
            grant = self._links.grant(
                str(video.id),
                video.media_prefix,
                principal.subject if principal else None,
                public=plays_without_token(video),
            )
            message.poster_url = grant.url(video.poster_key)
        return message

    async def GetVideo(
        self, request: video_pb2.GetVideoRequest, context: Context
    ) -> video_pb2.GetVideoResponse:
        principal = optional_principal()
        video = await self._catalog.get(request.video_id, principal)
        position = await self._catalog.queue_position(video)
        return video_pb2.GetVideoResponse(
            video=self._to_proto(video, principal, queue_position=position)
        )

    async def ListVideos(
        self, request: video_pb2.ListVideosRequest, context: Context
    ) -> video_pb2.ListVideosResponse:
        principal = optional_principal()
        scope = Scope.PUBLIC
        if request.scope == video_pb2.ListVideosRequest.SCOPE_MINE:
            principal = require_user()
            scope = Scope.MINE
        page = await self._catalog.list(
            scope,
            principal,
            state=convert.state_from_proto(request.state),
            page_size=request.page_size,
            page_token=request.page_token,
            query=request.query,
        )
        return video_pb2.ListVideosResponse(
            videos=[self._to_proto(video, principal) for video in page.videos],
            next_page_token=page.next_page_token,
            highlights=[
                video_pb2.SearchHighlight(
                    video_id=str(video_id), title_ranges=title_ranges(headline)
                )
                for video_id, headline in page.headlines.items()
            ],
        )

    async def UpdateVideo(
        self, request: video_pb2.UpdateVideoRequest, context: Context
    ) -> video_pb2.UpdateVideoResponse:
        principal = require_user()
        parse_video_id(request.video.video_id)
        video = await self._catalog.update(request.video.video_id, _changes(request), principal)
        return video_pb2.UpdateVideoResponse(video=self._to_proto(video, principal))

    async def DeleteVideo(
        self, request: video_pb2.DeleteVideoRequest, context: Context
    ) -> video_pb2.DeleteVideoResponse:
        await self._catalog.delete(request.video_id, require_user())
        return video_pb2.DeleteVideoResponse()

    async def GetVideoTimeline(
        self, request: video_pb2.GetVideoTimelineRequest, context: Context
    ) -> video_pb2.GetVideoTimelineResponse:
        principal = require_user()
        video = await self._catalog.get(request.video_id, principal)
        if not owns(video, principal):
            # Someone else's public video: its processing history is its owner's business.
            raise video_not_found()
        return video_pb2.GetVideoTimelineResponse(steps=await self._timelines.steps(video))

    async def WatchVideo(
        self, request: video_pb2.WatchVideoRequest, context: Context
    ) -> AsyncIterator[video_pb2.WatchVideoResponse]:
        principal = optional_principal()
        video = await self._catalog.get(request.video_id, principal)
        with self._hub.subscribe(video.id) as changed:
            # Re-read after subscribing so that no change between the two is missed.
            video = await self._catalog.get(request.video_id, principal)
            position = await self._catalog.queue_position(video)
            last = _watch_key(video, position)
            yield video_pb2.WatchVideoResponse(
                video=self._to_proto(video, principal, queue_position=position)
            )
            while video.state not in TERMINAL:
                closing = asyncio.ensure_future(self._hub.closing.wait())
                waiting = asyncio.ensure_future(changed.get())
                queued = video.state is VideoState.QUEUED
                try:
                    await asyncio.wait(
                        {closing, waiting},
                        return_when=asyncio.FIRST_COMPLETED,
                        timeout=QUEUE_REFRESH_SECONDS if queued else None,
                    )
                finally:
                    closing.cancel()
                    waiting.cancel()
                if self._hub.closing.is_set():
                    raise Unavailable("SHUTTING_DOWN", "The server is restarting; watch again.")
                video = await self._catalog.get(request.video_id, principal)
                position = await self._catalog.queue_position(video)
                key = _watch_key(video, position)
                if key != last:
                    last = key
                    yield video_pb2.WatchVideoResponse(
                        video=self._to_proto(video, principal, queue_position=position)
                    )


class VideoStateServicer(video_state_pb2_grpc.VideoStateServiceServicer):
    def __init__(
        self,
        reports: StateReports,
        leases: UploadLeases,
        generations: Generations,
        clips: Clips,
        captions: CaptionStore,
    ) -> None:
        self._captions = captions
        self._clips = clips
        self._reports = reports
        self._leases = leases
        self._generations = generations

    async def ListStalledVideos(
        self, request: video_state_pb2.ListStalledVideosRequest, context: Context
    ) -> video_state_pb2.ListStalledVideosResponse:
        require_service()
        videos = await self._reports.stalled(request.idle.ToTimedelta(), request.page_size)
        return video_state_pb2.ListStalledVideosResponse(
            videos=[
                video_state_pb2.StalledVideo(
                    video_id=str(video.id),
                    owner_id=str(video.owner_id),
                    job_id=video.job_id or "",
                    generation=generation_of(video.job_id or ""),
                    state=convert.state_to_proto(video.state),
                )
                for video in videos
            ]
        )

    async def RenewUploads(
        self, request: video_state_pb2.RenewUploadsRequest, context: Context
    ) -> video_state_pb2.RenewUploadsResponse:
        require_service()
        ended = await self._leases.renew(list(request.video_ids))
        return video_state_pb2.RenewUploadsResponse(ended_video_ids=ended)

    async def CreateVideo(
        self, request: video_state_pb2.CreateVideoRequest, context: Context
    ) -> video_state_pb2.CreateVideoResponse:
        require_service()
        visibility = convert.visibility_from_proto(request.visibility, default=None)
        video = await self._reports.create(
            NewVideo(
                owner_id=request.owner_id,
                title=request.title,
                description=request.description,
                filename=request.filename,
                size_bytes=request.size_bytes,
                request_id=request.request_id,
                **({"visibility": visibility} if visibility else {}),
            )
        )
        return video_state_pb2.CreateVideoResponse(video=convert.video_to_proto(video))

    async def MarkQueued(
        self, request: video_state_pb2.MarkQueuedRequest, context: Context
    ) -> video_state_pb2.MarkQueuedResponse:
        require_service()
        source = SourceFacts(
            filename=request.source.filename,
            size_bytes=request.source.size_bytes,
            sha256=request.source.sha256,
            container=request.source.container,
            codecs=tuple(request.source.codecs),
            duration_seconds=convert.seconds(request.duration, request.HasField("duration")),
            width=request.width,
            height=request.height,
        )
        video = await self._reports.mark_queued(
            request.video_id,
            request.job_id,
            request.generation,
            source,
            requeue=request.requeue,
            resume=request.resume,
        )
        return video_state_pb2.MarkQueuedResponse(video=convert.video_to_proto(video))

    async def MarkProcessing(
        self, request: video_state_pb2.MarkProcessingRequest, context: Context
    ) -> video_state_pb2.MarkProcessingResponse:
        require_service()
        video = await self._reports.mark_processing(request.video_id, request.job_id)
        return video_state_pb2.MarkProcessingResponse(video=convert.video_to_proto(video))

    async def ReportProgress(
        self, request: video_state_pb2.ReportProgressRequest, context: Context
    ) -> video_state_pb2.ReportProgressResponse:
        require_service()
        video = await self._reports.report_progress(
            request.video_id, request.job_id, request.percent
        )
        return video_state_pb2.ReportProgressResponse(video=convert.video_to_proto(video))

    async def CompleteTranscode(
        self, request: video_state_pb2.CompleteTranscodeRequest, context: Context
    ) -> video_state_pb2.CompleteTranscodeResponse:
        require_service()
        ladder = StoredRenditions(
            renditions=[convert.rendition_from_proto(item) for item in request.renditions],
            media_prefix=request.media_prefix,
            duration_seconds=convert.seconds(request.duration, request.HasField("duration")),
            poster_key=request.poster_key,
        )
        video = await self._reports.complete(
            request.video_id, request.job_id, ladder, request.runner, request.delivery
        )
        return video_state_pb2.CompleteTranscodeResponse(video=convert.video_to_proto(video))

    async def FailTranscode(
        self, request: video_state_pb2.FailTranscodeRequest, context: Context
    ) -> video_state_pb2.FailTranscodeResponse:
        require_service()
        video = await self._reports.fail(
            request.video_id,
            request.job_id,
            Failure(reason=request.failure.reason, message=request.failure.message),
        )
        return video_state_pb2.FailTranscodeResponse(video=convert.video_to_proto(video))

    async def GetPlaybackSource(
        self, request: video_state_pb2.GetPlaybackSourceRequest, context: Context
    ) -> video_state_pb2.GetPlaybackSourceResponse:
        require_service()
        video = await self._reports.playback_source(request.video_id)
        live = await self._generations.live(video)
        clip = await self._clips.of_video(request.clip_id, video) if request.clip_id else None
        return video_state_pb2.GetPlaybackSourceResponse(
            video=convert.video_to_proto(video),
            media_prefix=video.media_prefix or "",
            live=live,
            clip=clip_to_proto(clip) if clip is not None else None,
            captions=[track_to_proto(t) for t in await self._captions.tracks(video)],
        )

    async def AuthorizePlayback(
        self, request: video_state_pb2.AuthorizePlaybackRequest, context: Context
    ) -> video_state_pb2.AuthorizePlaybackResponse:
        require_service()
        viewer = _viewer(request)
        video = await self._reports.playback_source(
            request.video_id, allowed=lambda found: may_play(found, viewer)
        )
        live = await self._generations.live(video)
        return video_state_pb2.AuthorizePlaybackResponse(
            video=convert.video_to_proto(video),
            media_prefix=video.media_prefix or "",
            live=live,
            public=plays_without_token(video),
            poster_key=video.poster_key or "",
        )

    async def RecordPoster(
        self, request: video_state_pb2.RecordPosterRequest, context: Context
    ) -> video_state_pb2.RecordPosterResponse:
        require_service()
        video = await self._reports.record_poster(
            request.video_id, request.media_prefix, request.poster_key
        )
        return video_state_pb2.RecordPosterResponse(video=convert.video_to_proto(video))

    async def RecordPlan(
        self, request: video_state_pb2.RecordPlanRequest, context: Context
    ) -> video_state_pb2.RecordPlanResponse:
        require_service()
        outcome = await self._generations.record_plan(
            request.video_id, request.job_id, request.plan, request.runner
        )
        return video_state_pb2.RecordPlanResponse(outcome=outcome)

    async def CompleteTask(
        self, request: video_state_pb2.CompleteTaskRequest, context: Context
    ) -> video_state_pb2.CompleteTaskResponse:
        require_service()
        outcome = await self._generations.complete_task(request)
        return video_state_pb2.CompleteTaskResponse(outcome=outcome)

    async def GetGeneration(
        self, request: video_state_pb2.GetGenerationRequest, context: Context
    ) -> video_state_pb2.GetGenerationResponse:
        require_service()
        generation = await self._generations.generation(request.video_id, request.job_id)
        return video_state_pb2.GetGenerationResponse(generation=generation)
