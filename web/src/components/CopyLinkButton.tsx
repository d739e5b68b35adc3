/** Copies the page's address (every view is a URL: filters, prompt and shading included). */
import { useCopy } from "../hooks/useCopy";
import { CopyStatus } from "./CopyStatus";

export function CopyLinkButton() {
  const { copy, status } = useCopy();
  return (
    <span className="row" style={{ gap: "0.3rem" }}>
      <button type="button" className="small" onClick={() => void copy(window.location.href, "Link copied")} data-testid="copy-link">
        Copy link
      </button>
      <CopyStatus status={status} />
    </span>
  );
}
