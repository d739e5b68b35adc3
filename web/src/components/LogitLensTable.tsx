/** Tokens the feature's decoder direction promotes (top) and suppresses (bottom) through the unembedding. */
import { displayToken, fmtNumber } from "../lib/format";

interface TokenValue {
  token: string;
  value: number;
}

function Column({ title, rows }: { title: string; rows: readonly TokenValue[] }) {
  return (
    <div>
      <h3>{title}</h3>
      <ul className="plain">
        {rows.map((r, i) => (
          <li key={i}>
            <code style={{ flex: 1 }}>{JSON.stringify(displayToken(r.token)).slice(1, -1)}</code>
            <span className="num small muted">{fmtNumber(r.value, 2)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function LogitLensTable({ top, bottom }: { top: readonly TokenValue[]; bottom: readonly TokenValue[] }) {
  return (
    <div className="grid-2" data-testid="logit-lens">
      <Column title="Promoted" rows={top} />
      <Column title="Suppressed" rows={bottom} />
    </div>
  );
}
