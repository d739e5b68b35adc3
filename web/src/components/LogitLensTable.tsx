/** Tokens the feature's decoder direction promotes (top) and suppresses (bottom) through the unembedding. */
import { fmtNumber } from "../lib/format";
import { TokenChip } from "./TokenChip";

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
            <span style={{ flex: 1 }}>
              <TokenChip token={r.token} />
            </span>
            <span className="num small muted">{fmtNumber(r.value, 2)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function LogitLensTable({ top, bottom }: { top: readonly TokenValue[]; bottom: readonly TokenValue[] }) {
  return (
    <div className="stack" style={{ gap: "0.4rem" }}>
      <div className="grid-2" data-testid="logit-lens">
        <Column title="Promoted" rows={top} />
        <Column title="Suppressed" rows={bottom} />
      </div>
      <div className="small muted">
        Logit of each token along the decoder direction (final norm weight applied). <span className="tok-mark">␣</span> marks a
        space; <span className="tok-code">e2</span> a byte of a character split across tokens.
      </div>
    </div>
  );
}
