import { useCallback, useEffect, useState } from "react";
import { Link, useParams } from "react-router";

import { playback, videos } from "../api/client";
import { toApiError, type ApiError } from "../api/errors";
import { useSession } from "../api/use-session";
import { useWatchVideo } from "../api/use-watch-video";
import { canPlay, failureText, isTerminal, transcodeText, VISIBILITY_LABEL } from "../api/video-state";
import { CaptionsPanel } from "../components/captions-panel";
import { ClipsPanel } from "../components/clips-panel";
import { CopyLinkButton } from "../components/copy-link-button";
import { PosterPanel } from "../components/poster-panel";
import { Badge } from "../components/ui/badge";
import { ProgressBar } from "../components/ui/progress";
import type { GetPlaybackInfoResponse } from "../gen/vidmesh/v1/playback_pb";
import { Video_State, type Video } from "../gen/vidmesh/v1/video_pb";
import { DownloadMenu } from "../player/download-menu";
import { Player } from "../player/player";

function NotPlayable({ initial, onPlayable }: { initial: Video; onPlayable: (video: Video) => void }) {
  const [video] = useWatchVideo(initial);
  useEffect(() => {
    if (canPlay(video)) onPlayable(video);
  }, [video, onPlayable]);
  if (video.state === Video_State.FAILED) {
    return (
      <p className="rounded-lg bg-red-950 p-6 text-red-300">This video could not be processed: {failureText(video)}</p>
    );
  }
  return (
    <div className="space-y-3 rounded-lg bg-zinc-900 p-6">
      <p data-testid="transcode-progress">{transcodeText(video)} — the player appears in a moment.</p>
      <ProgressBar value={video.progressPercent} label="Transcoding" />
    </div>
  );
}

/** While a playable video is still being transcoded: how far it is, without touching the player. */
function StillProcessing({ initial, onChange }: { initial: Video; onChange: (video: Video) => void }) {
  const [video] = useWatchVideo(initial);
  useEffect(() => onChange(video), [video, onChange]);
  if (isTerminal(video.state)) return null;
  return (
    <div className="space-y-1" data-testid="still-processing">
      <ProgressBar value={video.progressPercent} label="Transcoding" />
      <p className="text-sm text-zinc-400" data-testid="transcode-progress">
        {transcodeText(video)} — it keeps playing while the rest is transcoded.
      </p>
    </div>
  );
}

/** One video: the player when READY, live progress before that, a clear refusal otherwise. */
export function WatchPage() {
  const { videoId = "" } = useParams();
  const session = useSession();
  const [video, setVideo] = useState<Video | null>(null);
  const [info, setInfo] = useState<GetPlaybackInfoResponse | null>(null);
  // Captions changed: the player starts again so its captions menu lists them.
  const [captionsRevision, setCaptionsRevision] = useState(0);
  const [error, setError] = useState<ApiError | null>(null);

  const refresh = useCallback(() => playback.getPlaybackInfo({ videoId }), [videoId]);

  useEffect(() => {
    let cancelled = false;
    setVideo(null);
    setInfo(null);
    setError(null);
    videos
      .getVideo({ videoId })
      .then(async ({ video: found }) => {
        if (cancelled || !found) return;
        setVideo(found);
        if (canPlay(found)) {
          const playable = await refresh();
          if (!cancelled) setInfo(playable);
        }
      })
      .catch((failure) => !cancelled && setError(toApiError(failure)));
    return () => {
      cancelled = true;
    };
  }, [videoId, refresh, session?.userId]);

  const onPlayable = useCallback(
    (playable: Video) => {
      setVideo(playable);
      refresh().then(setInfo, (failure) => setError(toApiError(failure)));
    },
    [refresh],
  );

  if (error) {
    return (
      <div className="py-20 text-center" data-testid="watch-error">
        <h1 className="text-2xl font-bold">Video unavailable</h1>
        <p className="mt-2 text-zinc-400">{error.message}</p>
        {!session && (
          <p className="mt-4">
            <Link className="text-accent underline" to={`/signin?next=/watch/${videoId}`}>
              Sign in
            </Link>{" "}
            if it is yours.
          </p>
        )}
      </div>
    );
  }
  if (!video) return <p className="text-zinc-400">Loading…</p>;
  return (
    <article className="space-y-4">
      {info ? (
        <>
          <Player key={captionsRevision} info={info} refresh={refresh} />
          {!isTerminal(video.state) && <StillProcessing initial={video} onChange={setVideo} />}
        </>
      ) : canPlay(video) ? (
        <p>Loading…</p>
      ) : (
        <NotPlayable initial={video} onPlayable={onPlayable} />
      )}
      <div className="space-y-2">
        <h1 className="text-2xl font-bold">{video.title}</h1>
        <div className="flex flex-wrap items-center gap-2">
          <CopyLinkButton videoId={video.videoId} />
          <Badge>{VISIBILITY_LABEL[video.visibility]}</Badge>
          {video.renditions.map((rendition) => (
            <Badge key={rendition.name}>{rendition.name}</Badge>
          ))}
        </div>
        {info && info.downloads.length > 0 && <DownloadMenu links={info.downloads} />}
        {video.description && <p className="whitespace-pre-wrap text-zinc-300">{video.description}</p>}
      </div>
      {video.state === Video_State.READY && <ClipsPanel video={video} owner={session?.userId === video.ownerId} />}
      {video.state === Video_State.READY && session?.userId === video.ownerId && <PosterPanel video={video} />}
      {video.state === Video_State.READY && session?.userId === video.ownerId && (
        <CaptionsPanel
          video={video}
          onChanged={() =>
            void refresh().then((next) => {
              const revision = captionsRevision + 1;
              // Masters are cached (a public one for a minute): ask for this one afresh.
              const [path, query = ""] = next.masterPlaylistUrl.split("?", 2) as [string, string?];
              const params = new URLSearchParams(query);
              params.set("captions", String(revision));
              setInfo({ ...next, masterPlaylistUrl: `${path}?${params.toString()}` });
              setCaptionsRevision(revision);
            })
          }
        />
      )}
    </article>
  );
}
