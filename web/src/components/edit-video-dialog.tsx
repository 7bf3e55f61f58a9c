import * as Dialog from "@radix-ui/react-dialog";
import { useState, type FormEvent, type ReactNode } from "react";

import { videos } from "../api/client";
import { toApiError, type ApiError } from "../api/errors";
import { Visibility, type Video } from "../gen/vidmesh/v1/video_pb";
import { Button } from "./ui/button";
import { Select, TextArea, TextField } from "./ui/field";
import { formText } from "../lib/forms";

/** Title, description, visibility and downloads, saved with a field mask of what changed. */
export function EditVideoDialog({
  video,
  trigger,
  onSaved,
}: {
  video: Video;
  trigger: ReactNode;
  onSaved: (video: Video) => void;
}) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const title = formText(form, "title");
    const description = formText(form, "description");
    const visibility = Number(form.get("visibility")) as Visibility;
    const downloads = { enabled: form.get("downloads") === "on", audio: form.get("audio") === "on", renditions: [] };
    const current = video.downloads;
    const downloadsChanged =
      downloads.enabled !== Boolean(current?.enabled) || downloads.audio !== Boolean(current?.audio);
    const paths = [
      title !== video.title && "title",
      description !== video.description && "description",
      visibility !== video.visibility && "visibility",
      downloadsChanged && "downloads",
    ].filter((path): path is string => Boolean(path));
    if (paths.length === 0) {
      setOpen(false);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const response = await videos.updateVideo({
        video: { videoId: video.videoId, title, description, visibility, downloads },
        updateMask: { paths },
      });
      if (response.video) onSaved(response.video);
      setOpen(false);
    } catch (failure) {
      setError(toApiError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog.Root open={open} onOpenChange={(next) => (setOpen(next), setError(null))}>
      <Dialog.Trigger asChild>{trigger}</Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 bg-black/70" />
        <Dialog.Content className="fixed left-1/2 top-1/2 w-[min(32rem,92vw)] -translate-x-1/2 -translate-y-1/2 rounded-lg bg-zinc-900 p-6 shadow-xl">
          <Dialog.Title className="mb-4 text-lg font-semibold">Edit video</Dialog.Title>
          <Dialog.Description className="sr-only">Change the title, description or who can watch.</Dialog.Description>
          <form onSubmit={(event) => void save(event)} className="space-y-4">
            <TextField
              label="Title"
              name="title"
              defaultValue={video.title}
              error={error?.field === "title" ? error.message : null}
            />
            <TextArea
              label="Description"
              name="description"
              defaultValue={video.description}
              error={error?.field === "description" ? error.message : null}
            />
            <Select label="Visibility" name="visibility" defaultValue={String(video.visibility || Visibility.PRIVATE)}>
              <option value={Visibility.PRIVATE}>Private: only you</option>
              <option value={Visibility.UNLISTED}>Unlisted: anyone with the link</option>
              <option value={Visibility.PUBLIC}>Public: listed in Explore</option>
            </Select>
            <fieldset className="space-y-2">
              <legend className="text-sm font-medium">Downloads</legend>
              <label className="flex items-center gap-2 text-sm">
                <input type="checkbox" name="downloads" defaultChecked={video.downloads?.enabled} />
                Viewers may download MP4 files of every quality
              </label>
              <label className="flex items-center gap-2 text-sm">
                <input type="checkbox" name="audio" defaultChecked={video.downloads?.audio} />
                …and the audio alone (M4A)
              </label>
            </fieldset>
            {error && !["title", "description"].includes(error.field ?? "") && (
              <p role="alert" className="text-sm text-red-400">
                {error.message}
              </p>
            )}
            <div className="flex justify-end gap-2">
              <Dialog.Close asChild>
                <Button variant="secondary">Cancel</Button>
              </Dialog.Close>
              <Button type="submit" disabled={busy}>
                {busy ? "Saving…" : "Save"}
              </Button>
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
