import { pageTitle } from "./pageTitle";

describe("page titles", () => {
  it("joins the page's parts and ends with the app name", () => {
    expect(pageTitle("#12 cats", "run tiny")).toBe("#12 cats · run tiny — saelab");
    expect(pageTitle()).toBe("saelab");
    expect(pageTitle(null, "", false, "Jobs")).toBe("Jobs — saelab");
  });

  it("shortens long parts (a pasted prompt) and folds whitespace", () => {
    const t = pageTitle(`Prompt “${"Once upon a time ".repeat(10)}”`);
    expect(t.length).toBeLessThan(60);
    expect(t).toMatch(/^Prompt “Once upon a time Once.*… — saelab$/);
    expect(pageTitle("a\n\nb")).toBe("a b — saelab");
  });
});
