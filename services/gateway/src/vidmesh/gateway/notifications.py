"""Video change notifications over PostgreSQL LISTEN/NOTIFY, fanned out to WatchVideo streams.

Changes are announced with `pg_notify` inside the transaction that makes them, so a watcher
hears of a change exactly when it is committed, whichever gateway replica made it. One listening
connection per process feeds in-process queues; after a reconnect every watcher is woken to
re-read, because notifications sent while disconnected are lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterator

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "vidmesh_video_changed"
_log = logging.getLogger(__name__)


async def announce_change(session: AsyncSession, video_id: uuid.UUID) -> None:
    """Notify watchers of `video_id` when the current transaction commits."""
    await session.execute(
        text("SELECT pg_notify(:channel, :video_id)"),
        {"channel": CHANNEL, "video_id": str(video_id)},
    )


class ChangeHub:
    """Delivers change notifications to the queues of the streams watching each video."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._watchers: dict[str, set[asyncio.Queue[None]]] = defaultdict(set)
        self._listening = asyncio.Event()
        self.closing = asyncio.Event()

    @contextlib.contextmanager
    def subscribe(self, video_id: uuid.UUID) -> Iterator[asyncio.Queue[None]]:
        """A queue that receives an item whenever the video may have changed."""
        key = str(video_id)
        queue: asyncio.Queue[None] = asyncio.Queue(maxsize=1)
        self._watchers[key].add(queue)
        try:
            yield queue
        finally:
            self._watchers[key].discard(queue)
            if not self._watchers[key]:
                del self._watchers[key]

    async def wait_listening(self) -> None:
        await self._listening.wait()

    def _wake(self, key: str | None) -> None:
        targets = (
            [q for queues in self._watchers.values() for q in queues]
            if key is None
            else list(self._watchers.get(key, ()))
        )
        for queue in targets:
            if queue.empty():
                queue.put_nowait(None)

    async def run(self) -> None:
        """Listen until cancelled, reconnecting with backoff when the connection drops."""
        delay = 0.2
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    self._wake(None)
                    delay = 0.2
                    async for notify in conn.notifies():
                        self._wake(notify.payload)
            except psycopg.OperationalError as exc:
                self._listening.clear()
                _log.warning("change listener disconnected; retrying", extra={"error": str(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
