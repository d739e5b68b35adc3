/** Page arithmetic for the explorer: page counts, clamping and the window of page links to show. */

export function pageCount(total: number, pageSize: number): number {
  if (pageSize <= 0) throw new Error(`pageSize must be positive, got ${pageSize}`);
  return Math.max(1, Math.ceil(Math.max(0, total) / pageSize));
}

/** A page number from the URL, clamped into [1, count]; garbage becomes 1. */
export function clampPage(raw: string | number | null | undefined, count: number): number {
  const n = typeof raw === "number" ? raw : Number.parseInt(raw ?? "", 10);
  if (!Number.isFinite(n) || n < 1) return 1;
  return Math.min(Math.floor(n), Math.max(1, count));
}

export type PageItem = number | "gap";

/**
 * Page links around `current`: always the first and last page, `radius` pages either side of the current
 * one, and "gap" where pages are skipped. E.g. (6, 20, 1) -> [1, gap, 5, 6, 7, gap, 20].
 */
export function pageWindow(current: number, count: number, radius = 1): PageItem[] {
  const pages = new Set<number>([1, count]);
  for (let p = current - radius; p <= current + radius; p++) if (p >= 1 && p <= count) pages.add(p);
  const sorted = [...pages].sort((a, b) => a - b);
  const out: PageItem[] = [];
  sorted.forEach((p, i) => {
    if (i > 0) {
      const prev = sorted[i - 1];
      if (p - prev === 2) out.push(prev + 1);
      else if (p - prev > 2) out.push("gap");
    }
    out.push(p);
  });
  return out;
}

/** "51–100 of 6,144" style range text for a page. */
export function rangeText(page: number, pageSize: number, total: number): string {
  if (total <= 0) return "0 of 0";
  const first = (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  return `${first.toLocaleString("en")}–${last.toLocaleString("en")} of ${total.toLocaleString("en")}`;
}
