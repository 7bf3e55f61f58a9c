import { useQuery } from "@connectrpc/connect-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";

import { videos } from "../api/client";
import { toApiError, type ApiError } from "../api/errors";
import { type Video, VideoService } from "../gen/vidmesh/v1/video_pb";
import { durationSeconds, secondsDuration } from "../lib/durations";
import { formatClock } from "../lib/format";
import { AlertText } from "./ui/alert-text";
import { Button } from "./ui/button";
import { TextField } from "./ui/field";
import { formText } from "../lib/forms";

/**
 * A READY video's clips: named ranges that play on their own page (`/clips/<id>`) without
 * re-encoding. Everyone who may watch the video sees them; its owner also makes and deletes them.
 */
export function ClipsPanel({ video, owner }: { video: Video; owner: boolean }) {
  const read = useQuery(VideoService.method.listClips, { videoId: video.videoId });
  const clips = read.data?.clips ?? [];
  const [actionError, setError] = useState<ApiError | null>(null);
  const error = actionError ?? (read.error ? toApiError(read.error) : null);
  const load = () => read.refetch();

  async function make(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setError(null);
    try {
      await videos.createClip({
        videoId: video.videoId,
        clip: {
          name: formText(form, "name"),
          startOffset: secondsDuration(Number(form.get("start"))),
          endOffset: secondsDuration(Number(form.get("end"))),
        },
      });
      await load();
    } catch (failure) {
      setError(toApiError(failure));
    }
  }

  async function remove(clipId: string) {
    setError(null);
    try {
      await videos.deleteClip({ clipId });
      await load();
    } catch (failure) {
      setError(toApiError(failure));
    }
  }

  if (!owner && clips.length === 0) return null;
  return (
    <section aria-labelledby="clips-heading" className="space-y-3 rounded-lg border border-zinc-800 p-4">
      <h2 id="clips-heading" className="font-semibold">
        Clips
      </h2>
      <ul className="space-y-1">
        {clips.map((clip) => (
          <li key={clip.clipId} className="flex flex-wrap items-center gap-3 text-sm" data-testid="clip">
            <Link to={`/clips/${clip.clipId}`} className="font-medium hover:text-accent">
              {clip.name}
            </Link>
            <span className="tabular-nums text-zinc-400">
              {formatClock(durationSeconds(clip.startOffset))}–{formatClock(durationSeconds(clip.endOffset))}
            </span>
            {owner && (
              <Button size="sm" variant="ghost" onClick={() => void remove(clip.clipId)}>
                Delete
              </Button>
            )}
          </li>
        ))}
      </ul>
      {owner && (
        <form onSubmit={(event) => void make(event)} className="flex flex-wrap items-end gap-2">
          <TextField label="Clip name" name="name" required maxLength={100} />
          <TextField label="From (seconds)" name="start" type="number" min={0} step="0.1" required className="w-28" />
          <TextField label="To (seconds)" name="end" type="number" min={0} step="0.1" required className="w-28" />
          <Button type="submit" size="md">
            Make clip
          </Button>
        </form>
      )}
      <AlertText>{error?.message}</AlertText>
    </section>
  );
}
