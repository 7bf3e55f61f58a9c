"""Translations between gateway's models and the vidmesh.v1 messages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2

from vidmesh.common.errors import InvalidArgument
from vidmesh.gateway.accounts import SignedIn
from vidmesh.gateway.lifecycle import is_playable
from vidmesh.gateway.models import User, UserRole, Video, VideoState, Visibility
from vidmesh.v1 import auth_pb2, video_pb2

_STATES: dict[VideoState, video_pb2.Video.State.ValueType] = {
    VideoState.UPLOADING: video_pb2.Video.STATE_UPLOADING,
    VideoState.QUEUED: video_pb2.Video.STATE_QUEUED,
    VideoState.PROCESSING: video_pb2.Video.STATE_PROCESSING,
    VideoState.READY: video_pb2.Video.STATE_READY,
    VideoState.FAILED: video_pb2.Video.STATE_FAILED,
}
_STATES_BACK = {value: key for key, value in _STATES.items()}

_VISIBILITIES: dict[Visibility, video_pb2.Visibility.ValueType] = {
    Visibility.PUBLIC: video_pb2.VISIBILITY_PUBLIC,
    Visibility.UNLISTED: video_pb2.VISIBILITY_UNLISTED,
    Visibility.PRIVATE: video_pb2.VISIBILITY_PRIVATE,
}
_VISIBILITIES_BACK = {value: key for key, value in _VISIBILITIES.items()}


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def duration(seconds: float | None) -> duration_pb2.Duration | None:
    if seconds is None:
        return None
    result = duration_pb2.Duration()
    result.FromNanoseconds(round(seconds * 1e9))
    return result


def seconds(value: duration_pb2.Duration, present: bool) -> float | None:
    return value.ToNanoseconds() / 1e9 if present else None


def state_to_proto(value: VideoState) -> video_pb2.Video.State.ValueType:
    return _STATES[value]


def state_from_proto(value: video_pb2.Video.State.ValueType) -> VideoState | None:
    return _STATES_BACK.get(value)


def visibility_from_proto(
    value: video_pb2.Visibility.ValueType, *, default: Visibility | None
) -> Visibility | None:
    if value == video_pb2.VISIBILITY_UNSPECIFIED:
        return default
    if value not in _VISIBILITIES_BACK:
        raise InvalidArgument(
            "INVALID_VISIBILITY", "'visibility' is not a known value.", field="visibility"
        )
    return _VISIBILITIES_BACK[value]


def user_to_proto(user: User) -> auth_pb2.User:
    return auth_pb2.User(
        user_id=str(user.id),
        email=user.email,
        display_name=user.display_name,
        role=auth_pb2.User.ROLE_ADMIN if user.role is UserRole.ADMIN else auth_pb2.User.ROLE_USER,
        create_time=timestamp(user.created_at),
    )


def credentials_to_proto(signed_in: SignedIn) -> auth_pb2.Credentials:
    return auth_pb2.Credentials(
        access_token=signed_in.access.token,
        access_token_expire_time=timestamp(signed_in.access.expire_time),
        refresh_token=signed_in.refresh_token,
        refresh_token_expire_time=timestamp(signed_in.refresh_expire_time),
        token_type="Bearer",
    )


def rendition_to_proto(item: dict[str, Any]) -> video_pb2.Rendition:
    return video_pb2.Rendition(
        name=str(item.get("name", "")),
        width=int(item.get("width", 0)),
        height=int(item.get("height", 0)),
        bandwidth=int(item.get("bandwidth", 0)),
        average_bandwidth=int(item.get("average_bandwidth", 0)),
        codecs=str(item.get("codecs", "")),
        frame_rate=float(item.get("frame_rate", 0.0)),
    )


def rendition_from_proto(rendition: video_pb2.Rendition) -> dict[str, Any]:
    return {
        "name": rendition.name,
        "width": rendition.width,
        "height": rendition.height,
        "bandwidth": rendition.bandwidth,
        "average_bandwidth": rendition.average_bandwidth,
        "codecs": rendition.codecs,
        "frame_rate": rendition.frame_rate,
    }


def estimated_remaining(video: Video, now: datetime) -> float | None:
    """Seconds until READY at the speed this generation has kept so far (all workers
    together), or None before its first chunk is done."""
    if video.state is not VideoState.PROCESSING or video.processing_started_at is None:
        return None
    if video.seconds_done <= 0 or not video.duration_seconds:
        return None
    elapsed = (now - video.processing_started_at).total_seconds()
    left = max(video.duration_seconds - video.seconds_done, 0.0)
    return left * elapsed / video.seconds_done


def transcode_to_proto(video: Video, queue_position: int) -> video_pb2.Video.Transcode | None:
    if video.state not in (VideoState.QUEUED, VideoState.PROCESSING):
        return None
    return video_pb2.Video.Transcode(
        chunks_done=video.chunks_done,
        chunks_total=video.chunks_total,
        queue_position=queue_position if video.state is VideoState.QUEUED else 0,
        estimated_time_remaining=duration(estimated_remaining(video, datetime.now(UTC))),
        generation=video.generation,
    )


_RUNG_NAME = re.compile(r"^[a-z0-9]{1,16}$")
MAX_DOWNLOAD_RENDITIONS = 12


def downloads_to_proto(stored: dict[str, Any] | None) -> video_pb2.DownloadSettings:
    stored = stored or {}
    return video_pb2.DownloadSettings(
        enabled=bool(stored.get("enabled")),
        renditions=[str(name) for name in stored.get("renditions", [])],
        audio=bool(stored.get("audio")),
    )


def downloads_from_proto(settings: video_pb2.DownloadSettings) -> dict[str, Any]:
    """The settings as stored; rung names are checked for shape (not against the ladder,
    which a re-transcode may change: a name with no rung offers nothing)."""
    names = list(dict.fromkeys(settings.renditions))
    if len(names) > MAX_DOWNLOAD_RENDITIONS or not all(_RUNG_NAME.match(n) for n in names):
        raise InvalidArgument(
            "INVALID_RENDITION",
            "'downloads.renditions' names rungs such as 720p (at most 12).",
            field="video.downloads.renditions",
        )
    return {"enabled": settings.enabled, "renditions": names, "audio": settings.audio}


def video_to_proto(video: Video, *, queue_position: int = 0) -> video_pb2.Video:
    message = video_pb2.Video(
        video_id=str(video.id),
        owner_id=str(video.owner_id),
        title=video.title,
        description=video.description,
        visibility=_VISIBILITIES[video.visibility],
        state=_STATES[video.state],
        progress_percent=video.progress_percent,
        duration=duration(video.duration_seconds),
        width=video.width or 0,
        height=video.height or 0,
        renditions=[rendition_to_proto(item) for item in video.renditions],
        create_time=timestamp(video.created_at),
        update_time=timestamp(video.updated_at),
        ready_time=timestamp(video.ready_at),
        source=video_pb2.VideoSource(
            filename=video.source_filename,
            size_bytes=video.source_size_bytes,
            sha256=video.source_sha256 or "",
            container=video.source_container or "",
            codecs=video.source_codecs,
        ),
        transitions=[
            video_pb2.Video.Transition(
                state=_STATES[step.state],
                time=timestamp(step.created_at),
                job_id=step.job_id or "",
                generation=step.generation,
            )
            for step in video.transitions
        ],
        playable=is_playable(video),
        playable_time=timestamp(video.playable_at),
        transcode=transcode_to_proto(video, queue_position),
        downloads=downloads_to_proto(video.downloads),
    )
    if video.failure_reason:
        message.failure.CopyFrom(
            video_pb2.VideoFailure(reason=video.failure_reason, message=video.failure_message or "")
        )
    return message
