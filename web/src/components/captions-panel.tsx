import { Code } from "@connectrpc/connect";
import { useQuery } from "@connectrpc/connect-query";
import { useState, type FormEvent } from "react";

import { videos } from "../api/client";
import { toApiError, type ApiError } from "../api/errors";
import { type Video, VideoService } from "../gen/vidmesh/v1/video_pb";
import { AlertText } from "./ui/alert-text";
import { Button } from "./ui/button";
import { TextField } from "./ui/field";
import { formText } from "../lib/forms";

/**
 * The owner's captions of a video: add a WebVTT or SRT file per language (adding a language it
 * already has replaces that file), mark one as shown by default, delete. Viewers pick them in
 * the player's captions menu.
 */
export function CaptionsPanel({ video, onChanged }: { video: Video; onChanged: () => void }) {
  const read = useQuery(VideoService.method.listCaptions, { videoId: video.videoId });
  const tracks = read.data?.captions ?? [];
  const [actionError, setError] = useState<ApiError | null>(null);
  const error = actionError ?? (read.error ? toApiError(read.error) : null);
  const [busy, setBusy] = useState(false);
  const load = () => read.refetch();

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const file = form.get("file");
    if (!(file instanceof File) || file.size === 0) return;
    const captions = {
      language: formText(form, "language").trim(),
      label: formText(form, "label").trim(),
      isDefault: form.get("default") === "on",
    };
    const content = new Uint8Array(await file.arrayBuffer());
    setBusy(true);
    setError(null);
    try {
      try {
        await videos.createCaptions({ videoId: video.videoId, captions, content });
      } catch (failure) {
        if (toApiError(failure).code !== Code.AlreadyExists) throw failure;
        await videos.updateCaptions({ videoId: video.videoId, language: captions.language, captions, content });
      }
      formElement.reset();
      await load();
      onChanged();
    } catch (failure) {
      setError(toApiError(failure));
    } finally {
      setBusy(false);
    }
  }

  async function remove(language: string) {
    setError(null);
    try {
      await videos.deleteCaptions({ videoId: video.videoId, language });
      await load();
      onChanged();
    } catch (failure) {
      setError(toApiError(failure));
    }
  }

  return (
    <section aria-labelledby="captions-heading" className="space-y-3 rounded-lg border border-zinc-800 p-4">
      <h2 id="captions-heading" className="font-semibold">
        Captions
      </h2>
      <ul className="space-y-1">
        {tracks.map((track) => (
          <li key={track.language} className="flex flex-wrap items-center gap-3 text-sm" data-testid="captions">
            <span className="font-medium">{track.label}</span>
            <span className="text-zinc-400">
              {track.language} · {track.cueCount} cues{track.isDefault ? " · shown by default" : ""}
            </span>
            <Button size="sm" variant="ghost" onClick={() => void remove(track.language)}>
              Delete
            </Button>
          </li>
        ))}
      </ul>
      <form onSubmit={(event) => void add(event)} className="flex flex-wrap items-end gap-2">
        <label className="flex flex-col gap-1 text-sm">
          <span>Caption file (WebVTT or SRT)</span>
          <input type="file" name="file" accept=".vtt,.srt,text/vtt" required className="text-sm" />
        </label>
        <TextField label="Language (e.g. en, fr-CA)" name="language" required maxLength={35} className="w-40" />
        <TextField label="Label" name="label" maxLength={100} className="w-40" />
        <label className="flex items-center gap-2 pb-2 text-sm">
          <input type="checkbox" name="default" /> Show by default
        </label>
        <Button type="submit" disabled={busy}>
          {busy ? "Adding…" : "Add captions"}
        </Button>
      </form>
      <AlertText>{error?.message}</AlertText>
    </section>
  );
}
