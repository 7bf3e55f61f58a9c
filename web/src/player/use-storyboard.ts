import { useEffect, useState } from "react";

import { parseStoryboard, type Thumbnail } from "../lib/storyboard";

/**
 * The storyboard's thumbnails (its WebVTT index) for seek previews; none for `url` "" (no
 * storyboard, or a clip, whose timeline is not the video's and would preview the wrong frames).
 */
export function useStoryboard(url: string): Thumbnail[] {
  const [loaded, setLoaded] = useState<{ url: string; thumbs: Thumbnail[] }>({ url: "", thumbs: [] });
  useEffect(() => {
    if (!url) return;
    const controller = new AbortController();
    fetch(url, { signal: controller.signal })
      .then((response) => (response.ok ? response.text() : ""))
      .then((text) => setLoaded({ url, thumbs: parseStoryboard(text) }))
      .catch(() => undefined);
    return () => controller.abort();
  }, [url]);
  // Thumbnails of another video's storyboard are never shown while the new one loads.
  return loaded.url === url ? loaded.thumbs : [];
}
