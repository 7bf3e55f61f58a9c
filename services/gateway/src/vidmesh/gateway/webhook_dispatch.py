"""Sends the webhook outbox: every due delivery is POSTed, signed per Standard Webhooks, and
settled by its answer: 2xx delivered; anything else (an error status, a refused connection, a
timeout, a destination that has become internal) is retried on the schedule below until 24
hours after the event, then failed. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so several
gateways share the work and no delivery is sent twice at once; a gateway killed mid-send leaves
its rows due, and they are sent again (receivers deduplicate on `webhook-id`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks.webhooks import Webhook

from vidmesh.common.errors import InvalidArgument
from vidmesh.gateway.models import WebhookDelivery, WebhookEndpoint
from vidmesh.gateway.webhooks import DELIVERED, FAILED, PENDING, check_destination

_log = logging.getLogger(__name__)

# Standard Webhooks' suggested schedule: after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
GIVE_UP = timedelta(hours=24)
BATCH = 20


class WebhookDispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        allow_private: bool,
        allowed_hosts: tuple[str, ...] = (),
        schedule: Sequence[float] = SCHEDULE,
        timeout_seconds: float = 10.0,
    ) -> None:
        self._sessions = sessions
        self._allow_private = allow_private
        self._allowed_hosts = allowed_hosts
        self._schedule = tuple(schedule)
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def send_due(self) -> None:
        """Send what is due now, in batches, until nothing is."""
        async with aiohttp.ClientSession(timeout=self._timeout) as client:
            while await self._batch(client):
                pass

    async def _batch(self, client: aiohttp.ClientSession) -> int:
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            due = list(
                (
                    await session.execute(
                        select(WebhookDelivery, WebhookEndpoint)
                        .join(WebhookEndpoint, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
                        .where(WebhookDelivery.status == PENDING)
                        .where(WebhookDelivery.next_attempt_at <= now)
                        .order_by(WebhookDelivery.next_attempt_at)
                        .limit(BATCH)
                        .with_for_update(of=WebhookDelivery, skip_locked=True)
                    )
                ).all()
            )
            results = await asyncio.gather(
                *(self._attempt(client, delivery, endpoint) for delivery, endpoint in due)
            )
            for (delivery, _), (code, latency, error) in zip(due, results, strict=True):
                self._settle(delivery, code, latency, error)
        return len(due)

    async def _attempt(
        self, client: aiohttp.ClientSession, delivery: WebhookDelivery, endpoint: WebhookEndpoint
    ) -> tuple[int, float, str]:
        """(HTTP status or 0, milliseconds, error) of one POST."""
        started = time.monotonic()
        try:
            await check_destination(
                endpoint.url, allow_private=self._allow_private, allowed_hosts=self._allowed_hosts
            )
            sent_at = datetime.now(UTC)
            signature = Webhook(endpoint.secret).sign(delivery.id, sent_at, delivery.payload)
            headers = {
                "content-type": "application/json",
                "webhook-id": delivery.id,
                "webhook-timestamp": str(int(sent_at.timestamp())),
                "webhook-signature": signature,
                "user-agent": "Vidmesh-Webhooks/1",
            }
            async with client.post(
                endpoint.url, data=delivery.payload.encode(), headers=headers, allow_redirects=False
            ) as response:
                await response.read()
                error = "" if 200 <= response.status < 300 else f"HTTP {response.status}"
                return response.status, (time.monotonic() - started) * 1000, error
        except InvalidArgument as refused:
            return 0, (time.monotonic() - started) * 1000, refused.message
        except (aiohttp.ClientError, TimeoutError, OSError) as failure:
            return 0, (time.monotonic() - started) * 1000, type(failure).__name__

    def _settle(self, delivery: WebhookDelivery, code: int, latency: float, error: str) -> None:
        now = datetime.now(UTC)
        delivery.attempts += 1
        delivery.last_status_code = code
        delivery.last_latency_ms = latency
        delivery.last_error = error[:500]
        if not error:
            delivery.status = DELIVERED
            delivery.next_attempt_at = None
            return
        step = self._schedule[min(delivery.attempts - 1, len(self._schedule) - 1)]
        retry_at = now + timedelta(seconds=step)
        if retry_at - delivery.created_at > GIVE_UP:
            delivery.status = FAILED
            delivery.next_attempt_at = None
            _log.warning(
                "webhook delivery failed for good",
                extra={"delivery_id": delivery.id, "attempts": delivery.attempts, "error": error},
            )
            return
        delivery.next_attempt_at = retry_at
