/**
 * Live state of a video through the `WatchVideo` server stream (no polling).
 *
 * Browsers speak gRPC-Web over HTTP/1.1 here, which allows six connections per origin, and every
 * open stream holds one; at most three watches run at once and the rest wait their turn
 * (`StreamSlots`), so uploads and page loads always have connections left. A stream that ends early (server
 * draining, network blip) is reopened with backoff until the video is READY or FAILED.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { useEffect, useState } from "react";

import type { Video } from "../gen/vidmesh/v1/video_pb";
import { videos } from "./client";
import { StreamSlots } from "./stream-slots";
import { isTerminal } from "./video-state";

// Three of the six connections an origin gets: uploads and page loads always have some left.
const slots = new StreamSlots(3);

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * The video as last seen, and a setter for local changes (an edit, a retry that re-queues it).
 * `follow` false keeps the stream closed (e.g. an upload abandoned elsewhere, which could sit in
 * UPLOADING for a day and would otherwise hold one of the few connections).
 */
export function useWatchVideo(initial: Video, follow = true): [Video, (video: Video) => void] {
  const [video, setVideo] = useState(initial);
  const videoId = video.videoId;
  const done = isTerminal(video.state) || !follow;

  useEffect(() => {
    if (done) return;
    const controller = new AbortController();
    const { signal } = controller;
    void (async () => {
      let backoff = 1000;
      while (!signal.aborted) {
        if (!(await slots.acquire(signal))) return;
        let terminal = false;
        try {
          for await (const update of videos.watchVideo({ videoId }, { signal })) {
            if (!update.video) continue;
            setVideo(update.video);
            backoff = 1000;
            terminal = isTerminal(update.video.state);
          }
        } catch (error) {
          const code = ConnectError.from(error).code;
          if (signal.aborted || code === Code.NotFound || code === Code.PermissionDenied) return;
        } finally {
          slots.release();
        }
        if (terminal) return;
        await pause(backoff, signal);
        backoff = Math.min(backoff * 2, 15000);
      }
    })();
    return () => controller.abort();
  }, [videoId, done]);

  return [video, setVideo];
}
