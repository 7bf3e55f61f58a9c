import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";

import { TimelineStep_Kind, TimelineStepSchema } from "../gen/vidmesh/v1/video_pb";
import { secondsDuration } from "./durations";
import { formatStepSeconds, timelineBars } from "./timeline";

function step(kind: TimelineStep_Kind, startMs: number, endMs: number | null) {
  return create(TimelineStepSchema, {
    kind,
    startTime: timestampFromMs(startMs),
    endTime: endMs === null ? undefined : timestampFromMs(endMs),
    duration: endMs === null ? undefined : secondsDuration((endMs - startMs) / 1000),
  });
}

describe("timelineBars", () => {
  it("places every step on one axis from the first start to the last end", () => {
    const bars = timelineBars([
      step(TimelineStep_Kind.UPLOAD, 0, 1000),
      step(TimelineStep_Kind.QUEUE, 1000, 1500),
      step(TimelineStep_Kind.CHUNK, 1500, 4000),
      step(TimelineStep_Kind.READY, 4000, 4000),
    ]);
    expect(bars.map((bar) => [bar.offset, bar.width])).toEqual([
      [0, 0.25],
      [0.25, 0.125],
      [0.375, 0.625],
      [1, 0],
    ]);
    expect(bars.map((bar) => bar.moment)).toEqual([false, false, false, true]);
    expect(bars[2]!.seconds).toBe(2.5);
  });

  it("draws a running step up to now and reports no duration", () => {
    const bars = timelineBars(
      [step(TimelineStep_Kind.UPLOAD, 0, 1000), step(TimelineStep_Kind.QUEUE, 1000, null)],
      2000,
    );
    expect(bars[1]).toMatchObject({ offset: 0.5, width: 0.5, seconds: null });
  });
});

describe("formatStepSeconds", () => {
  it("is precise for short steps and a clock for long ones", () => {
    expect(formatStepSeconds(0.843)).toBe("0.84 s");
    expect(formatStepSeconds(12.34)).toBe("12.3 s");
    expect(formatStepSeconds(125)).toBe("2:05");
    expect(formatStepSeconds(null)).toBe("running…");
  });
});
