import { createConnectQueryKey, useInfiniteQuery } from "@connectrpc/connect-query";
import type { InfiniteData, QueryClient } from "@tanstack/react-query";
import { useMemo } from "react";

import {
  type ListVideosRequest_Scope,
  type ListVideosResponse,
  type TextRange,
  type Video,
  VideoService,
} from "../gen/vidmesh/v1/video_pb";
import { toApiError } from "./errors";

/**
 * A ListVideos scope read a page at a time (AIP-158 page tokens) through TanStack Query: each
 * (scope, query) has its own cache entry, so a slow answer to an old search can never replace
 * the results of a newer one, and a read nobody waits for any more is cancelled.
 */
export function useVideoPages(scope: ListVideosRequest_Scope, pageSize: number, query = "") {
  const pages = useInfiniteQuery(
    VideoService.method.listVideos,
    { scope, pageSize, query, pageToken: "" },
    { pageParamKey: "pageToken", getNextPageParam: (page) => page.nextPageToken || undefined },
  );
  const loaded = pages.data?.pages;
  const items = useMemo(() => (loaded ?? []).flatMap((page) => page.videos), [loaded]);
  const highlights = useMemo(
    () =>
      new Map<string, readonly TextRange[]>(
        (loaded ?? []).flatMap((page) => page.highlights.map((item) => [item.videoId, item.titleRanges] as const)),
      ),
    [loaded],
  );
  return {
    items,
    highlights,
    hasMore: pages.hasNextPage,
    more: () => pages.fetchNextPage(),
    error: pages.error ? toApiError(pages.error).message : null,
    loading: pages.isPending || pages.isFetchingNextPage,
  };
}

/** Take a deleted video out of every cached ListVideos page (no reload of the list). */
export function forgetVideo(client: QueryClient, videoId: string): void {
  client.setQueriesData<InfiniteData<ListVideosResponse>>(
    { queryKey: createConnectQueryKey({ schema: VideoService.method.listVideos, cardinality: "infinite" }) },
    (data) =>
      data && {
        ...data,
        pages: data.pages.map((page) => ({ ...page, videos: page.videos.filter((v: Video) => v.videoId !== videoId) })),
      },
  );
}
