/**
 * The storyboard's WebVTT index: each cue names a region of the sprite sheet
 * (`storyboard.jpg#xywh=x,y,w,h`) shown while the viewer hovers or drags over that time.
 */

export interface Thumbnail {
  start: number;
  end: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

function seconds(stamp: string): number {
  const parts = stamp.trim().split(":").map(Number);
  return parts.reduce((total, part) => total * 60 + part, 0);
}

export function parseStoryboard(vtt: string): Thumbnail[] {
  const thumbs: Thumbnail[] = [];
  const lines = vtt.split(/\r?\n/);
  for (let i = 0; i < lines.length; i += 1) {
    const timing = lines[i]!.match(/^\s*([\d:.]+)\s+-->\s+([\d:.]+)/);
    if (!timing) continue;
    const region = lines[i + 1]?.match(/#xywh=(\d+),(\d+),(\d+),(\d+)/);
    if (!region) continue;
    thumbs.push({
      start: seconds(timing[1]!),
      end: seconds(timing[2]!),
      x: Number(region[1]),
      y: Number(region[2]),
      width: Number(region[3]),
      height: Number(region[4]),
    });
  }
  return thumbs;
}

/** The thumbnail covering `time` (the last one before it when in a gap), or null. */
export function thumbnailAt(thumbs: Thumbnail[], time: number): Thumbnail | null {
  let found: Thumbnail | null = null;
  for (const thumb of thumbs) {
    if (thumb.start <= time) found = thumb;
    else break;
  }
  return found;
}
