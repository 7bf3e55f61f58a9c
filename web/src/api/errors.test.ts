import { readdirSync, readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { describeReason, WORDS } from "./errors";

/** Every `UPPER_SNAKE` name the protos document in backticks (the reasons RPCs return). */
function documentedReasons(): Set<string> {
  const folder = new URL("../../../proto/vidmesh/v1/", import.meta.url);
  const names = new Set<string>();
  for (const file of readdirSync(folder).filter((name) => name.endsWith(".proto"))) {
    for (const match of readFileSync(new URL(file, folder), "utf8").matchAll(/`([A-Z][A-Z0-9_]+)`/g)) {
      names.add(match[1]!);
    }
  }
  return names;
}

describe("reason words", () => {
  it("exist only for reasons the protos document", () => {
    const documented = documentedReasons();
    expect(documented.size).toBeGreaterThan(50);
    expect(Object.keys(WORDS).filter((reason) => !documented.has(reason))).toEqual([]);
  });

  it("cover the failures a video page shows", () => {
    for (const reason of ["FFMPEG_FAILED", "STALLED", "MAX_DELIVERIES", "UPLOAD_EXPIRED"]) {
      expect(WORDS[reason], reason).toBeTruthy();
    }
  });

  it("fall back to the server's message, then to the reason in words", () => {
    expect(describeReason("SOMETHING_NEW", "The server says so.")).toBe("The server says so.");
    expect(describeReason("SOMETHING_NEW")).toBe("something new");
  });
});
