"""The transcode queue as JetStream holds it (GetQueue, the queue gauges): per lane, what waits
for a worker and what runs, and which videos those tasks belong to.

The jobs stream has work-queue retention, so a message stays on it until a worker settles it:
the per-subject counts of the stream are each video's waiting plus running tasks.
"""

from __future__ import annotations

from nats.js import JetStreamContext

from vidmesh.common.outages import outages_as_unavailable
from vidmesh.common.transcode_tasks import CONSUMERS, DLQ_STREAM, JOBS_STREAM, LANES, lane_subject
from vidmesh.v1 import transcode_pb2

# Videos listed per lane: enough for a console, bounded however long the queue grows.
MAX_VIDEOS = 50


async def read_queue(js: JetStreamContext) -> transcode_pb2.GetQueueResponse:
    """Both lanes and the dead-letter count; UNAVAILABLE while NATS is away."""
    response = transcode_pb2.GetQueueResponse()
    with outages_as_unavailable():
        for lane in LANES:
            subjects = lane_subject(lane, "*")
            consumer = await js.consumer_info(JOBS_STREAM, CONSUMERS[lane])
            stream = await js.stream_info(JOBS_STREAM, subjects_filter=subjects)
            counts = sorted(
                (
                    (-count, subject.rsplit(".", 1)[-1])
                    for subject, count in (stream.state.subjects or {}).items()
                ),
            )[:MAX_VIDEOS]
            response.lanes.add(
                name=lane,
                subject=subjects,
                pending=consumer.num_pending or 0,
                running=consumer.num_ack_pending or 0,
                redelivered=consumer.num_redelivered or 0,
                videos=[
                    transcode_pb2.QueuedVideo(video_id=video_id, tasks=-count)
                    for count, video_id in counts
                ],
            )
        dead = await js.stream_info(DLQ_STREAM)
        response.dead_letters = dead.state.messages or 0
    return response
