/** Page links (first, last, neighbours of the current page) with previous/next and the visible range. */
import { pageCount, pageWindow, rangeText } from "../lib/pagination";

interface Props {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
}

export function Pagination({ page, pageSize, total, onPage }: Props) {
  const count = pageCount(total, pageSize);
  return (
    <nav className="pagination" aria-label="Pages">
      <span className="muted small" data-testid="page-range">
        {rangeText(page, pageSize, total)}
      </span>
      <button type="button" onClick={() => onPage(page - 1)} disabled={page <= 1} aria-label="Previous page">
        ‹
      </button>
      {pageWindow(page, count, 1).map((p, i) =>
        p === "gap" ? (
          <span key={`gap-${i}`} className="muted">
            …
          </span>
        ) : (
          <button
            key={p}
            type="button"
            onClick={() => onPage(p)}
            aria-current={p === page ? "page" : undefined}
            aria-label={`Page ${p}`}
          >
            {p}
          </button>
        ),
      )}
      <button type="button" onClick={() => onPage(page + 1)} disabled={page >= count} aria-label="Next page">
        ›
      </button>
    </nav>
  );
}
