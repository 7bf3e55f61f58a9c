"""Bytes in, an HLS ladder out: ingest → JetStream → transcoder → gateway, all real."""

from __future__ import annotations

from pathlib import Path

import pytest
from flows import master_of, media_prefix, upload_and_finish
from harness import IngestHarness
from ladder_checks import check_ladder, ffprobe_json, frame_count, variants
from media import clip

from vidmesh.common.storage import MEDIA, RAW, FileBlobStore
from vidmesh.v1 import video_pb2


def source_channels(path: Path) -> int:
    report = ffprobe_json(path, "-select_streams", "a:0", "-show_streams")["streams"]
    assert isinstance(report, list)
    return int(report[0]["channels"])


SOURCES = {
    "landscape": dict(size="640x360", seconds=9),
    "portrait-rotated": dict(size="640x360", seconds=5, rotate=90),
    "portrait-native": dict(size="360x640", seconds=5),
    "odd-size": dict(size="321x241", seconds=5),
    "no-audio": dict(size="320x240", seconds=5, audio=False),
    "vfr": dict(
        size="320x240", seconds=5, extra=("-vf", "setpts='PTS+0.02*sin(N)/TB'", "-fps_mode", "vfr")
    ),
    "very-short": dict(size="320x240", seconds=0.5),
    "very-small": dict(size="64x48", seconds=3),
    "vp9-opus.webm": dict(
        size="320x240",
        seconds=3,
        vcodec="libvpx-vp9",
        extra=("-deadline", "realtime", "-cpu-used", "8"),
    ),
    "hevc-10bit": dict(
        size="320x240",
        seconds=3,
        vcodec="libx265",
        extra=(
            "-pix_fmt",
            "yuv420p10le",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
        ),
    ),
    "surround-5.1": dict(size="320x240", seconds=3, extra=("-ac", "6")),
}


@pytest.mark.parametrize("kind", list(SOURCES))
async def test_awkward_sources_become_valid_ladders(
    ing: IngestHarness,
    transcoder_factory: object,
    store: FileBlobStore,
    media_dir: Path,
    kind: str,
) -> None:
    await transcoder_factory()  # type: ignore[operator]
    options = dict(SOURCES[kind])
    name = kind if kind.endswith(".webm") else f"{kind}.mp4"
    source = clip(media_dir / name, **options)  # type: ignore[arg-type]
    owner = await ing.gw.register()
    video, history = await upload_and_finish(ing, owner, source)
    assert video.state == video_pb2.Video.STATE_READY, video.failure
    states = [v.state for v in history]
    assert states[-1] == video_pb2.Video.STATE_READY
    master = master_of(store, video, media_prefix(video))
    check_ladder(master, video.width, video.height)
    top = variants(master)[0]
    chunks = {line.split("/")[0] for line in top.playlist.read_text().splitlines() if "/" in line}
    expected = video.duration.ToTimedelta().total_seconds() * video.renditions[0].frame_rate
    assert abs(frame_count(top.playlist) - expected) <= len(chunks), "no frame lost or doubled"
    if kind == "portrait-rotated":
        assert (video.width, video.height) == (360, 640)
    if kind == "hevc-10bit":
        assert "hevc" in video.source.codecs
    if kind == "surround-5.1":
        assert source_channels(source) == 6
    if kind == "vp9-opus.webm":
        assert {"vp9", "opus"} <= set(video.source.codecs)
    assert [r.name for r in video.renditions] == [v.playlist.parent.name for v in variants(master)]
    assert store.local_path(MEDIA, f"{media_prefix(video)}/poster.jpg") is not None
    vtt = store.local_path(MEDIA, f"{media_prefix(video)}/storyboard.vtt")
    assert vtt is not None
    assert vtt.read_text().startswith("WEBVTT")
    assert "storyboard.jpg#xywh=0,0," in vtt.read_text()


async def test_progress_and_states_stream_to_watchers(
    ing: IngestHarness, transcoder_factory: object, media_dir: Path
) -> None:
    await transcoder_factory(progress_interval_seconds=0)  # type: ignore[operator]
    owner = await ing.gw.register()
    video, history = await upload_and_finish(
        ing,
        owner,
        clip(media_dir / "landscape.mp4", **SOURCES["landscape"]),  # type: ignore[arg-type]
    )
    states = [v.state for v in history]
    assert states[-1] == video_pb2.Video.STATE_READY
    assert video_pb2.Video.STATE_PROCESSING in states
    percents = [v.progress_percent for v in history if v.state == video_pb2.Video.STATE_PROCESSING]
    assert any(0 < p < 100 for p in percents), percents
    assert video.progress_percent == 100
    assert len(video.renditions) == 2
    assert video.renditions[0].name == "360p"


async def test_deleting_a_video_removes_its_objects(
    ing: IngestHarness, transcoder_factory: object, store: FileBlobStore, media_dir: Path
) -> None:
    await transcoder_factory()  # type: ignore[operator]
    owner = await ing.gw.register()
    video, _ = await upload_and_finish(ing, owner, clip(media_dir / "plain.mp4"))
    assert video.state == video_pb2.Video.STATE_READY
    assert await store.list(MEDIA, f"videos/{video.video_id}/")
    await ing.gw.videos.DeleteVideo(
        video_pb2.DeleteVideoRequest(video_id=video.video_id), metadata=owner.metadata
    )
    assert await store.list(MEDIA, f"videos/{video.video_id}/") == []
    assert await store.list(RAW, f"uploads/{video.video_id}/") == []
