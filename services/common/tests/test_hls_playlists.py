"""Playlists rendered from a generation's record: order, growth, end, measured bandwidth."""

from __future__ import annotations

from vidmesh.common import hls_playlists
from vidmesh.v1 import transcode_pb2, video_pb2, video_state_pb2


def generation(done: list[int], *, audio_segments: int = 0) -> video_state_pb2.Generation:
    plan = transcode_pb2.TranscodePlan(
        media_prefix="videos/v/generations/1",
        renditions=[video_pb2.Rendition(name="360p", width=640, height=360, bandwidth=800_000)],
        has_audio=True,
        frame_rate=25.0,
        duration_seconds=10.0,
        segment_seconds=4,
        audio_bandwidth=128_000,
    )
    spans = [(0.0, 2.0, 0, 1), (2.0, 6.0, 1, 1), (6.0, 10.0, 2, 1)]
    for index, (start, end, first, count) in enumerate(spans):
        plan.chunks.add(
            index=index,
            start_seconds=start,
            end_seconds=end,
            first_segment=first,
            segment_count=count,
        )
    record = video_state_pb2.Generation(job_id="v:1", plan=plan)
    for index in done:
        start, end, first, _ = spans[index]
        run = video_state_pb2.SegmentRun(
            run=f"r{index}", first_segment=first, durations=[end - start]
        )
        run.renditions.add(
            name="360p", sizes=[50_000 * (index + 1)], keyframe_sizes=[9000], codecs="avc1.42c01e"
        )
        record.chunks.add(index=index, segments=run)
    audio = video_state_pb2.SegmentRun(run="a", durations=[4.0] * audio_segments)
    audio.renditions.add(name="audio", sizes=[64_000] * audio_segments)
    record.audio.CopyFrom(audio)
    return record


def uris(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_chunks_finishing_out_of_order_still_give_an_in_order_playlist() -> None:
    assert uris(hls_playlists.variant(generation([2]), "360p", ended=False)) == []
    assert uris(hls_playlists.variant(generation([2, 0]), "360p", ended=False)) == [
        "r0/seg_00000.ts"
    ]
    grown = hls_playlists.variant(generation([2, 0, 1]), "360p", ended=False)
    assert uris(grown) == ["r0/seg_00000.ts", "r1/seg_00001.ts", "r2/seg_00002.ts"]
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in grown
    assert "#EXT-X-START:TIME-OFFSET=0" in grown
    assert "#EXT-X-ENDLIST" not in grown
    final = hls_playlists.variant(generation([0, 1, 2]), "360p", ended=True)
    assert final.rstrip().endswith("#EXT-X-ENDLIST")
    assert final.startswith(grown.rstrip("\n")), "the final playlist only appends"


def test_bandwidth_is_the_rfc_peak_not_a_short_segment_alone() -> None:
    # A 4 s segment of 400 kB then a 0.5 s tail of 100 kB: alone the tail is 1.6 Mb/s, but a
    # run must last half a target duration, so the peak is the 4 s or the 4.5 s run.
    measured = hls_playlists.peak_and_average([4.0, 0.5], [400_000, 100_000], 4.0)
    assert measured.peak == 888_889
    assert measured.average == round(500_000 * 8 / 4.5)


def test_master_lists_every_rung_and_the_audio_group_from_the_first_chunk() -> None:
    early = hls_playlists.master(generation([0], audio_segments=1), final=False)
    assert '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio"' in early
    assert 'CODECS="avc1.42c01e,mp4a.40.2",AUDIO="audio"' in early
    assert "#EXT-X-I-FRAME-STREAM-INF" not in early
    final = hls_playlists.master(generation([0, 1, 2], audio_segments=3), final=True)
    assert 'URI="360p/iframes.m3u8"' in final
    [rendition] = hls_playlists.measured_renditions(
        generation([0, 1, 2], audio_segments=3), final=True
    )
    assert rendition.bandwidth == 300_000 + 128_000  # peak video (4 s of 150 kB) + audio
    assert hls_playlists.is_complete(generation([0, 1, 2])) is False, "audio is not done"


def test_iframe_playlist_points_at_each_segment_keyframe() -> None:
    text = hls_playlists.iframes(generation([0, 1]), "360p")
    assert "#EXT-X-I-FRAMES-ONLY" in text
    assert text.count("#EXT-X-BYTERANGE:9000@0") == 2


def test_a_media_playlists_durations_and_a_masters_top_rung_are_read_back() -> None:
    media = (
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n"
        "#EXTINF:1.000000,\na/seg_00000.ts\n#EXTINF:3.5,\nb/seg_00001.ts\n"
    )
    assert hls_playlists.segment_durations(media) == [1.0, 3.5]
    assert hls_playlists.segment_uris(media) == ["a/seg_00000.ts", "b/seg_00001.ts"]
    master = (
        '#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,URI="audio/index.m3u8"\n'
        "#EXT-X-STREAM-INF:BANDWIDTH=9\n720p/index.m3u8\n"
    )
    assert hls_playlists.first_variant(master) == "720p/index.m3u8"
    assert hls_playlists.first_variant("#EXTM3U\n") is None
