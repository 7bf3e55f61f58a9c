import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";

import { videos } from "../api/client";
import { toApiError } from "../api/errors";
import { STATE_LABEL } from "../api/video-state";
import { AlertText } from "../components/ui/alert-text";
import { Badge } from "../components/ui/badge";
import { VideoTimeline } from "../components/video-timeline";
import type { Video } from "../gen/vidmesh/v1/video_pb";

/** "Why is this video slow?": one video's timeline, for its owner and for admins. */
export function TimelinePage() {
  const { videoId = "" } = useParams();
  const [video, setVideo] = useState<Video | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    videos
      .getVideo({ videoId }, { signal: controller.signal })
      .then((response) => setVideo(response.video ?? null))
      .catch((failure: unknown) => {
        if (!controller.signal.aborted) setError(toApiError(failure).message);
      });
    return () => controller.abort();
  }, [videoId]);

  return (
    <section className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold">Timeline</h1>
        {video && (
          <>
            <Link to={`/watch/${video.videoId}`} className="font-medium hover:text-accent">
              {video.title}
            </Link>
            <Badge>{STATE_LABEL[video.state]}</Badge>
          </>
        )}
      </div>
      {error ? <AlertText>{error}</AlertText> : <VideoTimeline videoId={videoId} />}
    </section>
  );
}
