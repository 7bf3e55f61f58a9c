import { Link } from "react-router";

import { useVideoPages } from "../api/use-video-pages";
import { HighlightedTitle } from "../components/highlighted-title";
import { SearchBox, useSearchQuery } from "../components/search-box";
import { Button } from "../components/ui/button";
import { VideoPoster } from "../components/video-poster";
import { ListVideosRequest_Scope } from "../gen/vidmesh/v1/video_pb";

const PAGE_SIZE = 24;

/** The public feed, newest first (best match first when searching), a page at a time. */
export function FeedPage() {
  const [typed, query, setTyped] = useSearchQuery();
  const { items, highlights, hasMore, more, error, loading } = useVideoPages(
    ListVideosRequest_Scope.PUBLIC,
    PAGE_SIZE,
    query,
  );

  return (
    <section aria-labelledby="feed-title">
      <div className="mb-4 flex flex-wrap items-center justify-between gap-3">
        <h1 id="feed-title" className="text-2xl font-bold">
          Explore
        </h1>
        <SearchBox label="Search videos" value={typed} onChange={setTyped} />
      </div>
      {error && (
        <p role="alert" className="mb-4 text-red-400">
          {error}
        </p>
      )}
      {!loading && !error && items.length === 0 && query.trim() !== "" && (
        <p className="text-zinc-400" data-testid="no-results">
          Nothing matches “{query.trim()}”.
        </p>
      )}
      {!loading && !error && items.length === 0 && query.trim() === "" && (
        <p className="text-zinc-400">
          No public videos yet.{" "}
          <Link className="text-accent underline" to="/upload">
            Upload the first one.
          </Link>
        </p>
      )}
      <ul className="grid grid-cols-1 gap-6 sm:grid-cols-2 lg:grid-cols-3 xl:grid-cols-4">
        {items.map((video) => (
          <li key={video.videoId}>
            <Link to={`/watch/${video.videoId}`} className="group block space-y-2">
              <VideoPoster video={video} />
              <h2 className="line-clamp-2 font-medium group-hover:text-accent" data-testid="video-title">
                <HighlightedTitle title={video.title} ranges={highlights.get(video.videoId)} />
              </h2>
            </Link>
          </li>
        ))}
      </ul>
      {hasMore && (
        <div className="mt-8 flex justify-center">
          <Button variant="secondary" disabled={loading} onClick={() => void more()}>
            {loading ? "Loading…" : "Load more"}
          </Button>
        </div>
      )}
    </section>
  );
}
