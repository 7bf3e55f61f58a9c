import { useCallback, useEffect, useRef, useState } from "react";

import type { ListVideosRequest_Scope, TextRange, Video } from "../gen/vidmesh/v1/video_pb";
import { videos } from "./client";
import { toApiError } from "./errors";

/**
 * A ListVideos scope read a page at a time (AIP-158 page tokens), first page on mount and again
 * whenever the search `query` changes. A request still in flight when a newer one starts is
 * cancelled, so a slow answer to an old query never replaces the results of a newer one.
 */
export function useVideoPages(scope: ListVideosRequest_Scope, pageSize: number, query = "") {
  const [items, setItems] = useState<Video[]>([]);
  const [highlights, setHighlights] = useState<Map<string, TextRange[]>>(new Map());
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const inFlight = useRef<AbortController | null>(null);

  const load = useCallback(
    async (pageToken: string) => {
      inFlight.current?.abort();
      const controller = new AbortController();
      inFlight.current = controller;
      setLoading(true);
      setError(null);
      try {
        const page = await videos.listVideos({ scope, pageSize, pageToken, query }, { signal: controller.signal });
        const found = new Map(page.highlights.map((item) => [item.videoId, item.titleRanges]));
        setItems((current) => (pageToken ? [...current, ...page.videos] : page.videos));
        setHighlights((current) => (pageToken ? new Map([...current, ...found]) : found));
        setNext(page.nextPageToken || null);
      } catch (failure) {
        if (controller.signal.aborted) return;
        setError(toApiError(failure).message);
      } finally {
        if (!controller.signal.aborted) setLoading(false);
      }
    },
    [scope, pageSize, query],
  );

  useEffect(() => {
    void load("");
    return () => inFlight.current?.abort();
  }, [load]);

  const more = useCallback(() => (next ? load(next) : Promise.resolve()), [load, next]);
  return { items, setItems, highlights, hasMore: next !== null, more, error, loading };
}
