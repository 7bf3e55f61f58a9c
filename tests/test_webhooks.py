"""Signed webhooks on a real gateway and PostgreSQL, to a receiver in the test: Standard Webhooks
signatures verify, failures are retried with the same id, nothing is lost while the receiver is
down, and internal destinations are refused unless allowed."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from aiohttp import web
from harness import Account, GatewayFactory, GatewayHarness, eventually, expect_error
from standardwebhooks.webhooks import Webhook

from vidmesh.devstack.process import free_port
from vidmesh.v1 import video_pb2, webhook_pb2, webhook_pb2_grpc

Code = grpc.StatusCode
Status = webhook_pb2.WebhookDelivery.Status
FAST = {"webhook_allow_private": True, "webhook_retry_seconds": "0.2", "webhook_poll_seconds": 0.05}


@dataclass
class Receiver:
    """An HTTP endpoint that answers with the planned statuses (then 200) and keeps what came."""

    port: int
    plan: list[int] = field(default_factory=list)
    seen: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append((dict(request.headers), await request.read()))
        return web.Response(status=self.plan.pop(0) if self.plan else 200)

    def events(self, secret: str) -> list[dict[str, Any]]:
        """Every body, after checking its signature as a receiver would."""
        verifier = Webhook(secret)
        return [verifier.verify(body, headers) for headers, body in self.seen]


@contextlib.asynccontextmanager
async def serving(receiver: Receiver) -> AsyncIterator[Receiver]:
    app = web.Application()
    app.router.add_post("/hooks", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", receiver.port).start()
    try:
        yield receiver
    finally:
        await runner.cleanup()


def hooks(gw: GatewayHarness) -> webhook_pb2_grpc.WebhookServiceAsyncStub:
    return webhook_pb2_grpc.WebhookServiceStub(gw.channel)


async def register(
    gw: GatewayHarness, owner: Account, url: str, *events: str
) -> webhook_pb2.CreateWebhookResponse:
    return await hooks(gw).CreateWebhook(
        webhook_pb2.CreateWebhookRequest(webhook=webhook_pb2.Webhook(url=url, events=events)),
        metadata=owner.metadata,
    )


async def deliveries(
    gw: GatewayHarness, owner: Account, webhook_id: str
) -> list[webhook_pb2.WebhookDelivery]:
    answer = await hooks(gw).ListWebhookDeliveries(
        webhook_pb2.ListWebhookDeliveriesRequest(webhook_id=webhook_id), metadata=owner.metadata
    )
    return list(answer.deliveries)


async def test_signed_events_arrive_and_failures_are_retried_with_the_same_id(
    gateway_factory: GatewayFactory,
) -> None:
    gw: GatewayHarness = await gateway_factory(**FAST)
    owner = await gw.register()
    async with serving(Receiver(free_port(), plan=[500, 500])) as receiver:
        made = await register(gw, owner, receiver.url)
        assert made.secret.startswith("whsec_")
        video = await gw.create_video(owner, title="Hooked")
        await gw.make_ready(video.video_id)

        async def both_delivered() -> bool:
            found = await deliveries(gw, owner, made.webhook.webhook_id)
            return len(found) == 2 and all(d.status == Status.STATUS_DELIVERED for d in found)

        await eventually(both_delivered, what="playable and ready delivered")
        events = receiver.events(made.secret)
        kinds = [event["type"] for event in events]
        assert sorted(set(kinds)) == ["video.playable", "video.ready"]
        assert all(event["data"]["video_id"] == video.video_id for event in events)
        ids = [headers["webhook-id"] for headers, _ in receiver.seen]
        assert len(ids) == 4, "two 500s: two retries, each with its id"
        assert len(set(ids)) == 2, "two 500s: two retries, each with its id"
        settled = await deliveries(gw, owner, made.webhook.webhook_id)
        assert sum(d.attempts for d in settled) == 4
        assert all(d.last_status_code == 200 and not d.last_error for d in settled)
        first = settled[0]

        await gw.videos.DeleteVideo(
            video_pb2.DeleteVideoRequest(video_id=video.video_id), metadata=owner.metadata
        )

        async def deleted() -> bool:
            return "video.deleted" in [e["type"] for e in receiver.events(made.secret)]

        await eventually(deleted, what="the deletion was announced")
        with pytest.raises(Exception, match="signature"):
            Webhook(made.secret).verify(b'{"type":"forged"}', receiver.seen[0][0])

        retried = await hooks(gw).RetryWebhookDelivery(
            webhook_pb2.RetryWebhookDeliveryRequest(
                webhook_id=made.webhook.webhook_id, delivery_id=first.delivery_id
            ),
            metadata=owner.metadata,
        )
        assert retried.delivery.status == Status.STATUS_PENDING
        count = sum(1 for headers, _ in receiver.seen if headers["webhook-id"] == first.delivery_id)

        async def replayed() -> bool:
            seen = [h for h, _ in receiver.seen if h["webhook-id"] == first.delivery_id]
            return len(seen) == count + 1

        await eventually(replayed, what="the replay arrived")


async def test_nothing_is_lost_while_the_receiver_is_down(gateway_factory: GatewayFactory) -> None:
    gw: GatewayHarness = await gateway_factory(**FAST)
    owner = await gw.register()
    receiver = Receiver(free_port())
    made = await register(gw, owner, receiver.url, "video.ready", "video.failed")
    videos = [await gw.create_video(owner, title=f"Batch {n}") for n in range(3)]
    for video in videos:
        await gw.make_ready(video.video_id)

    async def retried_while_down() -> bool:
        found = await deliveries(gw, owner, made.webhook.webhook_id)
        return len(found) == 3 and all(d.attempts >= 2 for d in found)

    await eventually(retried_while_down, what="attempts failed while the receiver was down")
    down = await deliveries(gw, owner, made.webhook.webhook_id)
    assert all(d.status == Status.STATUS_PENDING and d.last_status_code == 0 for d in down)
    assert all(d.last_error for d in down)

    async with serving(receiver):

        async def all_delivered() -> bool:
            found = await deliveries(gw, owner, made.webhook.webhook_id)
            return all(d.status == Status.STATUS_DELIVERED for d in found)

        await eventually(all_delivered, what="every event delivered once the receiver was up")
    events = receiver.events(made.secret)
    assert sorted(e["data"]["title"] for e in events) == ["Batch 0", "Batch 1", "Batch 2"]
    assert {e["type"] for e in events} == {"video.ready"}, "only the events it asked for"
    assert json.loads(receiver.seen[0][1])["timestamp"]


async def test_bad_endpoints_are_refused_and_internal_ones_need_the_operator(
    gw: GatewayHarness,
) -> None:
    owner, other = await gw.register(), await gw.register()
    for url, reason in (
        ("http://127.0.0.1:9/hooks", "PRIVATE_ADDRESS"),
        ("http://10.1.2.3/hooks", "PRIVATE_ADDRESS"),
        ("http://169.254.169.254/latest/meta-data", "PRIVATE_ADDRESS"),
        ("http://[::1]:8080/", "PRIVATE_ADDRESS"),
        ("ftp://example.com/hooks", "INVALID_URL"),
        ("https://user:pass@example.com/", "INVALID_URL"),
        ("not a url", "INVALID_URL"),
    ):
        await expect_error(register(gw, owner, url), Code.INVALID_ARGUMENT, reason)
    await expect_error(
        register(gw, owner, "https://example.com/", "video.exploded"),
        Code.INVALID_ARGUMENT,
        "INVALID_EVENT",
    )
    await expect_error(
        hooks(gw).ListWebhookDeliveries(
            webhook_pb2.ListWebhookDeliveriesRequest(
                webhook_id="00000000-0000-4000-8000-000000000000"
            ),
            metadata=other.metadata,
        ),
        Code.NOT_FOUND,
        "WEBHOOK_NOT_FOUND",
    )
    await expect_error(
        hooks(gw).ListWebhooks(webhook_pb2.ListWebhooksRequest()), Code.UNAUTHENTICATED
    )


async def test_an_operator_allow_list_limits_destinations(gateway_factory: GatewayFactory) -> None:
    gw: GatewayHarness = await gateway_factory(
        webhook_allow_private=True, webhook_allowed_hosts="hooks.example.com,.internal.test"
    )
    owner = await gw.register()
    await expect_error(
        register(gw, owner, "http://127.0.0.1:9/hooks"), Code.INVALID_ARGUMENT, "HOST_NOT_ALLOWED"
    )
    await expect_error(
        register(gw, owner, "https://evil.example.com/"), Code.INVALID_ARGUMENT, "HOST_NOT_ALLOWED"
    )
    await expect_error(
        register(gw, owner, "https://hooks.example.com.evil.test/"),
        Code.INVALID_ARGUMENT,
        "HOST_NOT_ALLOWED",
    )
