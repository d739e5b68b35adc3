/** The features of one bookmark list: linked, with the label seen when saved, the run and the date. */
import { Link } from "react-router";
import type { Bookmark } from "../lib/bookmarks";
import { fmtDate } from "../lib/format";
import { featurePath } from "../lib/routes";
import { DataTable } from "./DataTable";

interface Props {
  items: readonly Bookmark[];
  runNames: ReadonlyMap<string, string>;
  onRemove: (b: Bookmark) => void;
}

const COLUMNS = ["Feature", "Label when saved", "Run", { label: "Saved", className: "hide-narrow" }, { label: "Remove", hidden: true }];

export function BookmarkTable({ items, runNames, onRemove }: Props) {
  return (
    <DataTable testId="bookmark-table" columns={COLUMNS}>
      {items.map((b) => (
        <tr key={`${b.runId}/${b.index}`} data-testid="bookmark-row">
          <td className="mono">
            <Link to={featurePath(b.runId, b.index)}>#{b.index}</Link>
          </td>
          <td className="label-cell">{b.label || <span className="muted">unlabelled</span>}</td>
          <td className="small">{runNames.get(b.runId) ?? <span className="mono">{b.runId}</span>}</td>
          <td className="small muted hide-narrow">{fmtDate(b.addedAt)}</td>
          <td>
            <button type="button" className="small" onClick={() => onRemove(b)} aria-label={`Remove #${b.index} from the list`}>
              Remove
            </button>
          </td>
        </tr>
      ))}
    </DataTable>
  );
}
