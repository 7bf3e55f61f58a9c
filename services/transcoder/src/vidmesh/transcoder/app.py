"""Wires the transcoder: queue topology, worker, backstop, admin servicer and its loops (the
worker's slots, job reconciliation, queue gauges, the worker announcement)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from vidmesh.common.channels import ServiceCredential, connect
from vidmesh.common.queue_client import close_nats, connect_nats
from vidmesh.common.queue_topology import QueuePolicy, ensure_topology
from vidmesh.common.runtime import Loop, every
from vidmesh.common.server import ServiceBinding
from vidmesh.common.storage import BlobStore
from vidmesh.common.tokens import TokenCodec
from vidmesh.common.video_states import VideoStates
from vidmesh.transcoder import metrics
from vidmesh.transcoder.dead_letters import DeadLetters
from vidmesh.transcoder.reconciler import JobReconciler
from vidmesh.transcoder.servicer import TranscodeAdminServicer
from vidmesh.transcoder.settings import TranscoderSettings
from vidmesh.transcoder.worker import Worker
from vidmesh.transcoder.workers import ANNOUNCE_SECONDS, WorkerRegistry
from vidmesh.v1 import transcode_pb2, transcode_pb2_grpc, video_pb2_grpc, video_state_pb2_grpc

# How often the queue gauges are refreshed from JetStream (about a Prometheus scrape interval).
QUEUE_READ_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Transcoder:
    bindings: list[ServiceBinding]
    worker: Worker
    reconciler: JobReconciler
    loops: list[Loop]


@contextlib.asynccontextmanager
async def transcoder(
    settings: TranscoderSettings, *, nats_url: str, store: BlobStore, codec: TokenCodec
) -> AsyncIterator[Transcoder]:
    client = await connect_nats(nats_url, "transcoder")
    channel = connect(settings.gateway_address)
    try:
        js = client.jetstream()
        await ensure_topology(
            js,
            QueuePolicy(attempts=settings.attempts, ack_wait_seconds=settings.ack_wait_seconds),
        )
        settings.work_dir.mkdir(parents=True, exist_ok=True)
        states = VideoStates(
            video_state_pb2_grpc.VideoStateServiceStub(channel),
            ServiceCredential(codec, "transcoder"),
        )
        worker = Worker(client, store, states, settings)
        registry = WorkerRegistry(js)
        admin = TranscodeAdminServicer(
            DeadLetters(js, states),
            video_pb2_grpc.VideoServiceStub(channel),
            store,
            registry,
            js,
        )
        name = transcode_pb2.DESCRIPTOR.services_by_name["TranscodeAdminService"].full_name
        binding = ServiceBinding(
            name,
            lambda server: transcode_pb2_grpc.add_TranscodeAdminServiceServicer_to_server(
                admin, server
            ),
        )
        reconciler = JobReconciler(js, states, settings.stale_seconds)
        loops = [
            Loop("worker", worker.run),
            every(settings.reconcile_seconds, "job reconciliation", reconciler.sweep),
            every(QUEUE_READ_SECONDS, "queue metrics", lambda: metrics.read_queue(js)),
            every(
                ANNOUNCE_SECONDS,
                "worker announcement",
                lambda: registry.announce(
                    worker.activity.status(settings.worker_name, settings.slots)
                ),
            ),
        ]
        yield Transcoder(bindings=[binding], worker=worker, reconciler=reconciler, loops=loops)
    finally:
        await channel.close()
        await close_nats(client)
