import { clsx } from "clsx";
import { useEffect, useRef, useState, type DragEvent } from "react";
import { UploadCloud, X } from "lucide-react";
import { Link } from "react-router";

import { Button } from "../components/ui/button";
import { Select } from "../components/ui/field";
import { ProgressBar } from "../components/ui/progress";
import { formatBytes, formatEta, formatSpeed } from "../lib/format";
import { QuotaMeter } from "../upload/quota-meter";
import { ACCEPTED, useUploads, type PreviousUpload, type UploadItem, type VisibilityChoice } from "../upload/uploads";

function UploadRow({ item }: { item: UploadItem }) {
  const { pause, resume, dismiss } = useUploads();
  const percent = item.size ? (item.sent / item.size) * 100 : 0;
  return (
    <li className="space-y-2 rounded-lg border border-zinc-800 p-4" data-testid="upload-row" data-status={item.status}>
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-medium">{item.name}</span>
        <span className="text-sm text-zinc-400">{formatBytes(item.size)}</span>
        {item.resumed && <span className="text-xs text-emerald-400">resumed</span>}
        <span className="ml-auto flex gap-2">
          {item.status === "uploading" && (
            <Button size="sm" variant="secondary" onClick={() => pause(item.key)}>
              Pause
            </Button>
          )}
          {(item.status === "paused" || item.status === "failed") && (
            <Button size="sm" variant="secondary" onClick={() => resume(item.key)}>
              {item.status === "failed" ? "Retry" : "Resume"}
            </Button>
          )}
          {item.status === "done" && item.videoId && (
            <Link
              className="inline-flex h-8 items-center rounded-md bg-zinc-800 px-3 text-sm hover:bg-zinc-700"
              to="/me/videos"
            >
              See progress
            </Link>
          )}
          <Button
            size="sm"
            variant="ghost"
            aria-label={`Remove ${item.name} from the list`}
            onClick={() => dismiss(item.key)}
          >
            <X size={16} aria-hidden />
          </Button>
        </span>
      </div>
      <ProgressBar
        value={percent}
        label={`Upload of ${item.name}`}
        tone={item.status === "failed" ? "red" : item.status === "done" ? "green" : "brand"}
      />
      <p className="text-sm text-zinc-400" aria-live="polite">
        {item.status === "uploading" &&
          `${percent.toFixed(1)}% · ${formatBytes(item.sent)} of ${formatBytes(item.size)} · ${formatSpeed(item.bytesPerSecond)} · ${formatEta(item.size - item.sent, item.bytesPerSecond)} left`}
        {item.status === "paused" && `Paused at ${percent.toFixed(1)}%`}
        {item.status === "done" && "Uploaded. Transcoding starts now."}
        {item.status === "failed" && <span className="text-red-400">{item.error}</span>}
      </p>
    </li>
  );
}

/** Drag and drop (or pick) several videos; each goes up as its own resumable tus upload. */
export function UploadPage() {
  const { items, add, unfinished } = useUploads();
  const [visibility, setVisibility] = useState<VisibilityChoice>("private");
  const [dragging, setDragging] = useState(false);
  const [previous, setPrevious] = useState<PreviousUpload[]>([]);
  const input = useRef<HTMLInputElement>(null);

  const statuses = items.map((item) => item.status).join();
  useEffect(() => {
    void unfinished().then(setPrevious);
  }, [unfinished, statuses]);

  function take(files: FileList | null) {
    if (files && files.length > 0) add(Array.from(files), { visibility });
  }

  function onDrop(event: DragEvent<HTMLDivElement>) {
    event.preventDefault();
    setDragging(false);
    take(event.dataTransfer.files);
  }

  const pending = previous.filter(
    (entry) => !items.some((item) => item.name === entry.name && item.status !== "failed"),
  );

  return (
    <section aria-labelledby="upload-title" className="space-y-6">
      <h1 id="upload-title" className="text-2xl font-bold">
        Upload videos
      </h1>
      <QuotaMeter />
      <div className="max-w-xs">
        <Select
          label="Visibility of new uploads"
          value={visibility}
          onChange={(e) => setVisibility(e.target.value as VisibilityChoice)}
        >
          <option value="private">Private: only you</option>
          <option value="unlisted">Unlisted: anyone with the link</option>
          <option value="public">Public: listed in Explore</option>
        </Select>
      </div>
      <div
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        className={clsx(
          "flex flex-col items-center justify-center gap-3 rounded-xl border-2 border-dashed p-12 text-center transition-colors",
          dragging ? "border-brand bg-brand/10" : "border-zinc-700",
        )}
      >
        <UploadCloud size={40} className="text-zinc-400" aria-hidden />
        <p className="text-lg">Drag and drop video files here</p>
        <p className="text-sm text-zinc-400">
          MP4, MOV, MKV, WebM… Uploads resume if the connection drops or the page reloads.
        </p>
        <Button onClick={() => input.current?.click()}>Choose files</Button>
        <input
          ref={input}
          type="file"
          accept={ACCEPTED}
          multiple
          className="sr-only"
          aria-label="Choose video files"
          data-testid="file-input"
          onChange={(event) => {
            take(event.target.files);
            event.target.value = "";
          }}
        />
      </div>
      {pending.length > 0 && (
        <div role="status" className="rounded-lg bg-amber-950/60 p-4 text-sm text-amber-200">
          <p className="font-medium">Unfinished uploads from before:</p>
          <ul className="mt-1 list-inside list-disc">
            {pending.map((entry) => (
              <li key={entry.startedAt + entry.name}>
                {entry.name} ({formatBytes(entry.size)})
              </li>
            ))}
          </ul>
          <p className="mt-1">Choose the same file again to continue where it stopped.</p>
        </div>
      )}
      {items.length > 0 && (
        <ul className="space-y-3" aria-label="Uploads">
          {items.map((item) => (
            <UploadRow key={item.key} item={item} />
          ))}
        </ul>
      )}
    </section>
  );
}
