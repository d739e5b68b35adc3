/** Copies the page's address (every view is a URL: filters, prompt and shading included). */
import { useCopy } from "../hooks/useCopy";

export function CopyLinkButton() {
  const { copy, status } = useCopy();
  return (
    <span className="row" style={{ gap: "0.3rem" }}>
      <button type="button" className="small" onClick={() => void copy(window.location.href, "Link copied")} data-testid="copy-link">
        Copy link
      </button>
      <span role="status" className={`small ${status && !status.ok ? "error-text" : "muted"}`}>
        {status?.text ?? ""}
      </span>
    </span>
  );
}
