"""Wires gateway's dependencies into servicers; shared by `main()` and the tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from vidmesh.common.database import create_engine, create_sessions, libpq_url
from vidmesh.common.playback_links import PlaybackLinks
from vidmesh.common.runtime import Loop, every
from vidmesh.common.server import ServiceBinding
from vidmesh.common.storage import BlobStore
from vidmesh.common.tokens import TokenCodec
from vidmesh.gateway.accounts import Accounts, AuthPolicy
from vidmesh.gateway.captions import CaptionStore
from vidmesh.gateway.catalog import Catalog
from vidmesh.gateway.clips import Clips
from vidmesh.gateway.generations import Generations
from vidmesh.gateway.migrate import upgrade_to_head
from vidmesh.gateway.notifications import ChangeHub
from vidmesh.gateway.quotas import QuotaDefaults, Quotas
from vidmesh.gateway.reconciler import UploadLeases
from vidmesh.gateway.reports import StateReports
from vidmesh.gateway.servicer import (
    AuthServicer,
    QuotaServicer,
    VideoServicer,
    VideoStateServicer,
    WebhookServicer,
)
from vidmesh.gateway.settings import GatewaySettings
from vidmesh.gateway.timeline import Timelines
from vidmesh.gateway.webhook_dispatch import WebhookDispatcher
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


@dataclass(frozen=True, slots=True)
class Gateway:
    bindings: list[ServiceBinding]
    hub: ChangeHub
    leases: UploadLeases
    loops: list[Loop]


def _full_name(module: object, service: str) -> str:
    return str(module.DESCRIPTOR.services_by_name[service].full_name)  # type: ignore[attr-defined]


@contextlib.asynccontextmanager
async def gateway(
    settings: GatewaySettings, database_url: str, codec: TokenCodec, store: BlobStore
) -> AsyncIterator[Gateway]:
    """Migrate the database, start the change listener (a dependency: serving waits until it
    listens), and build the servicers and loops."""
    await upgrade_to_head(database_url, wait_seconds=settings.database_wait_seconds)
    engine = create_engine(database_url)
    sessions = create_sessions(engine)
    hub = ChangeHub(libpq_url(database_url))
    listener = asyncio.create_task(hub.run(), name="video-change-listener")
    try:
        await asyncio.wait_for(hub.wait_listening(), timeout=30)
        policy = AuthPolicy(
            refresh_ttl=timedelta(days=settings.refresh_ttl_days),
            max_failures_per_account=settings.login_max_failures_per_account,
            max_failures_per_address=settings.login_max_failures_per_address,
            failure_window=timedelta(seconds=settings.login_failure_window_seconds),
            admin_emails=settings.admin_email_set(),
        )
        auth = AuthServicer(Accounts(sessions, codec, policy), settings.trusted_proxy_set())
        clips = Clips(sessions)
        captions = CaptionStore(sessions, store)
        videos = VideoServicer(
            Catalog(sessions, store),
            hub,
            PlaybackLinks(codec),
            Timelines(sessions),
            clips,
            captions,
        )
        leases = UploadLeases(sessions, timedelta(seconds=settings.upload_lease_seconds))
        quotas = Quotas(
            sessions, QuotaDefaults(settings.quota_storage_bytes, settings.quota_daily_bytes)
        )
        states = VideoStateServicer(
            StateReports(sessions, timedelta(seconds=settings.upload_lease_seconds), quotas),
            leases,
            Generations(sessions),
            clips,
            captions,
        )

        async def release_watchers(stop: asyncio.Event) -> None:
            # WatchVideo streams end at shutdown, so the server's drain is not held up by them.
            await stop.wait()
            hub.closing.set()

        webhooks = Webhooks(
            sessions,
            allow_private=settings.webhook_allow_private,
            allowed_hosts=settings.webhook_host_list(),
        )
        dispatcher = WebhookDispatcher(
            sessions,
            allow_private=settings.webhook_allow_private,
            allowed_hosts=settings.webhook_host_list(),
            schedule=settings.webhook_schedule(),
        )
        loops = [
            every(settings.lease_sweep_seconds, "upload lease sweep", leases.expire),
            every(settings.webhook_poll_seconds, "webhook deliveries", dispatcher.send_due),
            Loop("watch-release", release_watchers),
        ]
        bindings = [
            ServiceBinding(
                _full_name(auth_pb2, "AuthService"),
                lambda server: auth_pb2_grpc.add_AuthServiceServicer_to_server(auth, server),
            ),
            ServiceBinding(
                _full_name(webhook_pb2, "WebhookService"),
                lambda server: webhook_pb2_grpc.add_WebhookServiceServicer_to_server(
                    WebhookServicer(webhooks), server
                ),
            ),
            ServiceBinding(
                _full_name(quota_pb2, "QuotaService"),
                lambda server: quota_pb2_grpc.add_QuotaServiceServicer_to_server(
                    QuotaServicer(quotas), server
                ),
            ),
            ServiceBinding(
                _full_name(video_pb2, "VideoService"),
                lambda server: video_pb2_grpc.add_VideoServiceServicer_to_server(videos, server),
            ),
            ServiceBinding(
                _full_name(video_state_pb2, "VideoStateService"),
                lambda server: video_state_pb2_grpc.add_VideoStateServiceServicer_to_server(
                    states, server
                ),
            ),
        ]
        yield Gateway(bindings=bindings, hub=hub, leases=leases, loops=loops)
    finally:
        hub.closing.set()
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await engine.dispose()
