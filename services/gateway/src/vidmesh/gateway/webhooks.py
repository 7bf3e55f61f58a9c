"""Webhook endpoints and the events they receive (WebhookService), and the outbox the events
are written to: `enqueue` runs inside the transaction of the change an event reports, so an
event exists exactly when its change was committed, whatever crashes or outages follow. The
dispatcher (webhook_dispatch.py) sends them.

SSRF: an endpoint is an http(s) URL whose host must not resolve to a loopback, private,
link-local, multicast or reserved address unless the operator allows private destinations
(`VIDMESH_GATEWAY_WEBHOOK_ALLOW_PRIVATE`, for on-premise receivers). The check runs when the
endpoint is registered and again before every attempt (a name may be re-pointed later).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import secrets
import socket
import urllib.parse
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vidmesh.common.errors import InvalidArgument, NotFound, ResourceExhausted
from vidmesh.common.tokens import Principal
from vidmesh.common.validation import parse_uuid
from vidmesh.gateway.convert import duration, timestamp
from vidmesh.gateway.models import Video, WebhookDelivery, WebhookEndpoint
from vidmesh.v1 import webhook_pb2

EVENTS = ("video.playable", "video.ready", "video.failed", "video.deleted")
MAX_ENDPOINTS = 20
URL_MAX = 2000
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
_STATUSES = {
    PENDING: webhook_pb2.WebhookDelivery.STATUS_PENDING,
    DELIVERED: webhook_pb2.WebhookDelivery.STATUS_DELIVERED,
    FAILED: webhook_pb2.WebhookDelivery.STATUS_FAILED,
}


def webhook_not_found() -> NotFound:
    return NotFound("WEBHOOK_NOT_FOUND", "No such webhook of yours.")


def _url_error(message: str) -> InvalidArgument:
    return InvalidArgument("INVALID_URL", message, field="webhook.url")


def check_url(url: str) -> urllib.parse.SplitResult:
    if len(url) > URL_MAX:
        raise _url_error(f"Webhook URLs are {URL_MAX} characters at most.")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _url_error("A webhook URL is http:// or https:// with a host.")
    if parts.username or parts.password:
        raise _url_error("Put credentials in the signature, not in the URL.")
    return parts


def allowed_host(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether `host` is one of the operator's allowed destinations (a name, or any name under
    a `.suffix`); every host when the operator set none."""
    host = host.lower().rstrip(".")
    return not allowed or any(
        host == entry or (entry.startswith(".") and host.endswith(entry)) for entry in allowed
    )


async def check_destination(
    url: str, *, allow_private: bool, allowed_hosts: tuple[str, ...] = ()
) -> None:
    """Refuse a URL outside the operator's allow-list, or whose host resolves to an internal
    address (unless private destinations are allowed)."""
    parts = check_url(url)
    host = parts.hostname or ""
    if not allowed_host(host, allowed_hosts):
        raise InvalidArgument(
            "HOST_NOT_ALLOWED",
            f"Webhooks may go only to the hosts the operator allows; {host} is not one.",
            field="webhook.url",
        )
    if allow_private:
        return
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except OSError:
        raise _url_error(f"{host} does not resolve.") from None
    for *_, address in found:
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global or ip.is_multicast:
            raise InvalidArgument(
                "PRIVATE_ADDRESS",
                f"{host} resolves to an internal address ({ip}); the operator has not allowed "
                "private destinations.",
                field="webhook.url",
            )


def webhook_to_proto(endpoint: WebhookEndpoint) -> webhook_pb2.Webhook:
    return webhook_pb2.Webhook(
        webhook_id=str(endpoint.id),
        url=endpoint.url,
        events=endpoint.events,
        create_time=timestamp(endpoint.created_at),
    )


def delivery_to_proto(delivery: WebhookDelivery) -> webhook_pb2.WebhookDelivery:
    return webhook_pb2.WebhookDelivery(
        delivery_id=delivery.id,
        event_type=delivery.event_type,
        status=_STATUSES[delivery.status],
        attempts=delivery.attempts,
        last_status_code=delivery.last_status_code,
        last_latency=duration(delivery.last_latency_ms / 1000),
        last_error=delivery.last_error,
        create_time=timestamp(delivery.created_at),
        next_attempt_time=timestamp(delivery.next_attempt_at)
        if delivery.status == PENDING
        else None,
        payload=delivery.payload,
    )


async def enqueue(session: AsyncSession, video: Video, event: str) -> None:
    """Write `event` about `video` for every endpoint of its owner that wants it (in the
    caller's transaction: the outbox)."""
    endpoints = (
        await session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.owner_id == video.owner_id)
        )
    ).all()
    wanted = [e for e in endpoints if not e.events or event in e.events]
    if not wanted:
        return
    now = datetime.now(UTC)
    data: dict[str, Any] = {
        "video_id": str(video.id),
        "title": video.title,
        "state": video.state.value,
        "visibility": video.visibility.value,
    }
    if event == "video.failed":
        data["failure"] = {"reason": video.failure_reason, "message": video.failure_message}
    payload = json.dumps(
        {"type": event, "timestamp": now.isoformat(), "data": data}, separators=(",", ":")
    )
    for endpoint in wanted:
        session.add(
            WebhookDelivery(
                id=f"msg_{uuid.uuid4().hex}",
                endpoint_id=endpoint.id,
                event_type=event,
                payload=payload,
                status=PENDING,
                attempts=0,
                last_status_code=0,
                last_latency_ms=0.0,
                last_error="",
                created_at=now,
                next_attempt_at=now,
            )
        )


class Webhooks:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        allow_private: bool,
        allowed_hosts: tuple[str, ...] = (),
    ) -> None:
        self._sessions = sessions
        self._allow_private = allow_private
        self._allowed_hosts = allowed_hosts

    async def create(
        self, wanted: webhook_pb2.Webhook, principal: Principal
    ) -> tuple[webhook_pb2.Webhook, str]:
        if not wanted.url:
            raise InvalidArgument("FIELD_REQUIRED", "'url' is required.", field="webhook.url")
        unknown = [e for e in wanted.events if e not in EVENTS]
        if unknown:
            raise InvalidArgument(
                "INVALID_EVENT",
                f"Unknown events {', '.join(unknown)}; choose from {', '.join(EVENTS)}.",
                field="webhook.events",
            )
        await check_destination(
            wanted.url, allow_private=self._allow_private, allowed_hosts=self._allowed_hosts
        )
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        owner = uuid.UUID(principal.subject)
        async with self._sessions.begin() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(WebhookEndpoint)
                .where(WebhookEndpoint.owner_id == owner)
            )
            if (count or 0) >= MAX_ENDPOINTS:
                raise ResourceExhausted(
                    "TOO_MANY_WEBHOOKS", f"A user has {MAX_ENDPOINTS} webhooks at most."
                )
            endpoint = WebhookEndpoint(
                id=uuid.uuid4(),
                owner_id=owner,
                url=wanted.url,
                events=list(dict.fromkeys(wanted.events)),
                secret=secret,
                created_at=datetime.now(UTC),
            )
            session.add(endpoint)
        return webhook_to_proto(endpoint), secret

    async def endpoints(self, principal: Principal) -> list[webhook_pb2.Webhook]:
        async with self._sessions() as session:
            found = await session.scalars(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.owner_id == uuid.UUID(principal.subject))
                .order_by(WebhookEndpoint.created_at)
            )
            return [webhook_to_proto(endpoint) for endpoint in found]

    async def _owned(
        self, session: AsyncSession, webhook_id: str, principal: Principal
    ) -> WebhookEndpoint:
        key = parse_uuid(webhook_id, "webhook_id", "INVALID_WEBHOOK_ID")
        endpoint = await session.get(WebhookEndpoint, key)
        if endpoint is None or str(endpoint.owner_id) != principal.subject:
            raise webhook_not_found()
        return endpoint

    async def delete(self, webhook_id: str, principal: Principal) -> None:
        async with self._sessions.begin() as session:
            await session.delete(await self._owned(session, webhook_id, principal))

    async def deliveries(
        self, webhook_id: str, principal: Principal
    ) -> list[webhook_pb2.WebhookDelivery]:
        async with self._sessions() as session:
            endpoint = await self._owned(session, webhook_id, principal)
            found = await session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.endpoint_id == endpoint.id)
                .order_by(WebhookDelivery.created_at.desc())
                .limit(100)
            )
            return [delivery_to_proto(delivery) for delivery in found]

    async def retry(
        self, webhook_id: str, delivery_id: str, principal: Principal
    ) -> webhook_pb2.WebhookDelivery:
        async with self._sessions.begin() as session:
            endpoint = await self._owned(session, webhook_id, principal)
            delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
            if delivery is None or delivery.endpoint_id != endpoint.id:
                raise NotFound("DELIVERY_NOT_FOUND", "No such delivery of this webhook.")
            delivery.status = PENDING
            delivery.next_attempt_at = datetime.now(UTC)
            return delivery_to_proto(delivery)
