"""Wires ingest's dependencies into its servicer; shared by `main()` and the tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from vidmesh.common.channels import ServiceCredential, connect
from vidmesh.common.http import http_listener
from vidmesh.common.queue_client import close_nats, connect_nats
from vidmesh.common.runtime import Loop, every
from vidmesh.common.server import ServiceBinding
from vidmesh.common.storage import BlobStore
from vidmesh.common.tokens import TokenCodec
from vidmesh.common.video_states import VideoStates
from vidmesh.ingest.intake import Intake, IntakeLimits
from vidmesh.ingest.media_checks import MediaLimits
from vidmesh.ingest.servicer import IngestServicer
from vidmesh.ingest.settings import IngestSettings
from vidmesh.ingest.spool import Spool
from vidmesh.ingest.tus import build_app
from vidmesh.v1 import ingest_pb2, ingest_pb2_grpc, video_state_pb2_grpc


@dataclass(frozen=True, slots=True)
class Ingest:
    bindings: list[ServiceBinding]
    intake: Intake
    http_port: int
    loops: list[Loop]


@contextlib.asynccontextmanager
async def ingest(
    settings: IngestSettings, *, nats_url: str, store: BlobStore, codec: TokenCodec
) -> AsyncIterator[Ingest]:
    client = await connect_nats(nats_url, "ingest")
    channel = connect(settings.gateway_address)
    try:
        states = VideoStates(
            video_state_pb2_grpc.VideoStateServiceStub(channel),
            ServiceCredential(codec, "ingest"),
        )
        limits = IntakeLimits(
            max_size_bytes=settings.max_size_bytes,
            media=MediaLimits(
                max_duration_seconds=settings.max_duration_seconds,
                max_dimension=settings.max_dimension,
                max_pixels=settings.max_pixels,
            ),
            commit_wait_seconds=settings.commit_wait_seconds,
        )
        spool = Spool(settings.spool_dir, timedelta(seconds=settings.upload_ttl_seconds))
        intake = Intake(
            spool,
            store,
            states,
            client.jetstream(),
            limits,
            renew_every=settings.lease_renew_seconds,
        )
        servicer = IngestServicer(intake)
        name = ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name
        binding = ServiceBinding(
            name,
            lambda server: ingest_pb2_grpc.add_IngestServiceServicer_to_server(servicer, server),
        )
        maintenance = every(settings.maintenance_seconds, "upload maintenance", intake.maintain)
        tus = build_app(intake, codec, settings.max_size_bytes)
        async with http_listener(tus, settings.host, settings.http_port) as port:
            yield Ingest(bindings=[binding], intake=intake, http_port=port, loops=[maintenance])
    finally:
        await channel.close()
        await close_nats(client)
