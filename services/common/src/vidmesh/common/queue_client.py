"""The NATS connection every queue user shares: reconnects forever, logs outages as single lines,
and tells "the queue is away" apart from bugs (the `queue` extra of vidmesh-common)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.errors import NoServersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import Error as JetStreamError

from vidmesh.common.errors import Unavailable
from vidmesh.common.outages import RETRY_AFTER_SECONDS

# How long a shutdown lets in-flight publishes and acks drain before closing anyway.
DRAIN_SECONDS = 5.0


def queue_outage(error: BaseException) -> Unavailable | None:
    """UNAVAILABLE for an error that means "NATS is away", else None."""
    if isinstance(error, NatsError | JetStreamError | NatsTimeoutError):
        return Unavailable(
            "QUEUE_UNAVAILABLE",
            "The transcode queue is briefly unavailable; try again.",
            retry_after_seconds=RETRY_AFTER_SECONDS,
        )
    return None


async def connect_nats(url: str, name: str) -> Client:
    """A NATS client that reconnects forever and logs outages as single lines.

    nats-py's default callbacks log a traceback for every failed reconnect; these say what
    happened once per state change.
    """
    logger = logging.getLogger(f"vidmesh.{name}.nats")

    async def on_error(error: Exception) -> None:
        logger.warning("nats: %s", type(error).__name__, extra={"error": str(error)})

    async def on_disconnected() -> None:
        logger.warning("nats: disconnected; reconnecting")

    async def on_reconnected() -> None:
        logger.info("nats: reconnected")

    delay = 0.2
    for _ in range(30):
        try:
            return await nats.connect(
                url,
                name=f"vidmesh-{name}",
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                error_cb=on_error,
                disconnected_cb=on_disconnected,
                reconnected_cb=on_reconnected,
            )
        except (NoServersError, OSError):
            # NATS may still be starting (or restarting) while this service starts.
            logger.warning("nats: not reachable yet; retrying", extra={"url": url})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
    raise Unavailable("QUEUE_UNAVAILABLE", f"NATS at {url} is not reachable.")


async def close_nats(client: Client) -> None:
    """Drain and close `client` whatever its state (connected, reconnecting or closed).

    nats-py's `drain()` raises while the client is reconnecting (ARCHITECTURE §6), and a
    shutdown must complete then too: fall back to `close()`.
    """
    if client.is_closed:
        return
    try:
        await asyncio.wait_for(client.drain(), DRAIN_SECONDS)
    except (TimeoutError, NatsError):
        with contextlib.suppress(Exception):
            await client.close()
