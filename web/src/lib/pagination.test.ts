import { clampPage, pageCount, pageWindow, rangeText } from "./pagination";

describe("pagination", () => {
  it("counts pages, with one page for an empty result", () => {
    expect(pageCount(0, 50)).toBe(1);
    expect(pageCount(50, 50)).toBe(1);
    expect(pageCount(51, 50)).toBe(2);
    expect(pageCount(6144, 50)).toBe(123);
    expect(() => pageCount(10, 0)).toThrow(/pageSize/);
  });

  it("clamps URL page numbers into range", () => {
    expect(clampPage("3", 10)).toBe(3);
    expect(clampPage("99", 10)).toBe(10);
    expect(clampPage("0", 10)).toBe(1);
    expect(clampPage("abc", 10)).toBe(1);
    expect(clampPage(null, 10)).toBe(1);
  });

  it("shows first, last and the current page's neighbours with gaps", () => {
    expect(pageWindow(6, 20)).toEqual([1, "gap", 5, 6, 7, "gap", 20]);
    expect(pageWindow(1, 20)).toEqual([1, 2, "gap", 20]);
    expect(pageWindow(20, 20)).toEqual([1, "gap", 19, 20]);
    expect(pageWindow(1, 1)).toEqual([1]);
  });

  it("fills a single skipped page instead of a gap", () => {
    expect(pageWindow(4, 10)).toEqual([1, 2, 3, 4, 5, "gap", 10]);
  });

  it("describes the visible range", () => {
    expect(rangeText(2, 50, 6144)).toBe("51–100 of 6,144");
    expect(rangeText(123, 50, 6144)).toBe("6,101–6,144 of 6,144");
    expect(rangeText(1, 50, 0)).toBe("0 of 0");
  });
});
