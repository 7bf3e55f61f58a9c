import { describe, expect, it } from "vitest";

import { refreshDelay, withToken } from "./tokens";

describe("playback tokens", () => {
  it("replaces the token and keeps other parameters", () => {
    expect(withToken("/hls/v/720p/seg_00001.ts?token=old", "new")).toBe("/hls/v/720p/seg_00001.ts?token=new");
    expect(withToken("/hls/v/master.m3u8?a=1&token=old", "n")).toBe("/hls/v/master.m3u8?a=1&token=n");
    expect(withToken("/hls/v/poster.jpg", "n")).toBe("/hls/v/poster.jpg?token=n");
  });

  it("leaves the bare URLs of public videos bare", () => {
    expect(withToken("/hls/v/720p/seg_00001.ts", "")).toBe("/hls/v/720p/seg_00001.ts");
    expect(withToken("/hls/v/master.m3u8?token=old", "")).toBe("/hls/v/master.m3u8");
    expect(withToken("/hls/v/master.m3u8?a=1&token=old", "")).toBe("/hls/v/master.m3u8?a=1");
  });

  it("refreshes a minute early, or halfway for short tokens, never sooner than 5 s", () => {
    expect(refreshDelay(600_000, 0)).toBe(540_000);
    expect(refreshDelay(60_000, 0)).toBe(30_000);
    expect(refreshDelay(1_000, 0)).toBe(5_000);
  });
});
