"""The rungs a source gets and the master playlist written for them."""

from __future__ import annotations

import pytest

from vidmesh.common.media import MediaInfo, VideoStream
from vidmesh.transcoder.ladder import plan_ladder


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
