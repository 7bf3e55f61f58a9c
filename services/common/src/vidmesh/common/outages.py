"""Dependency outages told apart from bugs, and a NATS connection that rides them out.

A lost database connection, a restarting PostgreSQL, or NATS being away are expected events in a
mesh: the caller should see UNAVAILABLE with a retry hint (HTTP 503 with `Retry-After` through
Envoy), and the log should carry one line saying what is away, not a traceback per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import nats
import psycopg
import psycopg.errors
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.errors import NoServersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import Error as JetStreamError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from vidmesh.common.errors import ServiceError, Unavailable

_log = logging.getLogger("vidmesh.outages")
T = TypeVar("T")

RETRY_AFTER_SECONDS = 2.0


def as_outage(error: BaseException) -> Unavailable | None:
    """UNAVAILABLE for an error that means "a dependency is away", else None (a bug)."""
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout):
        return Unavailable(
            "DATABASE_UNAVAILABLE",
            "The database is briefly unavailable; try again.",
            retry_after_seconds=RETRY_AFTER_SECONDS,
        )
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return Unavailable(
            "DATABASE_UNAVAILABLE",
            "The database connection was lost; try again.",
            retry_after_seconds=RETRY_AFTER_SECONDS,
        )
    # During a failover the old primary may answer as a read-only standby for a moment.
    cause = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(cause, psycopg.errors.ReadOnlySqlTransaction):
        return Unavailable(
            "DATABASE_UNAVAILABLE",
            "The database is failing over; try again.",
            retry_after_seconds=RETRY_AFTER_SECONDS,
        )
    if isinstance(error, psycopg.OperationalError):
        return Unavailable(
            "DATABASE_UNAVAILABLE",
            "The database is briefly unavailable; try again.",
            retry_after_seconds=RETRY_AFTER_SECONDS,
        )
    if isinstance(error, NatsError | JetStreamError | NatsTimeoutError):
        return Unavailable(
            "QUEUE_UNAVAILABLE",
            "The transcode queue is briefly unavailable; try again.",
            retry_after_seconds=RETRY_AFTER_SECONDS,
        )
    return None


@contextlib.contextmanager
def outages_as_unavailable() -> Iterator[None]:
    """Re-raise an error that means "a dependency is away" as UNAVAILABLE (`as_outage`); any
    other error passes unchanged, as the bug it is."""
    try:
        yield
    except Exception as error:
        outage = as_outage(error)
        if outage is None:
            raise
        raise outage from None


async def until_acknowledged(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    first_delay: float = 0.2,
    max_delay: float = 5.0,
    deadline: float | None = None,
) -> T:
    """Repeat `call` while it fails with UNAVAILABLE, backing off; other errors pass through.

    Reports to gateway must not be lost to a short outage. `deadline` (seconds) bounds the
    wait for callers that have somewhere durable to fall back to; without it the wait lasts
    until the call succeeds or the task is cancelled (shutdown).
    """
    loop = asyncio.get_running_loop()
    give_up = None if deadline is None else loop.time() + deadline
    delay = first_delay
    warned = False
    while True:
        try:
            return await call()
        except ServiceError as error:
            if not isinstance(error, Unavailable):
                raise
            if give_up is not None and loop.time() + delay > give_up:
                raise
            if not warned:
                _log.warning(
                    "%s: dependency unavailable; retrying", what, extra={"reason": error.reason}
                )
                warned = True
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)


async def periodically(
    step: Callable[[], Awaitable[object]], every: float, what: str, stop: asyncio.Event
) -> None:
    """Run `step` now and then every `every` seconds until `stop` is set (a background loop).

    A step that fails because a dependency is away is only postponed to the next round, with
    one warning line; any other error is a bug, logged with its traceback, and the loop goes on
    (a background loop that died silently would leave its work undone).
    """
    log = logging.getLogger(f"vidmesh.{what.replace(' ', '_')}")
    while not stop.is_set():
        try:
            await step()
        except ServiceError as error:
            log.warning("%s postponed", what, extra={"reason": error.reason})
        except Exception as error:
            outage = as_outage(error)
            if outage is None:
                log.exception("%s failed", what)
            else:
                log.warning("%s postponed", what, extra={"reason": outage.reason})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


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


async def close_nats(client: Client, timeout: float = 5.0) -> None:
    """Drain and close `client` whatever its state (connected, reconnecting or closed).

    nats-py's `drain()` raises while the client is reconnecting (ARCHITECTURE §6), and a
    shutdown must complete then too: fall back to `close()`.
    """
    if client.is_closed:
        return
    try:
        await asyncio.wait_for(client.drain(), timeout)
    except (TimeoutError, NatsError):
        with contextlib.suppress(Exception):
            await client.close()
