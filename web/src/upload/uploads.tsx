/**
 * Uploads for the whole app (they keep going while the user browses other pages), built on
 * tus-js-client against `/v1/tus/`: chunked PATCHes, automatic retries, pause/resume, and resume
 * after a page reload (tus-js-client remembers each file's upload URL in localStorage; choosing
 * the same file again continues from the server's offset).
 */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";
import * as tus from "tus-js-client";

import { accessToken } from "../api/session";
import { describeReason } from "../api/errors";
import { SpeedMeter } from "../lib/format";

export type UploadStatus = "uploading" | "paused" | "done" | "failed";
export type VisibilityChoice = "private" | "unlisted" | "public";

export interface UploadItem {
  key: string;
  name: string;
  title: string;
  size: number;
  sent: number;
  bytesPerSecond: number;
  status: UploadStatus;
  resumed: boolean;
  videoId: string | null;
  error: string | null;
}

export interface PreviousUpload {
  name: string;
  size: number;
  startedAt: string;
}

interface Uploads {
  items: UploadItem[];
  active: number;
  // Functions, not methods: components destructure them.
  add: (files: File[], options: { visibility: VisibilityChoice }) => void;
  pause: (key: string) => void;
  resume: (key: string) => void;
  dismiss: (key: string) => void;
  unfinished: () => Promise<PreviousUpload[]>;
}

const CHUNK_SIZE = 16 * 1024 * 1024;
const Context = createContext<Uploads | null>(null);

export const ACCEPTED = "video/*,.mkv,.mov,.mp4,.webm,.avi,.m4v,.ts";

/** The server's reason and words from a tus error response, if it sent JSON. */
function tusErrorText(error: Error): string {
  const detailed = error as tus.DetailedError;
  const response = detailed.originalResponse;
  if (response) {
    const status = response.getStatus();
    try {
      const body = JSON.parse(response.getBody()) as { reason?: string; message?: string };
      if (body.reason) return describeReason(body.reason, body.message);
    } catch {
      // Not JSON: fall through to the status.
    }
    if (status === 401) return "Your session expired; sign in again.";
    if (status === 413) return "The file is larger than we accept.";
    return `The server refused the upload (HTTP ${status}).`;
  }
  return "The connection was lost. Retry to continue where it stopped.";
}

/** A refusal that retrying cannot fix (the server rejected the file, not the connection). */
function isPermanent(error: Error): boolean {
  const status = (error as tus.DetailedError).originalResponse?.getStatus() ?? 0;
  return status >= 400 && status < 500 && ![409, 423, 429].includes(status);
}

/** Forget a file's stored upload URL, so a later page does not offer to resume it. */
async function forget(file: File, options: tus.UploadOptions): Promise<void> {
  const storage = tus.defaultOptions.urlStorage;
  const fingerprint = await tus.defaultOptions.fingerprint(file, options);
  if (!fingerprint) return;
  for (const stored of await storage.findUploadsByFingerprint(fingerprint)) {
    await storage.removeUpload(stored.urlStorageKey);
  }
}

function titleOf(file: File): string {
  return file.name.replace(/\.[^.]+$/, "") || file.name;
}

export function UploadsProvider({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<UploadItem[]>([]);
  const uploads = useRef(new Map<string, tus.Upload>());

  const patch = useCallback((key: string, change: Partial<UploadItem>) => {
    setItems((current) => current.map((item) => (item.key === key ? { ...item, ...change } : item)));
  }, []);

  const start = useCallback(
    (key: string, file: File, visibility: VisibilityChoice) => {
      const meter = new SpeedMeter();
      const upload = new tus.Upload(file, {
        endpoint: "/v1/tus/",
        chunkSize: CHUNK_SIZE,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        metadata: { filename: file.name, title: titleOf(file), visibility, filetype: file.type },
        onBeforeRequest: async (request) => {
          const token = await accessToken();
          if (token) request.setHeader("Authorization", `Bearer ${token}`);
        },
        onAfterResponse: (_request, response) => {
          const videoId = response.getHeader("Vidmesh-Video-Id");
          if (videoId) patch(key, { videoId });
        },
        onShouldRetry: (error) => {
          const status = error.originalResponse?.getStatus() ?? 0;
          return status === 0 || status === 409 || status === 423 || status === 429 || status >= 500;
        },
        onProgress: (sent) => {
          meter.add(performance.now(), sent);
          patch(key, { sent, bytesPerSecond: meter.bytesPerSecond() });
        },
        onSuccess: () => {
          uploads.current.delete(key);
          patch(key, { status: "done", sent: file.size, bytesPerSecond: 0 });
        },
        onError: (error) => {
          meter.reset();
          if (isPermanent(error)) void forget(file, upload.options);
          patch(key, { status: "failed", error: tusErrorText(error), bytesPerSecond: 0 });
        },
      });
      uploads.current.set(key, upload);
      void upload.findPreviousUploads().then((previous) => {
        const last = previous.sort((a, b) => b.creationTime.localeCompare(a.creationTime))[0];
        if (last) {
          upload.resumeFromPreviousUpload(last);
          patch(key, { resumed: true });
        }
        upload.start();
      });
    },
    [patch],
  );

  const files = useRef(new Map<string, { file: File; visibility: VisibilityChoice }>());

  const value = useMemo<Uploads>(
    () => ({
      items,
      active: items.filter((item) => item.status === "uploading" || item.status === "paused").length,
      add(added, { visibility }) {
        for (const file of added) {
          const key = `${file.name}:${file.size}:${file.lastModified}:${Math.random().toString(36).slice(2)}`;
          files.current.set(key, { file, visibility });
          setItems((current) => [
            ...current,
            {
              key,
              name: file.name,
              title: titleOf(file),
              size: file.size,
              sent: 0,
              bytesPerSecond: 0,
              status: "uploading",
              resumed: false,
              videoId: null,
              error: null,
            },
          ]);
          start(key, file, visibility);
        }
      },
      pause(key) {
        void uploads.current.get(key)?.abort();
        patch(key, { status: "paused", bytesPerSecond: 0 });
      },
      resume(key) {
        const upload = uploads.current.get(key);
        const entry = files.current.get(key);
        patch(key, { status: "uploading", error: null });
        if (upload) upload.start();
        else if (entry) start(key, entry.file, entry.visibility);
      },
      dismiss(key) {
        // Removing an unfinished upload cancels it: the server drops its bytes (tus termination).
        const upload = uploads.current.get(key);
        const entry = files.current.get(key);
        if (upload) void upload.abort(true).catch(() => undefined);
        if (entry) void forget(entry.file, upload?.options ?? {}).catch(() => undefined);
        uploads.current.delete(key);
        files.current.delete(key);
        setItems((current) => current.filter((item) => item.key !== key));
      },
      async unfinished() {
        const stored = await tus.defaultOptions.urlStorage.findAllUploads();
        return stored.map((entry) => ({
          name: entry.metadata.filename ?? "video",
          size: entry.size ?? 0,
          startedAt: entry.creationTime,
        }));
      },
    }),
    [items, patch, start],
  );

  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useUploads(): Uploads {
  const uploads = useContext(Context);
  if (!uploads) throw new Error("useUploads outside UploadsProvider");
  return uploads;
}
