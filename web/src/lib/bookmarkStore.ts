/** The bookmark lists in localStorage (`saelab.bookmarks`), observable by components and synced across tabs. */
import { parseLists, type BookmarkLists } from "./bookmarks";

const KEY = "saelab.bookmarks";
const listeners = new Set<() => void>();
let cache: { raw: string | null; value: BookmarkLists } | null = null;

function readRaw(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** The current lists (the same object until the stored value changes, as useSyncExternalStore needs). */
export function getBookmarkLists(): BookmarkLists {
  const raw = readRaw();
  if (!cache || cache.raw !== raw) cache = { raw, value: parseLists(raw) };
  return cache.value;
}

/** Store new lists; returns an error message when the browser refuses (storage full or disabled). */
export function saveBookmarkLists(lists: BookmarkLists): string | null {
  let error: string | null = null;
  try {
    localStorage.setItem(KEY, JSON.stringify(lists));
  } catch (err) {
    error = `This browser did not store the bookmarks (${err instanceof Error ? err.message : String(err)}).`;
    console.warn("saelab:", error);
  }
  listeners.forEach((l) => l());
  return error;
}

export function subscribeBookmarks(listener: () => void): () => void {
  listeners.add(listener);
  const onStorage = (e: StorageEvent) => {
    if (e.key === KEY) listener();
  };
  window.addEventListener("storage", onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("storage", onStorage);
  };
}
