"""Which workers are alive and what each is doing, for ListWorkers and the operator console.

Every worker writes its status to the JetStream key-value bucket `TRANSCODE_WORKERS` under its
own name every few seconds; entries expire after `EXPIRE_SECONDS`, so a worker that died drops
out on its own and no worker needs to know the others. Any transcoder can answer ListWorkers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from google.protobuf import timestamp_pb2
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from nats.js.errors import NoKeysError, NotFoundError
from nats.js.kv import KeyValue

from vidmesh.common.outages import outages_as_unavailable
from vidmesh.v1 import transcode_pb2

BUCKET = "TRANSCODE_WORKERS"
ANNOUNCE_SECONDS = 5.0
EXPIRE_SECONDS = 30.0


def _timestamp(seconds: float) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


@dataclass
class Activity:
    """What this worker is running now (task id → (video id, start)) and has finished."""

    running: dict[str, tuple[str, float]] = field(default_factory=dict)
    completed: int = 0

    def status(self, name: str, slots: int) -> transcode_pb2.TranscodeWorker:
        return transcode_pb2.TranscodeWorker(
            name=name,
            slots=slots,
            running=[
                transcode_pb2.RunningTask(
                    task_id=task_id, video_id=video_id, start_time=_timestamp(started)
                )
                for task_id, (video_id, started) in sorted(self.running.items())
            ],
            tasks_completed=self.completed,
            last_seen_time=_timestamp(time.time()),
        )


class WorkerRegistry:
    def __init__(self, js: JetStreamContext) -> None:
        self._js = js
        self._bucket: KeyValue | None = None

    async def _kv(self) -> KeyValue:
        if self._bucket is None:
            self._bucket = await self._js.create_key_value(
                KeyValueConfig(bucket=BUCKET, ttl=EXPIRE_SECONDS, history=1)
            )
        return self._bucket

    async def announce(self, status: transcode_pb2.TranscodeWorker) -> None:
        with outages_as_unavailable():
            await (await self._kv()).put(status.name, status.SerializeToString())

    async def workers(self) -> list[transcode_pb2.TranscodeWorker]:
        with outages_as_unavailable():
            bucket = await self._kv()
            try:
                names = await bucket.keys()
            except NoKeysError:
                return []
            found = []
            for name in sorted(names):
                try:
                    entry = await bucket.get(name)
                except NotFoundError:
                    continue  # the worker's entry expired between the listing and the read
                if entry.value:
                    found.append(transcode_pb2.TranscodeWorker.FromString(entry.value))
            return found
