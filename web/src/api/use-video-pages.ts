import { useCallback, useEffect, useState } from "react";

import type { ListVideosRequest_Scope, Video } from "../gen/vidmesh/v1/video_pb";
import { videos } from "./client";
import { toApiError } from "./errors";

/** A ListVideos scope read a page at a time (AIP-158 page tokens), first page on mount. */
export function useVideoPages(scope: ListVideosRequest_Scope, pageSize: number) {
  const [items, setItems] = useState<Video[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  const load = useCallback(
    async (pageToken: string) => {
      setLoading(true);
      setError(null);
      try {
        const page = await videos.listVideos({ scope, pageSize, pageToken });
        setItems((current) => (pageToken ? [...current, ...page.videos] : page.videos));
        setNext(page.nextPageToken || null);
      } catch (failure) {
        setError(toApiError(failure).message);
      } finally {
        setLoading(false);
      }
    },
    [scope, pageSize],
  );

  useEffect(() => {
    void load("");
  }, [load]);

  const more = useCallback(() => (next ? load(next) : Promise.resolve()), [load, next]);
  return { items, setItems, hasMore: next !== null, more, error, loading };
}
