/** `/bookmarks` Feature lists kept in this browser: switch, create and delete lists, open, remove and export features. */
import { BookmarkListPicker } from "../components/BookmarkListPicker";
import { BookmarkTable } from "../components/BookmarkTable";
import { CopyLinkButton } from "../components/CopyLinkButton";
import { EmptyState } from "../components/EmptyState";
import { useBookmarks } from "../hooks/useBookmarks";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useRuns } from "../hooks/useRuns";
import { toCsv } from "../lib/csv";
import { downloadText, fileSafe } from "../lib/download";
import { fmtDate } from "../lib/format";
import { pageTitle } from "../lib/pageTitle";

export function BookmarksPage() {
  const b = useBookmarks();
  const { runs } = useRuns();
  const items = b.lists.lists[b.lists.active] ?? [];
  useDocumentTitle(pageTitle("Bookmarks", b.lists.active));
  const runNames = new Map((runs ?? []).map((r) => [r.id, r.name]));

  function exportList(format: "csv" | "json") {
    const name = `saelab-bookmarks-${fileSafe(b.lists.active)}`;
    if (format === "json")
      downloadText(`${name}.json`, "application/json", `${JSON.stringify({ format: "saelab-bookmarks/1", list: b.lists.active, exportedAt: new Date().toISOString(), bookmarks: items }, null, 2)}\n`);
    else
      downloadText(
        `${name}.csv`,
        "text/csv;charset=utf-8",
        toCsv(
          [
            { name: "runId", value: (x: (typeof items)[number]) => x.runId },
            { name: "index", value: (x) => x.index },
            { name: "label", value: (x) => x.label },
            { name: "addedAt", value: (x) => x.addedAt },
          ],
          items,
        ),
      );
  }

  return (
    <div className="stack" data-testid="bookmarks-page">
      <div className="page-head">
        <h1>Bookmarks</h1>
        <span className="small muted">Kept in this browser only (localStorage); export a list to share or keep it.</span>
      </div>
      <BookmarkListPicker lists={b.lists} onActive={b.setActive} onAdd={b.addList} onDelete={b.deleteList} />
      {b.error && (
        <div className="error-text small" role="alert">
          {b.error}
        </div>
      )}
      <div className="panel">
        {items.length === 0 ? (
          <EmptyState title={`“${b.lists.active}” is empty`}>Open a feature and press “Bookmark” to add it to this list.</EmptyState>
        ) : (
          <div className="stack">
            <div className="row small">
              <span className="muted">
                {items.length} feature{items.length === 1 ? "" : "s"}, last saved {fmtDate(items.at(-1)!.addedAt)}
              </span>
              <button type="button" className="small" onClick={() => exportList("csv")}>
                Export CSV
              </button>
              <button type="button" className="small" onClick={() => exportList("json")}>
                Export JSON
              </button>
              <CopyLinkButton />
            </div>
            <BookmarkTable items={items} runNames={runNames} onRemove={(x) => b.remove(b.lists.active, x.runId, x.index)} />
          </div>
        )}
      </div>
    </div>
  );
}
