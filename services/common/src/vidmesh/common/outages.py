"""Dependency outages told apart from bugs, and a NATS connection that rides them out.

A lost database connection, a restarting PostgreSQL, or NATS being away are expected events in a
mesh: the caller should see UNAVAILABLE with a retry hint (HTTP 503 with `Retry-After` through
Envoy), and the log should carry one line saying what is away, not a traceback per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from vidmesh.common.errors import ServiceError, Unavailable

_log = logging.getLogger("vidmesh.outages")
T = TypeVar("T")

RETRY_AFTER_SECONDS = 2.0


def as_outage(error: BaseException) -> Unavailable | None:
    """UNAVAILABLE for an error that means "a dependency is away", else None (a bug).

    Each client library is an optional extra of vidmesh-common (`database`, `queue`): a service
    without one cannot raise its errors, so only the installed ones are asked.
    """
    for classify in _installed_classifiers():
        outage = classify(error)
        if outage is not None:
            return outage
    return None


@functools.cache
def _installed_classifiers() -> tuple[Callable[[BaseException], Unavailable | None], ...]:
    found: list[Callable[[BaseException], Unavailable | None]] = []
    with contextlib.suppress(ImportError):
        from vidmesh.common.database import database_outage

        found.append(database_outage)
    with contextlib.suppress(ImportError):
        from vidmesh.common.queue_client import queue_outage

        found.append(queue_outage)
    return tuple(found)


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
