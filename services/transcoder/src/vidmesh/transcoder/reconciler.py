"""Finds videos waiting for a transcode whose job is gone from the queue, and queues it again.

Part of the invariant in docs/design-notes.md: a QUEUED or PROCESSING video always has a job in
the TRANSCODE stream (a work queue keeps a job stored until it is acked, so one in flight counts
too). Reports are retried until gateway has them and commits until the queue has them, so a
missing job means something outside the pipeline lost it (a JetStream store wiped or restored
from an old backup, a message deleted by hand). Gateway lists the videos that have not changed
for `stale_seconds`; for each without a stored task the generation's plan task is published
again, deduplicated per stale period so several transcoders reconciling at once publish it
once. A re-run plan is answered with the tasks still missing (gateway keeps the first plan), so
this restarts exactly what was lost.
"""

from __future__ import annotations

import logging
import time

from nats.js import JetStreamContext

from vidmesh.common.layout import source_key
from vidmesh.common.queue_topology import has_job, publish_job
from vidmesh.common.transcode_tasks import plan_job
from vidmesh.common.video_states import VideoStates

_log = logging.getLogger(__name__)


class JobReconciler:
    def __init__(self, js: JetStreamContext, states: VideoStates, stale_seconds: float) -> None:
        self._js = js
        self._states = states
        self._stale = stale_seconds

    async def sweep(self) -> list[str]:
        """Queue again the jobs of stalled videos that have none; returns their video ids."""
        requeued = []
        for video in await self._states.stalled(self._stale):
            if await has_job(self._js, video.video_id):
                continue
            job = plan_job(
                video.video_id,
                video.generation,
                source_key=source_key(video.video_id),
                owner_id=video.owner_id,
            )
            period = int(time.time() // max(self._stale, 1.0))
            await publish_job(self._js, job, message_id=f"{video.job_id}:reconciled-{period}")
            _log.warning(
                "job missing from the queue; queued again",
                extra={"video_id": video.video_id, "job_id": video.job_id},
            )
            requeued.append(video.video_id)
        return requeued
