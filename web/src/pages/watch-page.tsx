import { skipToken, useQuery } from "@connectrpc/connect-query";
import { useCallback, useEffect, useState } from "react";
import { Link, useParams } from "react-router";

import { playback } from "../api/client";
import { toApiError } from "../api/errors";
import { useSession } from "../api/use-session";
import { useWatchVideo } from "../api/use-watch-video";
import { canPlay, failureText, isTerminal, transcodeText, VISIBILITY_LABEL } from "../api/video-state";
import { CaptionsPanel } from "../components/captions-panel";
import { ClipsPanel } from "../components/clips-panel";
import { CopyLinkButton } from "../components/copy-link-button";
import { PosterPanel } from "../components/poster-panel";
import { Badge } from "../components/ui/badge";
import { ProgressBar } from "../components/ui/progress";
import { type GetPlaybackInfoResponse, PlaybackService } from "../gen/vidmesh/v1/playback_pb";
import { Video_State, type Video, VideoService } from "../gen/vidmesh/v1/video_pb";
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

/** A master playlist URL that bypasses caches holding an older list of captions. */
function withCaptionsRevision(info: GetPlaybackInfoResponse, revision: number): GetPlaybackInfoResponse {
  if (revision === 0) return info;
  const [path, query = ""] = info.masterPlaylistUrl.split("?", 2) as [string, string?];
  const params = new URLSearchParams(query);
  params.set("captions", String(revision));
  return { ...info, masterPlaylistUrl: `${path}?${params.toString()}` };
}

/** One video: the player when READY, live progress before that, a clear refusal otherwise. */
export function WatchPage() {
  const { videoId = "" } = useParams();
  const session = useSession();
  const found = useQuery(VideoService.method.getVideo, { videoId });
  // What the live stream said since (progress, playable, ready), for this video only.
  const [live, setLive] = useState<Video | null>(null);
  const video = live?.videoId === videoId ? live : (found.data?.video ?? null);
  // Once playable, always playable on this page: the player stays whatever a later message says.
  const [playableVideo, setPlayableVideo] = useState<string | null>(null);
  if (video !== null && canPlay(video) && playableVideo !== videoId) setPlayableVideo(videoId);
  const playable = playableVideo === videoId || (video !== null && canPlay(video));
  // Playback info carries short-lived tokens: never served from an old visit's cache.
  const played = useQuery(PlaybackService.method.getPlaybackInfo, playable ? { videoId } : skipToken, {
    gcTime: 0,
    staleTime: Infinity,
  });
  // Captions changed: the player starts again so its captions menu lists them.
  const [captionsRevision, setCaptionsRevision] = useState(0);
  const refresh = useCallback(() => playback.getPlaybackInfo({ videoId }), [videoId]);
  const failure = found.error ?? played.error;
  const error = failure ? toApiError(failure) : null;
  const info = played.data ? withCaptionsRevision(played.data, captionsRevision) : null;

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
          <Player key={`${videoId}:${captionsRevision}`} info={info} refresh={refresh} />
          {!isTerminal(video.state) && <StillProcessing initial={video} onChange={setLive} />}
        </>
      ) : canPlay(video) ? (
        <p>Loading…</p>
      ) : (
        <NotPlayable initial={video} onPlayable={setLive} />
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
          onChanged={() => void played.refetch().then(() => setCaptionsRevision((revision) => revision + 1))}
        />
      )}
    </article>
  );
}
