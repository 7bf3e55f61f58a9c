"""The ffmpeg argv of the tasks: what each option is there for, checked without running it."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidmesh.transcoder.command import TIMELINE_OFFSET, audio_command, chunk_command
from vidmesh.transcoder.grid import ChunkSpan
from vidmesh.transcoder.ladder import SEGMENT_SECONDS, Plan, Rung

PLAN = Plan(
    rungs=[Rung("720p", 1280, 720, 2800, 128), Rung("360p", 640, 360, 800, 96)],
    frame_rate=30.0,
    has_audio=True,
    duration=60.0,
)
SPAN = ChunkSpan(
    index=2, start_frame=360, end_frame=720, first_segment=3, segment_count=3, frame_rate=30.0
)


def option(argv: list[str], name: str) -> str:
    """The value after `name`, which must appear exactly once."""
    assert argv.count(name) == 1, (name, argv)
    return argv[argv.index(name) + 1]


def test_a_chunk_encodes_its_range_once_for_every_rung(tmp_path: Path) -> None:
    argv = chunk_command("/in.mp4", tmp_path, PLAN, SPAN, preset="veryfast")
    assert float(option(argv, "-ss")) == pytest.approx(12.0)
    assert float(option(argv, "-t")) == pytest.approx(14.0), "its length plus a margin"
    assert option(argv, "-i") == "/in.mp4"
    graph = option(argv, "-filter_complex")
    assert "trim=end_frame=360" in graph, "exactly its frames"
    assert "split=2" in graph, "decoded once, split per rung"
    assert "scale=1280:720" in graph
    assert "scale=640:360" in graph
    assert option(argv, "-var_stream_map") == "v:0,name:720p v:1,name:360p"
    assert option(argv, "-maxrate:v:0") == "2800k"
    assert option(argv, "-profile:v:0") == "high"
    assert option(argv, "-profile:v:1") == "main"


def test_chunks_cut_on_one_grid_and_land_at_their_place_in_the_video(tmp_path: Path) -> None:
    argv = chunk_command("/in.mp4", tmp_path, PLAN, SPAN, preset="veryfast")
    assert option(argv, "-force_key_frames") == f"expr:gte(t,n_forced*{SEGMENT_SECONDS})"
    assert option(argv, "-sc_threshold") == "0", "no extra keyframes at scene cuts"
    assert float(option(argv, "-output_ts_offset")) == pytest.approx(TIMELINE_OFFSET + 12.0)
    assert option(argv, "-start_number") == "3", "segments are numbered across chunks"
    assert option(argv, "-hls_segment_filename") == str(tmp_path / "%v" / "seg_%05d.ts")
    assert option(argv, "-preset") == "veryfast"
    assert "-y" in argv


def test_the_audio_task_pads_or_cuts_to_the_video_and_publishes_as_it_goes(
    tmp_path: Path,
) -> None:
    argv = audio_command("/in.mp4", tmp_path, 61.5, kbps=128)
    assert option(argv, "-t") == "61.500000"
    assert "apad=whole_dur=61.500000" in option(argv, "-filter_complex")
    assert option(argv, "-hls_playlist_type") == "event"
    assert option(argv, "-b:a") == "128k"
    assert option(argv, "-ar") == "48000"
    assert float(option(argv, "-output_ts_offset")) == pytest.approx(TIMELINE_OFFSET)
