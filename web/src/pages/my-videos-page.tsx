import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";

import { transcodes, videos } from "../api/client";
import { toApiError } from "../api/errors";
import { forgetVideo, useVideoPages } from "../api/use-video-pages";
import { useWatchVideo } from "../api/use-watch-video";
import {
  canPlay,
  canRetry,
  failureText,
  isTerminal,
  STATE_LABEL,
  transcodeText,
  VISIBILITY_LABEL,
} from "../api/video-state";
import { CopyLinkButton } from "../components/copy-link-button";
import { EditVideoDialog } from "../components/edit-video-dialog";
import { HighlightedTitle } from "../components/highlighted-title";
import { SearchBox, useSearchQuery } from "../components/search-box";
import { Badge } from "../components/ui/badge";
import { Button } from "../components/ui/button";
import { ConfirmDialog } from "../components/ui/confirm-dialog";
import { ProgressBar } from "../components/ui/progress";
import { VideoPoster } from "../components/video-poster";
import {
  ListVideosRequest_Scope,
  type TextRange,
  Video_State,
  Visibility,
  type Video,
} from "../gen/vidmesh/v1/video_pb";
import { useUploads } from "../upload/uploads";

function stateTone(video: Video) {
  if (video.state === Video_State.READY) return "ok" as const;
  if (video.state === Video_State.FAILED) return "bad" as const;
  return "busy" as const;
}

function VideoRow({
  initial,
  titleRanges,
  onRemoved,
}: {
  initial: Video;
  titleRanges: readonly TextRange[] | undefined;
  onRemoved: (id: string) => void;
}) {
  const { items: uploads } = useUploads();
  // Uploads still running in this tab are followed; ones left unfinished elsewhere are not.
  const follow = initial.state !== Video_State.UPLOADING || uploads.some((u) => u.videoId === initial.videoId);
  const [video, setVideo] = useWatchVideo(initial, follow);
  const [error, setError] = useState<string | null>(null);

  async function retry() {
    setError(null);
    try {
      await transcodes.retranscodeVideo({ videoId: video.videoId });
      setVideo({ ...video, state: Video_State.QUEUED, failure: undefined, progressPercent: 0 });
    } catch (failure) {
      setError(toApiError(failure).message);
    }
  }

  async function remove() {
    setError(null);
    try {
      await videos.deleteVideo({ videoId: video.videoId });
      onRemoved(video.videoId);
    } catch (failure) {
      setError(toApiError(failure).message);
    }
  }

  const busy = !isTerminal(video.state);
  return (
    <li
      className="flex flex-col gap-4 rounded-lg border border-zinc-800 p-4 sm:flex-row"
      data-testid="video-row"
      data-video-id={video.videoId}
    >
      <div className="w-full shrink-0 sm:w-48">
        <VideoPoster video={video} />
      </div>
      <div className="min-w-0 flex-1 space-y-2">
        <div className="flex flex-wrap items-center gap-2">
          {canPlay(video) ? (
            <Link to={`/watch/${video.videoId}`} className="truncate font-medium hover:text-accent">
              <HighlightedTitle title={video.title} ranges={titleRanges} />
            </Link>
          ) : (
            <span className="truncate font-medium">
              <HighlightedTitle title={video.title} ranges={titleRanges} />
            </span>
          )}
          <Badge tone={stateTone(video)}>
            <span data-testid="video-state">{STATE_LABEL[video.state]}</span>
          </Badge>
          {video.playable && video.state !== Video_State.READY && (
            <Badge tone="ok">
              <span data-testid="video-playable">Playable</span>
            </Badge>
          )}
          <Badge>{VISIBILITY_LABEL[video.visibility]}</Badge>
        </div>
        {video.state === Video_State.UPLOADING && !follow && (
          <p className="text-sm text-zinc-400">
            Upload not finished. Choose the same file on the Upload page to resume it.
          </p>
        )}
        {busy && follow && (
          <div className="space-y-1">
            <ProgressBar value={video.progressPercent} label={`Transcoding ${video.title}`} />
            <p className="text-sm text-zinc-400" data-testid="transcode-progress">
              {transcodeText(video)}
            </p>
          </div>
        )}
        {video.state === Video_State.FAILED && (
          <p className="text-sm text-red-400" data-testid="failure">
            {failureText(video)}
          </p>
        )}
        {video.state === Video_State.READY && (
          <p className="text-sm text-zinc-400">{video.renditions.map((rendition) => rendition.name).join(" · ")}</p>
        )}
        {error && (
          <p role="alert" className="text-sm text-red-400">
            {error}
          </p>
        )}
        <div className="flex flex-wrap gap-2 pt-1">
          <EditVideoDialog
            video={video}
            onSaved={setVideo}
            trigger={
              <Button size="sm" variant="secondary">
                Edit
              </Button>
            }
          />
          {video.state === Video_State.READY && video.visibility !== Visibility.PRIVATE && (
            <CopyLinkButton videoId={video.videoId} />
          )}
          <Link
            to={`/videos/${video.videoId}/timeline`}
            className="inline-flex h-8 items-center rounded-md px-3 text-sm font-medium text-zinc-300 hover:bg-zinc-800 hover:text-white"
          >
            Timeline
          </Link>
          {canRetry(video) && (
            <Button size="sm" variant="secondary" onClick={() => void retry()}>
              Retry
            </Button>
          )}
          <ConfirmDialog
            title="Delete this video?"
            body={`“${video.title}” and all its renditions will be deleted. This cannot be undone.`}
            confirmLabel="Delete"
            onConfirm={() => void remove()}
            trigger={
              <Button size="sm" variant="ghost">
                Delete
              </Button>
            }
          />
        </div>
      </div>
    </li>
  );
}

/** The caller's videos in every state, each following its own live WatchVideo stream. */
export function MyVideosPage() {
  const [typed, query, setTyped] = useSearchQuery();
  const queries = useQueryClient();
  const { items, highlights, hasMore, more, error, loading } = useVideoPages(ListVideosRequest_Scope.MINE, 20, query);

  return (
    <section aria-labelledby="mine-title" className="space-y-4">
      <div className="flex items-center justify-between">
        <h1 id="mine-title" className="text-2xl font-bold">
          My videos
        </h1>
        <div className="flex flex-1 items-center justify-end gap-3">
          <SearchBox label="Search my videos" value={typed} onChange={setTyped} />
          <Link to="/upload" className="rounded-md bg-brand px-4 py-2 font-medium text-white hover:bg-brand-strong">
            Upload
          </Link>
        </div>
      </div>
      {error && (
        <p role="alert" className="text-red-400">
          {error}
        </p>
      )}
      {!loading && items.length === 0 && !error && (
        <p className="text-zinc-400">
          {query.trim() ? `Nothing of yours matches “${query.trim()}”.` : "You have not uploaded anything yet."}
        </p>
      )}
      <ul className="space-y-3">
        {items.map((video) => (
          <VideoRow
            key={video.videoId}
            initial={video}
            titleRanges={highlights.get(video.videoId)}
            onRemoved={(id) => forgetVideo(queries, id)}
          />
        ))}
      </ul>
      {hasMore && (
        <Button variant="secondary" disabled={loading} onClick={() => void more()}>
          Load more
        </Button>
      )}
    </section>
  );
}
