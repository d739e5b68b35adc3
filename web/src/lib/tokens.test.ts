import { tokenLabel, tokenParts } from "./tokens";

describe("token display", () => {
  it("marks leading and inner spaces, newlines and tabs", () => {
    expect(tokenLabel(" cat")).toBe("␣cat");
    expect(tokenLabel("  said")).toBe("␣␣said");
    expect(tokenLabel("\n\n")).toBe("↵↵");
    expect(tokenLabel("\tx")).toBe("⇥x");
    expect(tokenParts(" cat")).toEqual([
      { kind: "space", text: "␣", meaning: "space" },
      { kind: "text", text: "cat" },
    ]);
  });

  it("shows the server's byte fallbacks as bytes, not as a literal backslash string", () => {
    const parts = tokenParts("\\xe2\\x80");
    expect(parts.map((p) => [p.kind, p.text])).toEqual([["byte", "e2"], ["byte", "80"]]);
    expect(tokenLabel(" \\x99")).toBe("␣[99]");
    // a backslash that is not a byte escape stays text
    expect(tokenLabel("\\n")).toBe("\\n");
  });

  it("names characters that would draw as nothing or as a box by code point", () => {
    expect(tokenLabel("a\u200bb")).toBe("a[U+200B]b"); // zero-width space
    expect(tokenLabel("\u00a0")).toBe("[U+00A0]"); // no-break space, looks like a space
    expect(tokenLabel("\u0007")).toBe("[U+0007]"); // control
    expect(tokenLabel("\ue000")).toBe("[U+E000]"); // private use
    expect(tokenLabel("\u0301e")).toBe("[U+0301]e"); // a combining mark with nothing to combine with
    expect(tokenLabel("é")).toBe("é");
    expect(tokenLabel("日本")).toBe("日本");
    expect(tokenLabel("😀")).toBe("😀");
    expect(tokenLabel("")).toBe("(empty)");
  });
});
