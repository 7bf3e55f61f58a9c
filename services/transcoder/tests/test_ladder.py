"""The rungs a source gets and the master playlist written for them."""

from __future__ import annotations

import pytest

from vidmesh.common.media import MediaInfo, VideoStream
from vidmesh.transcoder.ladder import Rung, plan_ladder
from vidmesh.transcoder.playlists import RenditionReport, master_playlist


def source(width: int, height: int, *, rotation: int = 0, fps: float = 30.0) -> MediaInfo:
    video = VideoStream("h264", width, height, rotation, fps, fps, "yuv420p", None)
    return MediaInfo("mp4", 10.0, 1000, video, ("aac",), 2, ("h264", "aac"))


@pytest.mark.parametrize(
    ("width", "height", "rotation", "expected"),
    [
        (1920, 1080, 0, [(1920, 1080), (1280, 720), (854, 480), (640, 360), (426, 240)]),
        (1280, 720, 90, [(720, 1280), (480, 854), (360, 640), (240, 426)]),
        (1080, 1920, 0, [(1080, 1920), (720, 1280), (480, 854), (360, 640), (240, 426)]),
        (321, 241, 0, [(320, 240)]),
        (64, 48, 0, [(64, 48)]),
        (3840, 1600, 0, [(2592, 1080), (1728, 720), (1152, 480), (864, 360), (576, 240)]),
    ],
)
def test_rungs_never_upscale_and_keep_aspect(
    width: int, height: int, rotation: int, expected: list[tuple[int, int]]
) -> None:
    plan = plan_ladder(source(width, height, rotation=rotation))
    assert [(r.width, r.height) for r in plan.rungs] == expected
    assert all(r.width % 2 == 0 and r.height % 2 == 0 for r in plan.rungs)


@pytest.mark.parametrize(("fps", "expected"), [(29.97, 29.97), (120.0, 60.0), (0.0, 30.0)])
def test_output_rate_is_constant_and_capped(fps: float, expected: float) -> None:
    assert plan_ladder(source(640, 360, fps=fps)).frame_rate == expected


def test_master_lists_rungs_by_bandwidth_with_codecs() -> None:
    reports = [
        RenditionReport(
            Rung("360p", 640, 360, 800, 96), 900_000, 700_000, "avc1.4d401e,mp4a.40.2", 3, 12.0
        ),
        RenditionReport(
            Rung("720p", 1280, 720, 2800, 128),
            3_000_000,
            2_000_000,
            "avc1.64001f,mp4a.40.2",
            3,
            12.0,
        ),
    ]
    text = master_playlist(reports, 30.0)
    lines = text.splitlines()
    assert lines[3].startswith("#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2000000,")
    assert 'RESOLUTION=1280x720,FRAME-RATE=30.000,CODECS="avc1.64001f,mp4a.40.2"' in lines[3]
    assert lines[4] == "720p/index.m3u8" and lines[6] == "360p/index.m3u8"
