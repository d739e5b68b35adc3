/** The features of one bookmark list: linked, with the label seen when saved, the run and the date. */
import { Link } from "react-router";
import type { Bookmark } from "../lib/bookmarks";
import { fmtDate } from "../lib/format";
import { featurePath } from "../lib/routes";

interface Props {
  items: readonly Bookmark[];
  runNames: ReadonlyMap<string, string>;
  onRemove: (b: Bookmark) => void;
}

export function BookmarkTable({ items, runNames, onRemove }: Props) {
  return (
    <div className="table-wrap">
      <table data-testid="bookmark-table">
        <thead>
          <tr>
            <th>Feature</th>
            <th>Label when saved</th>
            <th>Run</th>
            <th className="hide-narrow">Saved</th>
            <th>
              <span className="sr-only">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
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
        </tbody>
      </table>
    </div>
  );
}
