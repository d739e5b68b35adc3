/** Choose the bookmark list to show and add to, make a new one, or delete one. */
import { useState, type FormEvent } from "react";
import { checkListName, type BookmarkLists } from "../lib/bookmarks";

interface Props {
  lists: BookmarkLists;
  onActive: (name: string) => void;
  onAdd: (name: string) => void;
  onDelete: (name: string) => void;
}

export function BookmarkListPicker({ lists, onActive, onAdd, onDelete }: Props) {
  const [draft, setDraft] = useState("");
  const [error, setError] = useState<string | null>(null);
  function add(e: FormEvent) {
    e.preventDefault();
    const r = checkListName(lists, draft);
    if ("error" in r) return setError(r.error);
    setError(null);
    setDraft("");
    onAdd(r.name);
  }
  const names = Object.keys(lists.lists);
  return (
    <div className="row">
      <label className="row small muted">
        List
        <select value={lists.active} onChange={(e) => onActive(e.target.value)} aria-label="Bookmark list">
          {names.map((n) => (
            <option key={n} value={n}>
              {n} ({lists.lists[n].length})
            </option>
          ))}
        </select>
      </label>
      <button
        type="button"
        className="small danger"
        onClick={() => {
          if (window.confirm(`Delete the list “${lists.active}” and its ${lists.lists[lists.active]?.length ?? 0} bookmarks?`)) onDelete(lists.active);
        }}
      >
        Delete list
      </button>
      <form className="row" onSubmit={add} aria-label="New bookmark list">
        <input value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="New list name" aria-label="New list name" aria-invalid={!!error} />
        <button type="submit" className="small">
          Create list
        </button>
        {error && (
          <span className="small error-text" role="alert">
            {error}
          </span>
        )}
      </form>
    </div>
  );
}
