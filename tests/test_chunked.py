"""The chunked, progressive pipeline end to end: real NATS, PostgreSQL, ffmpeg, two workers.

Sources are short and chunks 4 s long, so every video here has several chunks and every chunk
boundary is crossed by the checks: timestamps (ffmpeg -v warning says nothing), frame counts
(duration x rate, give or take one frame per chunk) and a sine tone decoded with no gap or
click (sample count within one AAC frame, no jump a 440 Hz tone cannot make).
"""

from __future__ import annotations

import array
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flows import master_of, media_prefix, upload_and_finish
from harness import IngestHarness, TranscoderFactory, TranscoderHarness
from ladder_checks import audio_playlist, check_ladder, frame_count, variants
from media import _ffmpeg, clip

from vidmesh.common.layout import generation_prefix
from vidmesh.common.storage import FileBlobStore
from vidmesh.v1 import transcode_pb2, video_pb2, video_state_pb2

State = video_pb2.Video
RATE = 48000
AAC_FRAME = 1024


def samples_of(playlist: Path) -> array.array[int]:
    """The audio rendition decoded to mono 16-bit samples at 48 kHz."""
    out = subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-i", str(playlist)),
            *("-ac", "1", "-ar", str(RATE), "-f", "s16le", "-"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout
    return array.array("h", out)


def largest_step(samples: array.array[int], skip: int) -> int:
    """The largest sample-to-sample change after the first `skip` samples (the fade-in)."""
    return max(abs(b - a) for a, b in zip(samples[skip:], samples[skip + 1 :], strict=False))


async def chunked_workers(factory: Any, count: int) -> list[TranscoderHarness]:
    return [await factory(chunk_seconds=4, slots=1) for _ in range(count)]


async def test_two_workers_share_a_video_playable_before_ready_and_seamless(
    ing: IngestHarness,
    transcoder_factory: TranscoderFactory,
    store: FileBlobStore,
    media_dir: Path,
    tmp_path: Path,
) -> None:
    workers = await chunked_workers(transcoder_factory, 2)
    seconds, rate = 14, 25
    source = clip(media_dir / "chunked.mp4", size="320x180", seconds=seconds, rate=rate)
    owner = await ing.gw.register()
    video, history = await upload_and_finish(ing, owner, source)
    assert video.state == State.STATE_READY, video.failure
    early = [v for v in history if v.playable and v.state == State.STATE_PROCESSING]
    assert early, "playable while still processing"
    assert early[0].transcode.chunks_total == 4
    assert early[0].transcode.chunks_done < 4
    assert video.playable_time.ToDatetime() <= video.ready_time.ToDatetime()
    progress = [v.transcode.chunks_done for v in history if v.state == State.STATE_PROCESSING]
    assert progress == sorted(progress), "chunk progress only grows"
    assert all(w.worker.completed > 0 for w in workers), "both workers took tasks"

    master = master_of(store, video, media_prefix(video))
    check_ladder(master, video.width, video.height)
    text = master.read_text()
    assert '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio"' in text
    assert "#EXT-X-I-FRAME-STREAM-INF:" in text
    for variant in variants(master):
        playlist = variant.playlist.read_text()
        assert "#EXT-X-PLAYLIST-TYPE:EVENT" in playlist
        assert "#EXT-X-START:TIME-OFFSET=0" in playlist
        assert playlist.rstrip().endswith("#EXT-X-ENDLIST")
        assert abs(frame_count(variant.playlist) - seconds * rate) <= 4, "no frame lost or doubled"

        trick = variant.playlist.with_name("iframes.m3u8").read_text().splitlines()
        ranges = [line for line in trick if line.startswith("#EXT-X-BYTERANGE:")]
        assert len(ranges) == playlist.count("#EXTINF"), "one I-frame per segment"
        length = int(ranges[1].split(":")[1].split("@")[0])
        segment = variant.playlist.parent / trick[trick.index(ranges[1]) + 1]
        keyframe = tmp_path / f"{variant.playlist.parent.name}-keyframe.ts"
        keyframe.write_bytes(segment.read_bytes()[:length])
        assert frame_count(keyframe) == 1, "the byte range holds exactly the keyframe"

    audio = audio_playlist(master)
    assert audio is not None
    samples = samples_of(audio)
    # AAC in MPEG-TS decodes with the encoder's 1024 priming samples in front (timestamped
    # before zero, so A/V sync is kept); beyond them the track is the source's, within a frame.
    assert abs(len(samples) - AAC_FRAME - seconds * RATE) <= AAC_FRAME, "no gap or overlap"
    # A full-scale 440 Hz sine changes by at most 2π·440/48000 of its amplitude per sample.
    tone_step = 2 * 3.1416 * 440 / RATE * max(abs(s) for s in samples)
    assert largest_step(samples, skip=AAC_FRAME * 4) <= tone_step * 1.5, "no click at a seam"


HARD_SOURCES = {
    # Keyframes every 10 s with open GOPs: chunks start far from any keyframe.
    "sparse-open-gop.mp4": (
        "-f lavfi -i testsrc2=size=320x180:rate=25:duration=10 "
        "-f lavfi -i sine=frequency=440:duration=10 -c:v libx264 -preset veryfast "
        "-x264-params keyint=250:min-keyint=250:open-gop=1:bframes=3 -pix_fmt yuv420p "
        "-c:a aac -shortest"
    ),
    # Written to a pipe, as a browser recorder does: no duration or cues in the header.
    "no-duration.webm": (
        "-f lavfi -i testsrc2=size=320x180:rate=25:duration=9 "
        "-f lavfi -i sine=frequency=440:duration=9 -c:v libvpx -deadline realtime "
        "-cpu-used 8 -c:a libopus -f webm pipe:1"
    ),
    # A phone's variable frame rate.
    "phone-vfr.mp4": (
        "-f lavfi -i testsrc2=size=320x180:rate=30:duration=9 "
        "-f lavfi -i sine=frequency=440:duration=9 "
        "-vf setpts='PTS+0.015*sin(N/3)/TB' -fps_mode vfr -c:v libx264 -preset ultrafast "
        "-pix_fmt yuv420p -c:a aac -shortest"
    ),
    "audio-longer.mp4": (
        "-f lavfi -i testsrc2=size=320x180:rate=25:duration=6 "
        "-f lavfi -i sine=frequency=440:duration=10 -c:v libx264 -preset ultrafast "
        "-pix_fmt yuv420p -c:a aac"
    ),
    "video-longer.mp4": (
        "-f lavfi -i testsrc2=size=320x180:rate=25:duration=10 "
        "-f lavfi -i sine=frequency=440:duration=5 -c:v libx264 -preset ultrafast "
        "-pix_fmt yuv420p -c:a aac"
    ),
}


def hard_source(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.exists():
        args = HARD_SOURCES[name].split()
        if args[-1] == "pipe:1":
            piped = subprocess.run(
                ["ffmpeg", "-v", "error", *args], check=True, capture_output=True, timeout=120
            )
            path.write_bytes(piped.stdout)
        else:
            _ffmpeg(*args, str(path))
    return path


@pytest.mark.parametrize("name", list(HARD_SOURCES))
async def test_sources_that_make_chunking_hard_still_give_clean_ladders(
    ing: IngestHarness,
    transcoder_factory: TranscoderFactory,
    store: FileBlobStore,
    media_dir: Path,
    name: str,
) -> None:
    await chunked_workers(transcoder_factory, 1)
    owner = await ing.gw.register()
    video, _ = await upload_and_finish(ing, owner, hard_source(media_dir, name))
    assert video.state == State.STATE_READY, video.failure
    master = master_of(store, video, media_prefix(video))
    check_ladder(master, video.width, video.height)
    seconds = video.duration.ToTimedelta().total_seconds()
    chunks = len(variants(master)[0].playlist.read_text().split("#EXTINF")) - 1
    expected = round(seconds * 25) if "phone" not in name else round(seconds * 30)
    assert abs(frame_count(variants(master)[0].playlist) - expected) <= chunks


async def test_a_redelivered_last_report_finalizes_once(ing: IngestHarness) -> None:
    """Gateway alone: the answer to a repeated completion is the same, the first chunk's report
    releases the later chunks, and finalize is due exactly from the moment the last task is in."""
    gw = ing.gw
    owner = await gw.register()
    video = await gw.create_video(owner)
    job = f"{video.video_id}:1"
    meta = gw.service_metadata
    await gw.states.MarkQueued(
        video_state_pb2.MarkQueuedRequest(video_id=video.video_id, job_id=job, generation=1),
        metadata=meta,
    )
    plan = _plan(video.video_id, chunks=3)
    planned = (
        await gw.states.RecordPlan(
            video_state_pb2.RecordPlanRequest(video_id=video.video_id, job_id=job, plan=plan),
            metadata=meta,
        )
    ).outcome
    assert [(t.kind, t.chunk_index) for t in planned.due] == [(CHUNK, 0)], "the first alone"
    assert planned.recorded
    assert not planned.playable

    async def report(index: int, run: str) -> video_state_pb2.TaskOutcome:
        chunk = plan.chunks[index]
        response = await gw.states.CompleteTask(
            video_state_pb2.CompleteTaskRequest(
                video_id=video.video_id,
                job_id=job,
                task=_chunk_task(index),
                delivery=1,
                complete=True,
                segments=video_state_pb2.SegmentRun(
                    run=run,
                    first_segment=chunk.first_segment,
                    durations=[4.0] * chunk.segment_count,
                    renditions=[
                        video_state_pb2.SegmentRun.Rendition(
                            name="360p", sizes=[1000] * chunk.segment_count
                        )
                    ],
                ),
            ),
            metadata=meta,
        )
        return response.outcome

    first = await report(0, "first")
    assert first.playable
    assert first.video.playable
    assert [(t.kind, t.chunk_index) for t in first.due] == [(CHUNK, 1), (CHUNK, 2)]
    repeated = await report(0, "repeat")
    assert not repeated.recorded
    assert list(repeated.due) == list(first.due)
    later = await report(2, "late")
    assert later.playable, "chunks out of order: nothing due until the last"
    assert not later.due, "chunks out of order: nothing due until the last"
    last = await report(1, "last")
    assert [t.kind for t in last.due] == [last.due[0].KIND_FINALIZE]
    again = await report(1, "someoneelse")
    assert not again.recorded, "same answer on repeat"
    assert list(again.due) == list(last.due), "same answer on repeat"
    lost_answer = await report(1, "last")
    assert lost_answer.recorded, "a retried report of the recorded run is told its run stands"
    assert list(lost_answer.due) == list(last.due)
    generation = await gw.states.GetGeneration(
        video_state_pb2.GetGenerationRequest(video_id=video.video_id, job_id=job),
        metadata=meta,
    )
    runs = [chunk.segments.run for chunk in generation.generation.chunks]
    assert runs == ["first", "last", "late"], "the first completion of each chunk stands"


CHUNK = transcode_pb2.TranscodeTask.KIND_CHUNK


def _chunk_task(index: int) -> transcode_pb2.TranscodeTask:
    return transcode_pb2.TranscodeTask(kind=CHUNK, chunk_index=index)


def _plan(video_id: str, *, chunks: int) -> transcode_pb2.TranscodePlan:
    plan = transcode_pb2.TranscodePlan(
        media_prefix=generation_prefix(video_id, 1),
        renditions=[video_pb2.Rendition(name="360p", width=640, height=360, bandwidth=800_000)],
        has_audio=False,
        frame_rate=25.0,
        duration_seconds=4.0 * chunks,
        segment_seconds=4,
    )
    for index in range(chunks):
        plan.chunks.add(
            index=index,
            start_seconds=4.0 * index,
            end_seconds=4.0 * (index + 1),
            first_segment=index,
            segment_count=1,
        )
    return plan
