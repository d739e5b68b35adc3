import { describe, expect, it } from "vitest";
import { extractAssetTags, moveAssetsAfterBase } from "./assetsAfterBase";

const BUILT = `<!doctype html>
<html><head>
    <link rel="icon" href="data:image/svg+xml,x" />
    <script>var base = "set here";</script>
    <script type="module" crossorigin src="./assets/index-A.js"></script>
    <link rel="modulepreload" crossorigin href="./assets/graphql-B.js">
    <link rel="stylesheet" crossorigin href="./assets/index-C.css">
  </head><body><div id="root"></div></body></html>`;

describe("moving the asset tags after <base>", () => {
  it("takes out the relative module, preload and stylesheet tags and nothing else", () => {
    const { html, tags } = extractAssetTags(BUILT);
    expect(tags).toEqual([
      { kind: "module", url: "./assets/index-A.js" },
      { kind: "modulepreload", url: "./assets/graphql-B.js" },
      { kind: "stylesheet", url: "./assets/index-C.css" },
    ]);
    expect(html).not.toContain("./assets/");
    expect(html).toContain('rel="icon"');
    expect(html).toContain('var base = "set here"');
  });

  it("adds them from a script placed after the base script, stylesheet first and entry module last", () => {
    const out = moveAssetsAfterBase(BUILT);
    expect(out.indexOf("./assets/index-C.css")).toBeGreaterThan(out.indexOf('var base = "set here"'));
    expect(out.indexOf("./assets/index-C.css")).toBeLessThan(out.indexOf("./assets/index-A.js"));
    expect(out).not.toMatch(/<(script|link)[^>]*(src|href)="\.\/assets/);
    // the loader really creates the elements when run
    const script = /<script>\s*\/\/ Assets are added[\s\S]*?<\/script>/.exec(out)![0].replace(/<\/?script>/g, "");
    const added: { tag: string; url: string; rel?: string; type?: string }[] = [];
    const fakeDocument = {
      createElement: (tag: string) => ({ tag } as Record<string, string>),
      head: { appendChild: (el: Record<string, string>) => added.push({ tag: el.tag, url: el.src ?? el.href, rel: el.rel, type: el.type }) },
    };
    new Function("document", script)(fakeDocument);
    expect(added).toEqual([
      { tag: "link", url: "./assets/index-C.css", rel: "stylesheet", type: undefined },
      { tag: "link", url: "./assets/graphql-B.js", rel: "modulepreload", type: undefined },
      { tag: "script", url: "./assets/index-A.js", rel: undefined, type: "module" },
    ]);
  });

  it("refuses HTML without an entry module (a changed build must not ship without its app)", () => {
    expect(() => moveAssetsAfterBase("<html><head></head></html>")).toThrow(/no \.\/assets entry/);
  });
});
