import { useState, type PointerEvent } from "react";

import { formatClock } from "../lib/format";
import { thumbnailAt, type Thumbnail } from "../lib/storyboard";

interface Props {
  time: number;
  duration: number;
  thumbs: Thumbnail[];
  /** The storyboard sprite (with the current token), where `thumbs` point into. */
  spriteUrl: string;
  onSeek: (seconds: number) => void;
}

/** The seek bar, with a storyboard frame and the time under the pointer while hovering. */
export function SeekBar({ time, duration, thumbs, spriteUrl, onSeek }: Props) {
  const [preview, setPreview] = useState<{ thumb: Thumbnail; left: number; time: number } | null>(null);

  function onHover(event: PointerEvent<HTMLInputElement>) {
    const rect = event.currentTarget.getBoundingClientRect();
    const ratio = Math.max(0, Math.min((event.clientX - rect.left) / rect.width, 1));
    const at = ratio * duration;
    const thumb = thumbnailAt(thumbs, at);
    setPreview(thumb ? { thumb, left: ratio * rect.width, time: at } : null);
  }

  return (
    <div className="relative">
      {preview && (
        <div
          className="pointer-events-none absolute bottom-6 -translate-x-1/2 rounded border border-zinc-600 bg-black"
          style={{ left: preview.left }}
          data-testid="storyboard-preview"
        >
          <div
            style={{
              width: preview.thumb.width,
              height: preview.thumb.height,
              backgroundImage: `url("${spriteUrl}")`,
              backgroundPosition: `-${preview.thumb.x}px -${preview.thumb.y}px`,
            }}
          />
          <p className="text-center text-xs">{formatClock(preview.time)}</p>
        </div>
      )}
      <input
        type="range"
        min={0}
        max={duration || 0}
        step={0.1}
        value={Math.min(time, duration || 0)}
        aria-label="Seek"
        aria-valuetext={`${formatClock(time)} of ${formatClock(duration)}`}
        onChange={(e) => onSeek(Number(e.target.value))}
        onPointerMove={onHover}
        onPointerLeave={() => setPreview(null)}
        className="w-full accent-brand"
      />
    </div>
  );
}
