import { describe, expect, it } from "vitest";

import { formatBytes, formatClock, formatEta, SpeedMeter } from "./format";

describe("format", () => {
  it("prints sizes in decimal units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1500)).toBe("1.5 KB");
    expect(formatBytes(250_000_000)).toBe("250 MB");
  });

  it("prints clocks with and without hours", () => {
    expect(formatClock(5)).toBe("0:05");
    expect(formatClock(3723)).toBe("1:02:03");
    expect(formatClock(Number.NaN)).toBe("–");
  });

  it("has no ETA until the speed is known", () => {
    expect(formatEta(1000, 0)).toBe("–");
    expect(formatEta(1000, 10)).toBe("1:40");
  });

  it("smooths speed over its window", () => {
    const meter = new SpeedMeter(1000);
    meter.add(0, 0);
    meter.add(500, 500);
    meter.add(1000, 1000);
    expect(meter.bytesPerSecond()).toBe(1000);
    meter.add(3000, 5000);
    expect(meter.bytesPerSecond()).toBe(2000);
  });
});
