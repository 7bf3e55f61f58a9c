import { useEffect, useState } from "react";

import { playback } from "../api/client";
import { Video_State, type Video } from "../gen/vidmesh/v1/video_pb";
import { formatClock } from "../lib/format";

/**
 * A ready video's poster. Posters sit behind the same signed playback URLs as the stream, so the
 * card asks for playback info once it scrolls into view (not for the whole page up front).
 */
export function VideoPoster({ video }: { video: Video }) {
  const [src, setSrc] = useState<string | null>(null);
  const [element, setElement] = useState<HTMLDivElement | null>(null);
  const ready = video.state === Video_State.READY;

  useEffect(() => {
    if (!ready || !element) return;
    let cancelled = false;
    const observer = new IntersectionObserver((entries) => {
      if (!entries.some((entry) => entry.isIntersecting)) return;
      observer.disconnect();
      playback
        .getPlaybackInfo({ videoId: video.videoId })
        .then((info) => !cancelled && setSrc(info.posterUrl))
        .catch(() => undefined);
    });
    observer.observe(element);
    return () => {
      cancelled = true;
      observer.disconnect();
    };
  }, [ready, element, video.videoId]);

  const seconds = video.duration ? Number(video.duration.seconds) + video.duration.nanos / 1e9 : 0;
  return (
    <div ref={setElement} className="relative aspect-video overflow-hidden rounded-md bg-zinc-800">
      {src ? (
        <img src={src} alt="" className="h-full w-full object-cover" loading="lazy" />
      ) : (
        <div className="flex h-full items-center justify-center text-3xl text-zinc-600" aria-hidden>
          ▶
        </div>
      )}
      {seconds > 0 && (
        <span className="absolute bottom-1 right-1 rounded bg-black/80 px-1 text-xs">{formatClock(seconds)}</span>
      )}
    </div>
  );
}
