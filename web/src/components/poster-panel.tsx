import { useState, type FormEvent } from "react";

import { playback } from "../api/client";
import { toApiError } from "../api/errors";
import type { Video } from "../gen/vidmesh/v1/video_pb";
import { secondsDuration } from "../lib/durations";
import { AlertText } from "./ui/alert-text";
import { Button } from "./ui/button";
import { TextField } from "./ui/field";

/**
 * The owner picks the poster the feed, My videos and the player show: an image of their own
 * (re-encoded by the server) or the frame at a time of the video.
 */
export function PosterPanel({ video }: { video: Video }) {
  const [posterUrl, setPosterUrl] = useState(video.posterUrl);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function set(source: Parameters<typeof playback.setPoster>[0]["source"]) {
    setBusy(true);
    setError(null);
    try {
      setPosterUrl((await playback.setPoster({ videoId: video.videoId, source })).posterUrl);
    } catch (failure) {
      setError(toApiError(failure).message);
    } finally {
      setBusy(false);
    }
  }

  async function upload(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const file = new FormData(event.currentTarget).get("image");
    if (!(file instanceof File) || file.size === 0) return;
    await set({ case: "image", value: new Uint8Array(await file.arrayBuffer()) });
  }

  async function frame(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const at = Number(new FormData(event.currentTarget).get("at"));
    await set({ case: "frameTime", value: secondsDuration(at) });
  }

  return (
    <section aria-labelledby="poster-heading" className="space-y-3 rounded-lg border border-zinc-800 p-4">
      <h2 id="poster-heading" className="font-semibold">
        Poster
      </h2>
      <div className="flex flex-wrap items-end gap-6">
        {posterUrl && <img src={posterUrl} alt="Current poster" className="h-24 rounded" data-testid="poster" />}
        <form onSubmit={(event) => void upload(event)} className="flex items-end gap-2">
          <label className="flex flex-col gap-1 text-sm">
            <span>Image (JPEG, PNG or WebP)</span>
            <input type="file" name="image" accept="image/jpeg,image/png,image/webp" required className="text-sm" />
          </label>
          <Button type="submit" variant="secondary" disabled={busy}>
            Use image
          </Button>
        </form>
        <form onSubmit={(event) => void frame(event)} className="flex items-end gap-2">
          <TextField label="Frame at (seconds)" name="at" type="number" min={0} step="0.1" required className="w-28" />
          <Button type="submit" variant="secondary" disabled={busy}>
            Use frame
          </Button>
        </form>
      </div>
      <AlertText>{error}</AlertText>
    </section>
  );
}
