import { describe, expect, it } from "vitest";

import { durationSeconds, secondsDuration } from "./durations";

describe("durations", () => {
  it("round-trips fractional seconds", () => {
    expect(secondsDuration(5.5)).toMatchObject({ seconds: 5n, nanos: 500_000_000 });
    expect(durationSeconds(secondsDuration(12.25))).toBe(12.25);
  });

  it("reads an unset duration as zero", () => {
    expect(durationSeconds(undefined)).toBe(0);
  });
});
