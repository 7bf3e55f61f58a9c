"""Gateway's record of a video as playback needs it (its ladder's prefix, its live generation,
its download settings), or None when there is nothing to serve."""

from __future__ import annotations

from vidmesh.common.channels import ServiceCredential, remote_errors
from vidmesh.common.errors import FailedPrecondition, InvalidArgument, NotFound
from vidmesh.v1 import video_state_pb2, video_state_pb2_grpc


async def playback_source(
    states: video_state_pb2_grpc.VideoStateServiceAsyncStub,
    credential: ServiceCredential,
    video_id: str,
    clip_id: str = "",
) -> video_state_pb2.GetPlaybackSourceResponse | None:
    """None for a video that is gone or has nothing playable, or a clip that is not the
    video's (the caller answers 404)."""
    try:
        with remote_errors():
            return await states.GetPlaybackSource(
                video_state_pb2.GetPlaybackSourceRequest(video_id=video_id, clip_id=clip_id),
                metadata=credential.metadata(),
            )
    except (NotFound, FailedPrecondition, InvalidArgument):
        return None
