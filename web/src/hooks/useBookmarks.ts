/** The browser's bookmark lists as React state, with the operations the pages use (saved at once). */
import { useCallback, useState, useSyncExternalStore } from "react";
import { getBookmarkLists, saveBookmarkLists, subscribeBookmarks } from "../lib/bookmarkStore";
import { addList, deleteList, isBookmarked, removeBookmark, setActiveList, toggleBookmark, type Bookmark, type BookmarkLists } from "../lib/bookmarks";

export function useBookmarks() {
  const lists = useSyncExternalStore(subscribeBookmarks, getBookmarkLists);
  const [error, setError] = useState<string | null>(null);
  const save = useCallback((change: (l: BookmarkLists) => BookmarkLists) => setError(saveBookmarkLists(change(getBookmarkLists()))), []);
  return {
    lists,
    error,
    isBookmarked: (runId: string, index: number) => isBookmarked(lists, runId, index),
    toggle: (b: Omit<Bookmark, "addedAt">) => save((l) => toggleBookmark(l, b, new Date().toISOString())),
    remove: (list: string, runId: string, index: number) => save((l) => removeBookmark(l, list, runId, index)),
    addList: (name: string) => save((l) => addList(l, name)),
    deleteList: (name: string) => save((l) => deleteList(l, name)),
    setActive: (name: string) => save((l) => setActiveList(l, name)),
  };
}
