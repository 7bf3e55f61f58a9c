import { describe, expect, it } from "vitest";

import { formText } from "./forms";

describe("formText", () => {
  it("reads text fields and treats missing or file fields as empty", () => {
    const form = new FormData();
    form.set("title", "A trip");
    form.set("file", new Blob(["x"]), "x.vtt");
    expect(formText(form, "title")).toBe("A trip");
    expect(formText(form, "missing")).toBe("");
    expect(formText(form, "file")).toBe("");
  });
});
