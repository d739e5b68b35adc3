/** Export the explorer's whole filtered list (every page, not just the one shown) as CSV or JSON. */
import { useState } from "react";
import type { FeatureFilter, FeatureSort, SortOrder } from "../gql/graphql";
import { useFeatureListExport } from "../hooks/useFeatureListExport";
import { downloadText, fileSafe } from "../lib/download";
import { listCsv, listJson } from "../lib/featureExport";

interface Props {
  runId: string;
  sort: FeatureSort;
  order: SortOrder;
  filter: FeatureFilter | null;
  maxPageSize?: number | null;
}

export function ExportListButtons({ runId, sort, order, filter, maxPageSize }: Props) {
  const { fetchAll, progress, error } = useFeatureListExport();
  const [busy, setBusy] = useState(false);

  async function run(format: "csv" | "json") {
    setBusy(true);
    const rows = await fetchAll({ runId, sort, order, filter, maxPageSize });
    setBusy(false);
    if (!rows) return;
    const name = `saelab-${fileSafe(runId)}-features`;
    if (format === "csv") downloadText(`${name}.csv`, "text/csv;charset=utf-8", listCsv(rows));
    else downloadText(`${name}.json`, "application/json", listJson(rows, { runId, url: window.location.href, query: { sort, order, filter } }));
  }

  return (
    <span className="row" style={{ gap: "0.3rem" }}>
      <button type="button" className="small" disabled={busy} onClick={() => void run("csv")}>
        Export CSV
      </button>
      <button type="button" className="small" disabled={busy} onClick={() => void run("json")}>
        Export JSON
      </button>
      <span role="status" className={`small ${error ? "error-text" : "muted"}`}>
        {error ?? (progress ? `fetching ${progress.done.toLocaleString("en")} / ${progress.total.toLocaleString("en")}…` : "")}
      </span>
    </span>
  );
}
