import { useCallback, useEffect, useState } from "react";
import { Link, useParams } from "react-router";

import { playback, videos } from "../api/client";
import { toApiError } from "../api/errors";
import type { GetPlaybackInfoResponse } from "../gen/vidmesh/v1/playback_pb";
import type { Clip, Video } from "../gen/vidmesh/v1/video_pb";
import { Player } from "../player/player";

/** A shared clip: its range of the video plays, from its start to its end, and stops there. */
export function ClipPage() {
  const { clipId = "" } = useParams();
  const [found, setFound] = useState<{ clip: Clip; video: Video } | null>(null);
  const [info, setInfo] = useState<GetPlaybackInfoResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const videoId = found?.video.videoId ?? "";
  const refresh = useCallback(() => playback.getPlaybackInfo({ videoId, clipId }), [videoId, clipId]);

  useEffect(() => {
    const controller = new AbortController();
    videos
      .getClip({ clipId }, { signal: controller.signal })
      .then((answer) => answer.clip && answer.video && setFound({ clip: answer.clip, video: answer.video }))
      .catch((failure: unknown) => !controller.signal.aborted && setError(toApiError(failure).message));
    return () => controller.abort();
  }, [clipId]);

  useEffect(() => {
    if (!videoId) return;
    refresh().then(setInfo, (failure: unknown) => setError(toApiError(failure).message));
  }, [videoId, refresh]);

  if (error) {
    return (
      <div className="py-20 text-center" data-testid="watch-error">
        <h1 className="text-2xl font-bold">Clip unavailable</h1>
        <p className="mt-2 text-zinc-400">{error}</p>
      </div>
    );
  }
  if (!found || !info) return <p className="text-zinc-400">Loading…</p>;
  return (
    <article className="space-y-4">
      <Player info={info} refresh={refresh} />
      <h1 className="text-2xl font-bold">{found.clip.name}</h1>
      <p className="text-zinc-400">
        A clip of{" "}
        <Link to={`/watch/${found.video.videoId}`} className="text-accent underline">
          {found.video.title}
        </Link>
      </p>
    </article>
  );
}
