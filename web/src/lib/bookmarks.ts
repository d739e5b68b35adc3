/**
 * Feature bookmarks kept in this browser: named lists of (run, feature) with the label seen when saved. Pure
 * operations on the stored value; `bookmarkStore.ts` persists it in localStorage.
 */

export interface Bookmark {
  runId: string;
  index: number;
  /** The feature's label when it was saved (shown without a request; the feature page has the current one). */
  label: string | null;
  /** ISO time it was saved. */
  addedAt: string;
}

export interface BookmarkLists {
  version: 1;
  /** The list the bookmark button adds to. */
  active: string;
  lists: Record<string, Bookmark[]>;
}

export const DEFAULT_LIST = "Bookmarks";
export const MAX_LIST_NAME = 60;

export function emptyLists(): BookmarkLists {
  return { version: 1, active: DEFAULT_LIST, lists: { [DEFAULT_LIST]: [] } };
}

function isBookmark(v: unknown): v is Bookmark {
  const b = v as Bookmark;
  return !!b && typeof b.runId === "string" && Number.isInteger(b.index) && b.index >= 0 && typeof b.addedAt === "string";
}

/** Stored JSON -> lists; anything unreadable becomes empty lists (a warning names why), bad entries are dropped. */
export function parseLists(raw: string | null): BookmarkLists {
  if (!raw) return emptyLists();
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    console.warn("saelab: stored bookmarks are not JSON; starting with empty lists");
    return emptyLists();
  }
  const o = v as Partial<BookmarkLists>;
  if (!o || o.version !== 1 || typeof o.lists !== "object" || o.lists === null) {
    console.warn("saelab: stored bookmarks have an unknown format; starting with empty lists");
    return emptyLists();
  }
  const lists: Record<string, Bookmark[]> = {};
  for (const [name, items] of Object.entries(o.lists))
    if (Array.isArray(items)) lists[name] = items.filter(isBookmark).map((b) => ({ runId: b.runId, index: b.index, label: b.label ?? null, addedAt: b.addedAt }));
  if (!Object.keys(lists).length) lists[DEFAULT_LIST] = [];
  const active = typeof o.active === "string" && o.active in lists ? o.active : Object.keys(lists)[0];
  return { version: 1, active, lists };
}

const same = (b: Bookmark, runId: string, index: number) => b.runId === runId && b.index === index;

export function isBookmarked(l: BookmarkLists, runId: string, index: number, list = l.active): boolean {
  return (l.lists[list] ?? []).some((b) => same(b, runId, index));
}

/** Add the feature to `list` (default: the active one), or take it out when it is there. */
export function toggleBookmark(l: BookmarkLists, b: Omit<Bookmark, "addedAt">, now: string, list = l.active): BookmarkLists {
  const items = l.lists[list] ?? [];
  const next = items.some((x) => same(x, b.runId, b.index))
    ? items.filter((x) => !same(x, b.runId, b.index))
    : [...items, { ...b, addedAt: now }];
  return { ...l, lists: { ...l.lists, [list]: next } };
}

export function removeBookmark(l: BookmarkLists, list: string, runId: string, index: number): BookmarkLists {
  return { ...l, lists: { ...l.lists, [list]: (l.lists[list] ?? []).filter((b) => !same(b, runId, index)) } };
}

/** A list name after trimming, or an error message naming the problem. */
export function checkListName(l: BookmarkLists, raw: string): { name: string } | { error: string } {
  const name = raw.trim();
  if (!name) return { error: "A list needs a name." };
  if (name.length > MAX_LIST_NAME) return { error: `A list name has at most ${MAX_LIST_NAME} characters.` };
  if (name in l.lists) return { error: `There is already a list called “${name}”.` };
  return { name };
}

/** A new empty list, made the active one. */
export function addList(l: BookmarkLists, name: string): BookmarkLists {
  return { ...l, active: name, lists: { ...l.lists, [name]: [] } };
}

/** Delete a list; the last list cannot go (it is emptied instead). */
export function deleteList(l: BookmarkLists, name: string): BookmarkLists {
  const { [name]: _gone, ...rest } = l.lists;
  void _gone;
  if (!Object.keys(rest).length) return { ...l, lists: { [name]: [] } };
  return { ...l, active: l.active === name ? Object.keys(rest)[0] : l.active, lists: rest };
}

export function setActiveList(l: BookmarkLists, name: string): BookmarkLists {
  return name in l.lists ? { ...l, active: name } : l;
}
