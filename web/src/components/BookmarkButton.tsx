/** Adds the feature to (or takes it out of) the browser's active bookmark list. */
import { useBookmarks } from "../hooks/useBookmarks";

export function BookmarkButton({ runId, index, label }: { runId: string; index: number; label: string | null | undefined }) {
  const b = useBookmarks();
  const on = b.isBookmarked(runId, index);
  return (
    <span className="row" style={{ gap: "0.3rem" }}>
      <button type="button" className="small" aria-pressed={on} onClick={() => b.toggle({ runId, index, label: label ?? null })} data-testid="bookmark-button">
        <span aria-hidden="true">{on ? "★ " : "☆ "}</span>
        {on ? `In “${b.lists.active}”` : `Bookmark in “${b.lists.active}”`}
      </button>
      {b.error && (
        <span className="small error-text" role="alert">
          {b.error}
        </span>
      )}
    </span>
  );
}
