import { describe, expect, it } from "vitest";

import { highlightPieces } from "./highlight";

describe("highlightPieces", () => {
  it("marks the ranges and keeps the rest", () => {
    expect(highlightPieces("Morning run by the river", [{ start: 8, end: 11 }])).toEqual([
      { text: "Morning ", match: false },
      { text: "run", match: true },
      { text: " by the river", match: false },
    ]);
  });

  it("counts code points, as the server does", () => {
    expect(
      highlightPieces("🎉 party 🎉 time", [
        { start: 2, end: 7 },
        { start: 10, end: 14 },
      ]),
    ).toEqual([
      { text: "🎉 ", match: false },
      { text: "party", match: true },
      { text: " 🎉 ", match: false },
      { text: "time", match: true },
    ]);
  });

  it("clips ranges that overlap or run past the end", () => {
    expect(
      highlightPieces("abcdef", [
        { start: 3, end: 99 },
        { start: 0, end: 4 },
      ]),
    ).toEqual([
      { text: "abcd", match: true },
      { text: "ef", match: true },
    ]);
    expect(highlightPieces("abc", [])).toEqual([{ text: "abc", match: false }]);
  });
});
