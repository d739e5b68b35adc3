import { addList, checkListName, deleteList, emptyLists, isBookmarked, parseLists, removeBookmark, setActiveList, toggleBookmark } from "./bookmarks";

const T = "2025-12-06T10:00:00.000Z";

describe("bookmark lists", () => {
  it("toggles a feature in the active list and survives a save/load round trip", () => {
    let l = emptyLists();
    l = toggleBookmark(l, { runId: "r1", index: 7, label: "cats" }, T);
    expect(isBookmarked(l, "r1", 7)).toBe(true);
    expect(isBookmarked(l, "r2", 7)).toBe(false);
    const back = parseLists(JSON.stringify(l));
    expect(back).toEqual(l);
    l = toggleBookmark(back, { runId: "r1", index: 7, label: "cats" }, T);
    expect(isBookmarked(l, "r1", 7)).toBe(false);
  });

  it("keeps named lists apart; new lists become active; deleting falls back", () => {
    let l = toggleBookmark(emptyLists(), { runId: "r", index: 1, label: null }, T);
    l = addList(l, "punctuation");
    expect(l.active).toBe("punctuation");
    l = toggleBookmark(l, { runId: "r", index: 2, label: null }, T);
    expect(l.lists.punctuation.map((b) => b.index)).toEqual([2]);
    expect(l.lists.Bookmarks.map((b) => b.index)).toEqual([1]);
    l = removeBookmark(l, "Bookmarks", "r", 1);
    expect(l.lists.Bookmarks).toEqual([]);
    l = deleteList(l, "punctuation");
    expect(l.active).toBe("Bookmarks");
    expect(Object.keys(l.lists)).toEqual(["Bookmarks"]);
    expect(Object.keys(deleteList(l, "Bookmarks").lists)).toEqual(["Bookmarks"]); // the last one stays, emptied
    expect(setActiveList(l, "nope")).toBe(l);
  });

  it("checks list names", () => {
    const l = emptyLists();
    expect(checkListName(l, "  mine ")).toEqual({ name: "mine" });
    expect(checkListName(l, " ")).toHaveProperty("error");
    expect(checkListName(l, "Bookmarks")).toHaveProperty("error");
    expect(checkListName(l, "x".repeat(61))).toHaveProperty("error");
  });

  it("reads damaged storage as empty lists and drops bad entries", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(parseLists("{not json")).toEqual(emptyLists());
    expect(parseLists(JSON.stringify({ version: 9 }))).toEqual(emptyLists());
    expect(warn).toHaveBeenCalledTimes(2);
    const mixed = parseLists(JSON.stringify({ version: 1, active: "gone", lists: { a: [{ runId: "r", index: 1, addedAt: T }, { runId: 3 }, { runId: "r", index: -1, addedAt: T }] } }));
    expect(mixed).toEqual({ version: 1, active: "a", lists: { a: [{ runId: "r", index: 1, label: null, addedAt: T }] } });
    warn.mockRestore();
  });
});
