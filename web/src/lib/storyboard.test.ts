import { describe, expect, it } from "vitest";

import { parseStoryboard, thumbnailAt } from "./storyboard";

const VTT = `WEBVTT

00:00:00.000 --> 00:00:04.000
storyboard.jpg#xywh=0,0,160,90

00:00:04.000 --> 00:00:08.000
storyboard.jpg#xywh=160,0,160,90

01:00:08.000 --> 01:00:12.000
storyboard.jpg?token=abc#xywh=0,90,160,90
`;

describe("storyboard", () => {
  it("parses cues and their sprite regions", () => {
    const thumbs = parseStoryboard(VTT);
    expect(thumbs).toHaveLength(3);
    expect(thumbs[1]).toEqual({ start: 4, end: 8, x: 160, y: 0, width: 160, height: 90 });
    expect(thumbs[2]!.start).toBe(3608);
  });

  it("finds the thumbnail for a time", () => {
    const thumbs = parseStoryboard(VTT);
    expect(thumbnailAt(thumbs, 5)!.x).toBe(160);
    expect(thumbnailAt(thumbs, 100)!.x).toBe(160);
    expect(thumbnailAt([], 1)).toBeNull();
  });
});
