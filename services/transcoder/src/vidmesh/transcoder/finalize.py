"""The finalize task: measure the ladder, store the final playlists, poster and storyboard, and
make the video READY.

Every playlist is rendered from gateway's record (the same text playback rendered while the
video was playable) with `#EXT-X-ENDLIST` and measured bandwidths, the master last: a viewer who
asks before READY already gets the final text, never a half-written one.
"""

from __future__ import annotations

import bisect
import itertools

from vidmesh.common import hls_playlists
from vidmesh.common.layout import (
    AUDIO_RENDITION,
    MASTER_PLAYLIST,
    POSTER,
    STORYBOARD,
    STORYBOARD_INDEX,
    hls_key,
    iframe_playlist,
    published_key,
    variant_playlist,
)
from vidmesh.common.storage import MEDIA
from vidmesh.transcoder.tasks import (
    NotYetDue,
    TaskContext,
    new_run,
    recorded_generation,
    workspace,
)
from vidmesh.transcoder.thumbnails import make_poster, make_storyboard
from vidmesh.v1 import transcode_pb2, video_pb2, video_state_pb2


async def finalize(
    context: TaskContext, job: transcode_pb2.TranscodeJob, delivery: int
) -> video_pb2.Video:
    generation = await recorded_generation(context, job)
    if not hls_playlists.is_complete(generation):
        raise NotYetDue("chunks or audio are still missing")
    plan = generation.plan
    prefix = plan.media_prefix
    store = context.store
    for rendition in plan.renditions:
        text = hls_playlists.variant(generation, rendition.name, ended=True)
        await store.put_bytes(
            MEDIA, hls_key(prefix, variant_playlist(rendition.name)), text.encode()
        )
        trick = hls_playlists.iframes(generation, rendition.name)
        await store.put_bytes(
            MEDIA, hls_key(prefix, iframe_playlist(rendition.name)), trick.encode()
        )
    if plan.has_audio:
        text = hls_playlists.audio(generation, ended=True)
        await store.put_bytes(
            MEDIA, hls_key(prefix, variant_playlist(AUDIO_RENDITION)), text.encode()
        )
    await _thumbnails(context, job, generation)
    await _remove_orphans(context, generation)
    master = hls_playlists.master(generation, final=True)
    await store.put_bytes(MEDIA, hls_key(prefix, MASTER_PLAYLIST), master.encode())
    renditions = hls_playlists.measured_renditions(generation, final=True)
    return await context.report(
        lambda: context.states.completed(
            job.video_id,
            job.job_id,
            delivery,
            renditions=renditions,
            media_prefix=prefix,
            duration_seconds=plan.duration_seconds,
            poster_key=POSTER,
            runner=context.runner,
        ),
        "reporting a video ready",
    )


async def _remove_orphans(context: TaskContext, generation: video_state_pb2.Generation) -> None:
    """Delete segment folders no playlist names: what a worker that died mid-upload left."""
    plan = generation.plan
    kept = {chunk.segments.run for chunk in generation.chunks} | {generation.audio.run}
    folders = [r.name for r in plan.renditions] + ([AUDIO_RENDITION] if plan.has_audio else [])
    for folder in folders:
        rendition_folder = hls_key(plan.media_prefix, variant_playlist(folder)).rsplit("/", 1)[0]
        stored = await context.store.list(MEDIA, f"{rendition_folder}/")
        for info in stored:
            parts = info.key.rsplit("/", 2)
            if len(parts) == 3 and parts[1] not in kept and parts[2].endswith(".ts"):
                await context.store.delete(MEDIA, info.key)


async def _thumbnails(
    context: TaskContext, job: transcode_pb2.TranscodeJob, generation: video_state_pb2.Generation
) -> None:
    plan = generation.plan
    prefix = plan.media_prefix
    top, smallest = plan.renditions[0], plan.renditions[-1]
    async with workspace(context, job, new_run()) as folder:
        segments = hls_playlists.video_segments(generation, smallest.name)
        starts = list(itertools.accumulate((s.duration for s in segments), initial=0.0))[:-1]
        lines = ["#EXTM3U", f"#EXT-X-TARGETDURATION:{plan.segment_seconds}"]
        for number, segment in enumerate(segments):
            key = hls_key(prefix, f"{smallest.name}/{segment.path}")
            local = await context.store.fetch_to(MEDIA, key, folder / f"{number}.ts")
            lines += [f"#EXTINF:{segment.duration:.6f},", str(local)]
        playlist = folder / "storyboard.m3u8"
        playlist.write_text("\n".join([*lines, "#EXT-X-ENDLIST", ""]))
        sprite, vtt = await make_storyboard(
            playlist, folder, starts, plan.duration_seconds, smallest.width / smallest.height
        )
        await context.store.put_file(MEDIA, published_key(prefix, STORYBOARD), sprite, move=True)
        await context.store.put_file(MEDIA, published_key(prefix, STORYBOARD_INDEX), vtt, move=True)
        tops = hls_playlists.video_segments(generation, top.name)
        quarter = bisect.bisect_right(starts, plan.duration_seconds * 0.25) - 1
        chosen = tops[max(0, min(quarter, len(tops) - 1))]
        key = hls_key(prefix, f"{top.name}/{chosen.path}")
        local = await context.store.fetch_to(MEDIA, key, folder / "poster-source.ts")
        poster = folder / POSTER
        await make_poster(local, poster, top.width, top.height)
        await context.store.put_file(MEDIA, published_key(prefix, POSTER), poster, move=True)
