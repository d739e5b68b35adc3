/** The API token popover: mutations (submit, cancel, relabel) send it as `Authorization: Bearer`. */
import { useState, type FormEvent } from "react";
import { useToken } from "../hooks/useToken";

function KeyIcon({ filled }: { filled: boolean }) {
  return (
    <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2">
      <circle cx="8" cy="15" r="4" fill={filled ? "currentColor" : "none"} />
      <path d="M11 12l9-9M17 6l3 3M15 8l2 2" strokeLinecap="round" />
    </svg>
  );
}

export function TokenSettings() {
  const [token, setToken] = useToken();
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState(token);

  function save(e: FormEvent) {
    e.preventDefault();
    setToken(draft.trim());
    setOpen(false);
  }

  return (
    <>
      <button
        type="button"
        className="icon"
        aria-label="API token"
        title={token ? "API token set" : "Set the API token (needed to submit jobs and relabel)"}
        onClick={() => {
          setDraft(token);
          setOpen((o) => !o);
        }}
      >
        <KeyIcon filled={!!token} />
      </button>
      {open && (
        <form className="popover stack" onSubmit={save} aria-label="API token settings">
          <label className="field">
            API token
            <input
              type="password"
              value={draft}
              autoComplete="off"
              placeholder="printed by the gateway at start"
              onChange={(e) => setDraft(e.target.value)}
            />
          </label>
          <div className="small muted">Stored in this browser only. Needed for jobs and relabelling.</div>
          <div className="row">
            <button type="submit" className="primary">
              Save
            </button>
            <button type="button" onClick={() => setOpen(false)}>
              Close
            </button>
          </div>
        </form>
      )}
    </>
  );
}
