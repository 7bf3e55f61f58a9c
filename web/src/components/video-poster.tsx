import { Video_State, type Video } from "../gen/vidmesh/v1/video_pb";
import { durationSeconds } from "../lib/durations";
import { formatClock } from "../lib/format";

/**
 * A ready video's poster, straight from the URL the API returned with it (bare and cacheable
 * for public videos, signed otherwise): a feed page costs no playback call per card.
 */
export function VideoPoster({ video }: { video: Video }) {
  const src = video.state === Video_State.READY ? video.posterUrl : "";
  const seconds = durationSeconds(video.duration);
  return (
    <div className="relative aspect-video overflow-hidden rounded-md bg-zinc-800">
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
