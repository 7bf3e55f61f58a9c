import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";

import { Video_State, VideoSchema } from "../gen/vidmesh/v1/video_pb";
import { canPlay, transcodeText } from "./video-state";

describe("transcodeText", () => {
  it("says where a queued video stands", () => {
    const video = create(VideoSchema, { state: Video_State.QUEUED, transcode: { queuePosition: 3 } });
    expect(transcodeText(video)).toBe("Queued · 2 ahead in the queue");
  });

  it("shows chunk progress and the time left of a playable video", () => {
    const video = create(VideoSchema, {
      state: Video_State.PROCESSING,
      playable: true,
      transcode: { chunksDone: 3, chunksTotal: 20, estimatedTimeRemaining: { seconds: 65n } },
    });
    expect(transcodeText(video)).toBe("Playable · 3 of 20 chunks · about 1:05 left");
    expect(canPlay(video)).toBe(true);
  });

  it("is not playable before the first chunk", () => {
    const video = create(VideoSchema, { state: Video_State.PROCESSING, progressPercent: 0 });
    expect(canPlay(video)).toBe(false);
    expect(transcodeText(video)).toBe("Processing · 0%");
  });
});
